// The resident register in the browser: import with rejected rows, search by keyboard, edit
// with an invalid NIK (error shown, nothing saved), record a death.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, login, screenshot, startServer } from '../harness.mjs';

let server;
let browser;
let page;

before(async () => {
  server = await startServer({ residents: 300 });
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  page = await context.newPage();
  await page.goto(server.url);
  await login(page, 'petugas', 'demo-petugas');
  await page.getByLabel('Cari penduduk').waitFor();
});
after(async () => {
  await browser?.close();
  server?.stop();
});

const file = [
  'NIK;No KK;Nama Lengkap;Jenis Kelamin;Tempat Lahir;Tanggal Lahir;Agama;Status Perkawinan;SHDK;RT;RW',
  '1872040101800002;1872041203159991;Wiryo Percobaan;L;Metro;01-01-1980;Islam;Kawin;Kepala Keluarga;3;2',
  '1872045508900001;1872041203159991;Sukma Percobaan;P;Metro;15-08-1990;Islam;Kawin;Istri;3;2',
  '1872040202820003;1872041203159991;Kedua Percobaan;L;Metro;02-02-1982;Islam;Kawin;Kepala Keluarga;3;2',
  '12345;1872041203159991;Salah Percobaan;L;Metro;31-02-1990;Islam;Kawin;Anak;3;2',
].join('\n');

describe('register', () => {
  it('imports a file, showing every rejected row before anything is saved', async () => {
    await page.getByRole('link', { name: 'Impor data' }).click();
    await page.getByLabel('Berkas CSV atau XLSX').setInputFiles({ name: 'penduduk.csv', mimeType: 'text/csv', buffer: Buffer.from(file) });
    const summary = page.getByTestId('import-summary');
    await summary.filter({ hasText: 'belum ada yang disimpan' }).waitFor();
    assert.match(await summary.textContent(), /4 baris dibaca: 2 baru/);
    const rows = page.getByTestId('rejected-rows').locator('tbody tr');
    const text = await rows.allTextContents();
    assert.ok(text.some((r) => r.includes('4') && r.includes('kepala keluarga di baris 2')), text.join('|'));
    assert.ok(text.some((r) => r.includes('5') && r.includes('NIK harus 16 angka')), text.join('|'));
    await screenshot(page, 'import-1366x768');
    await page.getByRole('button', { name: 'Impor sekarang' }).click();
    await summary.filter({ hasText: 'Impor selesai.' }).waitFor();
  });

  it('finds a resident while typing and opens it with the keyboard', async () => {
    await page.getByRole('link', { name: 'Cari penduduk' }).click();
    const box = page.getByLabel('Cari penduduk');
    await box.fill('sukma perc');
    await page.getByTestId('search-hit').filter({ hasText: 'Sukma Percobaan' }).waitFor();
    assert.equal(await page.getByTestId('search-hit').count(), 1);
    await box.press('Enter');
    await page.getByRole('heading', { name: 'Sukma Percobaan' }).waitFor();
    assert.equal(await page.getByTestId('res-nik').textContent(), '1872045508900001');
    await screenshot(page, 'resident-1366x768');
    // Back to search: NIK prefix, arrows and Esc.
    await page.getByRole('link', { name: 'Cari penduduk' }).click();
    await box.fill('187204010180');
    await page.getByTestId('search-hit').filter({ hasText: 'Wiryo Percobaan' }).waitFor();
    await screenshot(page, 'search-1366x768');
    await box.press('Escape');
    assert.equal(await box.inputValue(), '');
  });

  it('an edit with an invalid NIK shows the error and saves nothing', async () => {
    await page.getByLabel('Cari penduduk').fill('wiryo');
    await page.getByTestId('search-hit').first().click();
    await page.getByRole('heading', { name: 'Wiryo Percobaan' }).waitFor();
    await page.getByRole('button', { name: 'Ubah data' }).click();
    const nik = page.locator('input[name="nik"]');
    await nik.fill('187204010180000');
    await page.locator('[data-field-error="nik"]').filter({ hasText: 'NIK harus 16 angka.' }).waitFor();
    await page.getByRole('button', { name: 'Simpan' }).click();
    await page.locator('[data-field-error="nik"]').filter({ hasText: 'NIK harus 16 angka.' }).waitFor();
    await page.reload();
    await login(page, 'petugas', 'demo-petugas');
    // The reloaded page returns to the same resident, read afresh from the database.
    await page.getByRole('heading', { name: 'Wiryo Percobaan' }).waitFor();
    assert.equal(await page.getByTestId('res-nik').textContent(), '1872040101800002');
  });

  it('records a death, which sets the status', async () => {
    await page.getByLabel('Jenis peristiwa').selectOption('mati');
    await page.getByLabel('Keterangan').fill('sakit');
    await page.getByRole('button', { name: 'Catat peristiwa' }).click();
    await page.getByTestId('res-status').filter({ hasText: 'Meninggal' }).waitFor();
  });

  it('shows the report of this month with the death just recorded, and the demographics charts', async () => {
    await page.getByRole('link', { name: 'Laporan' }).click();
    const month = new Date().toISOString().slice(0, 7);
    await page.getByLabel('Bulan').fill(month);
    const deaths = page.getByTestId('monthly-table').locator('tr', { hasText: 'Meninggal' });
    await deaths.locator('td').nth(1).filter({ hasText: '1' }).waitFor();
    assert.ok((await page.locator('figure svg').count()) >= 5);
    await screenshot(page, 'reports-1366x768');
  });

  it('shows how far a large import has got while it runs', async () => {
    // 40,000 synthetic men, each the head of his own family, born on distinct dates.
    const lines = ['NIK;No KK;Nama Lengkap;Jenis Kelamin;Tempat Lahir;Tanggal Lahir;Agama;Status Perkawinan;SHDK;RT;RW'];
    const two = (n) => String(n).padStart(2, '0');
    for (let i = 0; i < 40000; i++) {
      const day = 1 + (i % 28);
      const month = 1 + (Math.floor(i / 28) % 12);
      const year = 1950 + (Math.floor(i / 336) % 50);
      const serial = String(1 + Math.floor(i / 16800)).padStart(4, '0');
      const dmy = two(day) + two(month) + two(year % 100);
      lines.push(`187204${dmy}${serial};187204${dmy}${serial};Warga Besar ${i};L;Metro;${two(day)}-${two(month)}-${year};Islam;Kawin;Kepala Keluarga;${1 + (i % 9)};1`);
    }
    await page.getByRole('link', { name: 'Impor data' }).click();
    await page.getByLabel('Berkas CSV atau XLSX').setInputFiles({ name: 'besar.csv', mimeType: 'text/csv', buffer: Buffer.from(lines.join('\n')) });
    // The check (a dry run) reports its progress: a bar with a value, and the phase in words.
    const running = page.getByTestId('import-progress');
    await running.locator('progress[value]').waitFor();
    assert.match(await running.getByRole('status').textContent(), /Memeriksa dan menyimpan baris: [\d.]+ dari 40\.000|Menyusun indeks|Menyimpan/);
    await screenshot(page, 'import-progress-1366x768');
    const summary = page.getByTestId('import-summary');
    await summary.filter({ hasText: 'belum ada yang disimpan' }).waitFor({ timeout: 60000 });
    // (A few may collide with the demo register's NIKs and be rejected: that is not the point.)
    assert.match(await summary.textContent(), /40000 baris dibaca: 399\d\d baru/);
    await page.getByRole('button', { name: 'Impor sekarang' }).click();
    await running.locator('progress[value]').waitFor();
    await summary.filter({ hasText: 'Impor selesai.' }).waitFor({ timeout: 60000 });
    assert.equal(await running.count(), 0);
  });
});
