import { describe, expect, it, vi } from 'vitest';
import { dmy, localIsoDate, sixteenDigitsProblem } from './format';

describe('format', () => {
  it('writes dates day first', () => {
    expect(dmy('2026-10-05')).toBe('05-10-2026');
    expect(dmy(null)).toBe('');
  });
  it('checks sixteen digits as the clerk types', () => {
    expect(sixteenDigitsProblem('')).toBeNull();
    expect(sixteenDigitsProblem('1872 0455 0890 0001')).toBeNull();
    expect(sixteenDigitsProblem('187204550890000')).toBe('nik_format');
    expect(sixteenDigitsProblem('18720455089000A1')).toBe('nik_format');
  });
});

describe('localIsoDate', () => {
  it('reads the calendar of this computer, not UTC', () => {
    vi.stubEnv('TZ', 'Asia/Jayapura'); // WIT, UTC+9
    try {
      // 07:30 on 1 January in Jayapura: UTC is still on 31 December.
      const morning = new Date(2027, 0, 1, 7, 30);
      expect(morning.toISOString().slice(0, 10)).toBe('2026-12-31');
      expect(localIsoDate(morning)).toBe('2027-01-01');
      expect(localIsoDate(new Date(2026, 11, 31, 23, 59))).toBe('2026-12-31');
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
