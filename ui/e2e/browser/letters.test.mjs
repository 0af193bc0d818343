// Letters in the browser: the clerk records a request from the template's form, the lurah
// approves it from the queue and sees the PDF itself, and the QR text verifies.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { balaiBin, launchBrowser, login, screenshot, startServer } from '../harness.mjs';
import { startCups } from '../cups.mjs';

let server;
let browser;
let cups;
let nik;

before(async () => {
  cups = await startCups('Kantor');
  server = await startServer({ residents: 50, env: { CUPS_SERVER: cups.server } });
  browser = await launchBrowser();
  const hits = JSON.parse(execFileSync(balaiBin, ['--db', server.db, '--json', 'residents', 'search', '187', '--limit', '20']).toString());
  nik = hits.find((h) => h.status === 'hidup').nik;
});
after(async () => {
  await browser?.close();
  server?.stop();
  await cups?.stop();
});

async function as(user, password) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await context.newPage();
  await page.goto(server.url);
  await login(page, user, password);
  await page.getByRole('link', { name: 'Surat' }).click();
  return page;
}

describe('letters', () => {
  it('refuses an incomplete request naming the fields, then records it', async () => {
    const page = await as('petugas', 'demo-petugas');
    await page.getByRole('button', { name: 'Ajukan permohonan' }).click();
    await page.locator('[data-field-error="people.pemohon"]').filter({ hasText: 'Wajib diisi.' }).waitFor();
    await page.locator('[data-field-error="fields.keperluan"]').filter({ hasText: 'Wajib diisi.' }).waitFor();
    await page.getByLabel('Pemohon — NIK').fill(nik);
    await page.getByLabel('Keperluan').fill('melamar pekerjaan');
    await screenshot(page, 'letter-new-1366x768');
    await page.getByRole('button', { name: 'Ajukan permohonan' }).click();
    await page.getByTestId('letters-notice').filter({ hasText: 'Permohonan tercatat' }).waitFor();
    await page.context().close();
  });

  it('the lurah approves from the queue, sees the PDF, and its QR text verifies', async () => {
    const page = await as('lurah', 'demo-lurah');
    await page.getByRole('tab', { name: 'Antrean' }).click();
    const row = page.getByTestId('letter-queue').locator('tbody tr').filter({ hasText: 'SURAT KETERANGAN DOMISILI' });
    await row.first().waitFor();
    await row.first().getByRole('button', { name: 'Setujui dan terbitkan' }).click();
    const notice = page.getByTestId('letters-notice');
    await notice.filter({ hasText: 'Surat terbit dengan nomor' }).waitFor();
    const number = (await notice.textContent()).split('nomor ')[1].trim();
    assert.match(number, /^400\.8\.1\/001\//);
    const src = await page.getByTestId('letter-preview').getAttribute('src');
    assert.ok(src.startsWith('blob:'), src);
    // Printed on the office's default printer with Ctrl+P, on F4 at 100 %.
    await page.getByTestId('printer').locator('option', { hasText: 'Kantor' }).waitFor({ state: 'attached' });
    await page.keyboard.press('Control+p');
    await page.getByTestId('print-status').filter({ hasText: `Terkirim ke printer Kantor · ${number} (F4)` }).waitFor();
    const job = (await cups.nextJob()).toString('latin1');
    assert.ok(job.includes('%%BoundingBox: 0 0 609 935'), 'an F4 page reached the printer');
    await page.waitForTimeout(500);
    await screenshot(page, 'letter-issued-1366x768');
    // The register lists it; verification says valid.
    await page.getByRole('tab', { name: 'Buku agenda' }).click();
    await page.getByRole('button', { name: 'Tampilkan' }).click();
    await page.getByTestId('letter-register').getByText(number).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Unduh XLSX' }).click()]);
    assert.match(download.suggestedFilename(), /^buku-agenda-surat-keluar-\d{4}\.xlsx$/);
    const [pdfDownload] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Unduh PDF' }).click()]);
    assert.match(pdfDownload.suggestedFilename(), /^buku-agenda-surat-keluar-\d{4}\.pdf$/);
    const issued = JSON.parse(execFileSync(balaiBin, ['--db', server.db, '--json', 'letters', 'list', '--status', 'terbit']).toString())[0];
    const payload = issued.qr_payload;
    await page.getByRole('tab', { name: 'Verifikasi' }).click();
    await page.getByLabel('Teks kode QR surat').fill(payload);
    await page.getByRole('button', { name: 'Periksa' }).click();
    await page.getByTestId('verdict').filter({ hasText: 'SAH' }).waitFor();
    await page.getByLabel('Teks kode QR surat').fill(payload.replace('/001/', '/009/'));
    await page.getByRole('button', { name: 'Periksa' }).click();
    await page.getByTestId('verdict').filter({ hasText: 'TIDAK SAH' }).waitFor();
    // A scan of the printed letter, opened as a picture.
    const pdf = join(dirname(server.db), 'surat.pdf');
    execFileSync(balaiBin, ['--db', server.db, 'letters', 'pdf', issued.id, '--out', pdf]);
    execFileSync('pdftoppm', ['-r', '200', '-png', '-singlefile', pdf, join(dirname(server.db), 'scan')]);
    await page.getByLabel('atau buka foto/pindaian surat').setInputFiles(join(dirname(server.db), 'scan.png'));
    await page.getByTestId('verdict').filter({ hasText: /^SAH/ }).waitFor();
    await screenshot(page, 'letter-verify-1366x768');
    await page.context().close();
  });
});
