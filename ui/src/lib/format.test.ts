import { describe, expect, it } from 'vitest';
import { dmy, sixteenDigitsProblem } from './format';

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
