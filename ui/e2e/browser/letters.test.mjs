// Letters in the browser: the clerk records a request from the template's form, the lurah
// approves it from the queue and sees the PDF itself, and the QR text verifies.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
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
  // A list masks the NIK; the record has it.
  const hit = hits.find((h) => h.status === 'hidup');
  nik = JSON.parse(execFileSync(balaiBin, ['--db', server.db, '--json', 'residents', 'show', hit.id]).toString()).resident.nik;
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
    // The error goes once the field it was about is changed; the other stays.
    await page.locator('[data-field-error="people.pemohon"]').waitFor({ state: 'detached' });
    assert.equal(await page.locator('[data-field-error="fields.keperluan"]').count(), 1);
    await page.getByLabel('Keperluan').fill('melamar pekerjaan');
    await page.locator('[data-field-error="fields.keperluan"]').waitFor({ state: 'detached' });
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

  it('a printed letter held up to the webcam verifies', async () => {
    // Chromium's fake camera plays a Y4M file: a 1280×720 frame (a webcam) of the printed letter
    // held up close, its QR code in view — the page rendered at 300 dpi in grey, cropped around
    // the QR (found above its caption), the Y plane only.
    const issued = JSON.parse(execFileSync(balaiBin, ['--db', server.db, '--json', 'letters', 'list', '--status', 'terbit']).toString())[0];
    const dir = dirname(server.db);
    const pdf = join(dir, 'kamera.pdf');
    execFileSync(balaiBin, ['--db', server.db, 'letters', 'pdf', issued.id, '--out', pdf]);
    const bbox = execFileSync('pdftotext', ['-bbox', pdf, '-']).toString();
    const [, cx0, cy0] = bbox.match(/xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>Pindai</);
    const [w, h, dpi] = [1280, 720, 300];
    const px = (pt) => Math.round((pt * dpi) / 72);
    const x = Math.max(0, px(Number(cx0) + 38) - w / 2);
    const y = Math.max(0, px(Number(cy0) - 42) - h / 2);
    execFileSync('pdftoppm', ['-r', String(dpi), '-gray', '-singlefile', '-x', String(x), '-y', String(y), '-W', String(w), '-H', String(h), pdf, join(dir, 'kamera')]);
    const pgm = readFileSync(join(dir, 'kamera.pgm'));
    const header = pgm.subarray(0, 40).toString('latin1').match(/^P5\s+\d+\s+\d+\s+255\s/)[0].length;
    const chroma = Buffer.alloc((w / 2) * (h / 2) * 2, 128);
    const y4m = join(dir, 'kamera.y4m');
    writeFileSync(y4m, Buffer.concat([Buffer.from(`YUV4MPEG2 W${w} H${h} F5:1 Ip A1:1 C420jpeg\nFRAME\n`), pgm.subarray(header, header + w * h), chroma]));
    const camBrowser = await launchBrowser(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${y4m}`]);
    try {
      const context = await camBrowser.newContext({ viewport: { width: 1366, height: 768 }, permissions: ['camera'] });
      const page = await context.newPage();
      await page.goto(server.url);
      await login(page, 'petugas', 'demo-petugas');
      await page.getByRole('link', { name: 'Surat' }).click();
      await page.getByRole('tab', { name: 'Verifikasi' }).click();
      await page.getByRole('button', { name: 'Pindai dengan kamera' }).click();
      await page.getByTestId('verdict').filter({ hasText: /^SAH/ }).waitFor({ timeout: 30_000 });
      assert.equal(await page.getByTestId('camera').count(), 0, 'the camera stops once the letter is read');
    } finally {
      await camBrowser.close();
    }
  });
});
