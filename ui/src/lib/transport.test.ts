import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, HttpTransport } from './transport';

describe('HttpTransport', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('posts the command with the session token and returns the body', async () => {
    const seen: { url: string; init: RequestInit }[] = [];
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      seen.push({ url, init });
      return new Response(JSON.stringify({ ok: true }), { status: 200 });
    });
    const out = await new HttpTransport().call<{ ok: boolean }>('auth.me', {}, 'tok');
    expect(out.ok).toBe(true);
    expect(seen[0].url).toBe('/api/auth.me');
    expect((seen[0].init.headers as Record<string, string>)['Authorization']).toBe('Bearer tok');
  });

  it('turns an error body into an ApiError with its code and fields', async () => {
    vi.stubGlobal('fetch', async () =>
      new Response(
        JSON.stringify({ error: { code: 'invalid_input', message: 'm', fields: [{ field: 'nip', code: 'nip_length', message: 'n' }] } }),
        { status: 422 },
      ),
    );
    const err = (await new HttpTransport().call('signatories.save', {}, 't').catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe('invalid_input');
    expect(err.field('nip')!.code).toBe('nip_length');
  });

  it('reports an unreachable server with its own code', async () => {
    vi.stubGlobal('fetch', async () => {
      throw new TypeError('network');
    });
    const err = (await new HttpTransport().call('app.info', {}, null).catch((e: unknown) => e)) as ApiError;
    expect(err.code).toBe('unreachable');
  });
});
