import { describe, expect, it } from 'vitest';
import { dictionaries, errorText, t } from './i18n.svelte';
import { ApiError } from './transport';

describe('i18n', () => {
  it('has every Indonesian key in English too, and no empty text', () => {
    const idKeys = Object.keys(dictionaries.id).sort();
    expect(Object.keys(dictionaries.en).sort()).toEqual(idKeys);
    for (const [k, v] of Object.entries(dictionaries.en)) expect(v, k).not.toBe('');
  });

  it('speaks Indonesian by default', () => {
    expect(t('login.submit')).toBe('Masuk');
    expect(t('login.submit', 'en')).toBe('Sign in');
  });

  it('chooses error texts by code and falls back to the server message', () => {
    const e = new ApiError('invalid_input', 'server text', [{ field: 'nip', code: 'nip_length', message: 'x' }]);
    expect(errorText(e.field('nip')!)).toBe('NIP harus 18 angka.');
    expect(errorText(e.field('nip')!, 'en')).toBe('A NIP has 18 digits.');
    expect(errorText(new ApiError('something_new', 'Pesan dari server'))).toBe('Pesan dari server');
  });
});
