// How the UI reaches balai-app: one interface, two implementations, chosen at build time.
// Both send a command name and JSON arguments to balai_app::dispatch and get JSON back or an
// ApiError with a stable `code`.

export interface FieldError {
  field: string;
  code: string;
  message: string;
}

export class ApiError extends Error {
  code: string;
  fields: FieldError[];
  constructor(code: string, message: string, fields: FieldError[] = []) {
    super(message);
    this.code = code;
    this.fields = fields;
  }
  /** The error of one field, if any. */
  field(name: string): FieldError | undefined {
    return this.fields.find((f) => f.field === name);
  }
}

export interface Transport {
  call<T>(command: string, args: unknown, token: string | null): Promise<T>;
}

function toApiError(raw: unknown): ApiError {
  const e = (raw ?? {}) as { code?: string; message?: string; fields?: FieldError[] };
  return new ApiError(e.code ?? 'internal', e.message ?? String(raw), e.fields ?? []);
}

/** `balai serve`: POST /api/<command>. */
export class HttpTransport implements Transport {
  constructor(private base = '') {}
  async call<T>(command: string, args: unknown, token: string | null): Promise<T> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (token) headers['Authorization'] = `Bearer ${token}`;
    let res: Response;
    try {
      res = await fetch(`${this.base}/api/${command}`, { method: 'POST', headers, body: JSON.stringify(args ?? {}) });
    } catch {
      throw new ApiError('unreachable', 'Tidak dapat menghubungi Balai.');
    }
    const body = await res.json().catch(() => null);
    if (!res.ok) throw toApiError(body?.error ?? body);
    return body as T;
  }
}

/** The Tauri shell: one `api` command that forwards to dispatch. */
export class TauriTransport implements Transport {
  async call<T>(command: string, args: unknown, token: string | null): Promise<T> {
    const { invoke } = await import('@tauri-apps/api/core');
    try {
      return await invoke<T>('api', { command, args: args ?? {}, token });
    } catch (e) {
      throw toApiError(e);
    }
  }
}

export function defaultTransport(): Transport {
  return import.meta.env.VITE_TRANSPORT === 'tauri' ? new TauriTransport() : new HttpTransport();
}
