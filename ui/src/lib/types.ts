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
  /** Where this PC keeps the database key: `os`, `file` (weaker: warned) or `none`. */
  key_store: 'os' | 'file' | 'none';
  /** The recovery key has not been shown to an admin yet. */
  recovery_key_pending: boolean;
  /** A damaged database found at this start: set aside, the newest whole backup restored. */
  recovery: {
    damage: string;
    set_aside: string;
    restored_from: string | null;
    backup_made_at: string | null;
    taken_over: TakenOver | null;
  } | null;
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

/** A line of `residents.search`: NIK and KK masked (the record has them in full). */
export type ResidentHit = Omit<SearchHit, 'nik' | 'no_kk'> & {
  nik_masked: string;
  no_kk_masked: string | null;
};

/** A resident in `residents.duplicates`, where the numbers are compared in full. */
export interface SearchHit {
  id: string;
  nik: string;
  no_kk: string | null;
  full_name: string;
  sex: 'L' | 'P';
  birth_place: string;
  birth_date: string;
  rt: number;
  rw: number;
  status: 'hidup' | 'mati' | 'pindah' | 'hilang' | 'pergi';
  shdk: number;
}

export interface ResidentData {
  nik: string;
  nik_temporary: boolean;
  no_kk: string;
  full_name: string;
  sex: 'L' | 'P';
  birth_place: string;
  birth_date: string;
  religion: number;
  marital_status: number;
  shdk: number;
  education: number | null;
  occupation: number | null;
  blood_type: number | null;
  citizenship: number;
  disability: number | null;
  mother_nik: string | null;
  mother_name: string;
  father_nik: string | null;
  father_name: string;
  address: string;
  rt: number;
  rw: number;
  lingkungan: string;
  nik_warnings: string[];
  nik_override_reason: string;
}

export interface ResidentView {
  id: string;
  status: SearchHit['status'];
  merged_into: string | null;
  resident: ResidentData;
  labels: Record<string, string>;
  age: number;
  family: {
    id: string;
    no_kk: string;
    address: string;
    heads: number;
    members: { id: string; nik: string; full_name: string; sex: 'L' | 'P'; birth_date: string; shdk_label: string; status: SearchHit['status'] }[];
  } | null;
  events: { id: string; kind: string; event_date: string; details: string; recorded_by: string }[];
  duplicates: { other_id: string; other_name: string; other_nik: string; reason: string }[];
  /** Categories of specific personal data held (`kesehatan`, `disabilitas`, `anak`). */
  specific: string[];
  /** Why the record is held for legal reasons (`privacy.hold`); empty when it is not. */
  legal_hold: string;
}

/** An office letter-signing key's public half (`letters.keys`). */
export interface PublicKey {
  key_id: string;
  public_hex: string;
  created_at: string;
}

/** How far a long command has got (`progress.get`). */
export interface ProgressStep {
  phase: 'reading' | 'rows' | 'indexing' | 'saving' | 'done' | 'failed';
  done: number;
  total: number;
}

export interface ImportReport {
  imported: number;
  updated: number;
  unchanged: number;
  rows: number;
  dry_run: boolean;
  unknown_columns: string[];
  rejected: { line: number; column: string; value: string; code: string; message: string }[];
}

export interface BackupFile {
  name: string;
  path: string;
  bytes: number;
  made_at: string;
  kind: 'manual' | 'daily' | 'before_restore';
}

/** A data subject's request (`privacy.subject_*`). */
export interface SubjectRequest {
  id: string;
  kind: 'akses' | 'perbaikan' | 'keberatan' | 'penghapusan';
  resident_id: string | null;
  requester: string;
  details: string;
  received_at: string;
  due_at: string;
  status: 'diterima' | 'dikabulkan' | 'ditolak';
  outcome: string;
  decided_by: string | null;
  decided_at: string | null;
  recorded_by: string;
  overdue: boolean;
  hours_left: number;
}

/** `privacy.retention`. */
export interface RetentionReport {
  rules_version: string;
  today: string;
  rules: { kind: string; label: string; from: string; years: number; action: string }[];
  due: { kind: string; entity: 'resident' | 'online_request'; id: string; since: string; kept_until: string; held: boolean }[];
}

/** A recorded breach with its deadline and drafted notices (`privacy.breaches`). */
export interface Breach {
  id: string;
  discovered_at: string;
  what_happened: string;
  data_disclosed: string;
  subjects_estimate: number;
  measures: string;
  subjects_notified_at: string | null;
  authority_notified_at: string | null;
  closed_at: string | null;
  recorded_by: string;
  deadline: string;
  hours_left: number;
  late: boolean;
  drafts: { subjects: string; authority: string };
}

/** What a restore took over from the database it replaced (balai_store::salvage). */
export interface TakenOver {
  /** Whether the replaced file could be read at all. */
  opened: boolean;
  letters: number;
  series_forward: number;
  rows: number;
  changes: number;
  queued: number;
  /** Places (table and row numbers) that could not be read: never content. */
  unreadable: string[];
}
