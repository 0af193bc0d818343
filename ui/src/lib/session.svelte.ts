// The signed-in session: token, user, lock state. Every call goes through `call`, which keeps
// this state true to what the server answered (a locked or ended session shows at once).

import { ApiError, defaultTransport, type Transport } from './transport';

export interface User {
  id: string;
  username: string;
  full_name: string;
  role: 'admin' | 'lurah' | 'sekretaris' | 'petugas';
  role_label: string;
  active: boolean;
}

export interface LoginOut {
  token: string;
  user: User;
  idle_lock_minutes: number;
}

let transport: Transport = defaultTransport();

export const session = $state({
  token: null as string | null,
  user: null as User | null,
  locked: false,
  idleLockMinutes: 10,
});

export async function call<T>(command: string, args: unknown = {}): Promise<T> {
  try {
    return await transport.call<T>(command, args, session.token);
  } catch (e) {
    if (e instanceof ApiError) {
      if (e.code === 'session_locked') session.locked = true;
      if (e.code === 'unauthenticated' && session.token) {
        session.token = null;
        session.user = null;
      }
    }
    throw e;
  }
}

export async function login(username: string, password: string) {
  startSession(await call<LoginOut>('auth.login', { username, password }));
}

/** Takes the session a login (or the office's first setup) answered with. */
export function startSession(out: LoginOut) {
  session.token = out.token;
  session.user = out.user;
  session.idleLockMinutes = out.idle_lock_minutes;
  session.locked = false;
}

export async function unlock(password: string) {
  await call('auth.unlock', { password });
  session.locked = false;
}

export async function logout() {
  try {
    await call('auth.logout', {});
  } finally {
    session.token = null;
    session.user = null;
    session.locked = false;
  }
}

export function can(...roles: User['role'][]): boolean {
  return !!session.user && roles.includes(session.user.role);
}
