// Shapes of balai-app's DTOs as the UI uses them (docs/commands.md lists them all).

export interface Profile {
  province_code: string;
  province_name: string;
  city_code: string;
  city_name: string;
  kecamatan_code: string;
  kecamatan_name: string;
  kelurahan_code: string;
  kelurahan_name: string;
  address: string;
  postal_code: string;
  phone: string;
  email: string;
  website: string;
}

export interface ProfileView {
  profile: Profile | null;
  emblem: { mime: string; sha256: string } | null;
}

export interface Signatory {
  id?: string | null;
  name: string;
  post: 'lurah' | 'sekretaris';
  capacity: 'definitif' | 'plt' | 'plh';
  position: string;
  nip: string;
  rank: string;
  valid_from: string;
  valid_to?: string | null;
}

export interface AppInfo {
  version: string;
  schema_version: number;
  initialized: boolean;
  has_users: boolean;
  kelurahan_name: string | null;
  city_name: string | null;
}

export interface AuditRecord {
  seq: number;
  at: string;
  actor_id: string;
  actor: string;
  action: string;
  entity: string;
  entity_id: string;
  detail: string;
}

export interface VerifyReport {
  ok: boolean;
  entries: number;
  message: string;
}
