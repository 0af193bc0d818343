// Dates as Indonesian offices write them.

/** `2026-10-05` → `05-10-2026`. */
export function dmy(iso: string | null | undefined): string {
  if (!iso) return '';
  const [y, m, d] = iso.split('-');
  return `${d}-${m}-${y}`;
}

/** The date on this computer's calendar, `YYYY-MM-DD` (not UTC's, which at 06:00 WIB is still
 * yesterday's). */
export function localIsoDate(d: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Only digits, at most 16: what a NIK or No. KK field may hold while typing. */
export function sixteenDigitsProblem(value: string): 'nik_format' | null {
  const v = value.replace(/\s/g, '');
  if (v === '') return null;
  return /^\d{16}$/.test(v) ? null : 'nik_format';
}
