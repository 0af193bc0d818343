// Personal data in the browser: a child's record says its opening is audited; a clerk records
// a resident's request, the lurah answers it and holds a record, the admin anonymises what is
// past its retention, and a breach is recorded with its countdown and drafted notices.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { balaiBin, launchBrowser, login, screenshot, startServer } from '../harness.mjs';

let server;
let browser;

const register = [
  'NIK;No KK;Nama Lengkap;Jenis Kelamin;Tempat Lahir;Tanggal Lahir;Agama;Status Perkawinan;SHDK;RT;RW;Golongan Darah',
  '1872040101500002;1872041203159991;Wiryo Sepuh;L;Metro;01-01-1950;Islam;Kawin;Kepala Keluarga;3;2;',
  '1872045508900001;1872041203159991;Sukma Lestari;P;Metro;15-08-1990;Islam;Kawin;Istri;3;2;O+',
  '1872040305150003;1872041203159991;Bagus Kecil;L;Metro;03-05-2015;Islam;Belum Kawin;Anak;3;2;',
].join('\n');

const cli = (...args) => execFileSync(balaiBin, ['--db', server.db, ...args], { encoding: 'utf8' });

before(async () => {
  server = await startServer();
  const file = join(server.db, '..', 'penduduk.csv');
  writeFileSync(file, register);
  cli('residents', 'import', file);
  cli('residents', 'event', '1872040101500002', '--type', 'mati', '--date', '10-02-2012', '--details', 'sakit jantung');
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  server?.stop();
});

async function as(user, password) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'id-ID' });
  const page = await context.newPage();
  await page.goto(server.url);
  await login(page, user, password);
  await page.getByTestId('office-name').filter({ hasText: 'Kelurahan Yosorejo' }).waitFor();
  return page;
}

async function openResident(page, query, name) {
  await page.getByRole('link', { name: 'Cari penduduk' }).click();
  await page.getByLabel('Cari penduduk').fill(query);
  await page.getByTestId('search-hit').filter({ hasText: name }).click();
  await page.getByRole('heading', { name }).waitFor();
}

describe('personal data', () => {
  it('a clerk sees that opening a child or health data is audited and records a request', async () => {
    const page = await as('petugas', 'demo-petugas');
    await openResident(page, 'bagus', 'Bagus Kecil');
    assert.match(await page.getByTestId('res-specific').textContent(), /data anak.*dicatat di log audit/s);
    // The list masks the NIK.
    await page.getByRole('link', { name: 'Cari penduduk' }).click();
    await page.getByLabel('Cari penduduk').fill('sukma');
    const hit = page.getByTestId('search-hit').filter({ hasText: 'Sukma Lestari' });
    assert.match(await hit.textContent(), /1872\*{8}0001/);

    await page.getByRole('link', { name: 'Data pribadi' }).click();
    await page.getByLabel('Pemohon').fill('');
    await page.getByLabel('NIK penduduk (bila ada)').fill('1872045508900001');
    await page.getByRole('button', { name: 'Catat permintaan' }).click();
    await page.locator('[data-field-error="requester"]').filter({ hasText: 'Wajib diisi' }).waitFor();
    await page.getByLabel('Pemohon').fill('Sukma Lestari');
    await page.getByLabel('Isi permintaan').fill('Meminta salinan data dirinya.');
    await page.getByRole('button', { name: 'Catat permintaan' }).click();
    const row = page.getByTestId('subject-request').filter({ hasText: 'Sukma Lestari' });
    await row.filter({ hasText: /7[12] jam lagi/ }).waitFor();
    assert.equal(await row.getByRole('button', { name: 'Kabulkan' }).count(), 0, 'a clerk does not answer');
    assert.equal(await page.getByRole('heading', { name: 'Masa simpan' }).count(), 0);
    await page.context().close();
  });

  it('the lurah answers the request and holds a record past its retention', async () => {
    const page = await as('lurah', 'demo-lurah');
    await page.getByRole('link', { name: 'Data pribadi' }).click();
    const row = page.getByTestId('subject-request').filter({ hasText: 'Sukma Lestari' });
    await row.getByRole('button', { name: 'Kabulkan' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wajib diisi' }).waitFor();
    await row.getByLabel('Jawaban kepada pemohon').fill('Salinan data diberikan langsung.');
    await row.getByRole('button', { name: 'Kabulkan' }).click();
    await row.filter({ hasText: 'Dikabulkan' }).waitFor();
    assert.match(await page.getByTestId('retention-due').textContent(), /1 data lewat masa simpan, 0 ditahan/);
    assert.equal(await page.getByRole('button', { name: 'Anonimkan sekarang' }).count(), 0, 'only the admin anonymises');

    await page.getByTestId('retention-due').locator('..').getByRole('link').first().click();
    await page.getByRole('heading', { name: 'Wiryo Sepuh' }).waitFor();
    await page.locator('summary').filter({ hasText: 'Tahan untuk keperluan hukum' }).click();
    await page.getByLabel('Alasan penahanan').fill('Sengketa waris No. 3/2026');
    await page.getByRole('button', { name: 'Tahan untuk keperluan hukum' }).click();
    assert.match(await page.getByTestId('res-hold').textContent(), /Sengketa waris No\. 3\/2026/);
    await page.getByRole('link', { name: 'Data pribadi' }).click();
    assert.match(await page.getByTestId('retention-due').textContent(), /1 data lewat masa simpan, 1 ditahan/);
    await openResident(page, 'wiryo', 'Wiryo Sepuh');
    await page.getByRole('button', { name: 'Lepaskan penahanan' }).click();
    await page.getByTestId('res-hold').waitFor({ state: 'detached' });
    await page.context().close();
  });

  it('the admin anonymises what is due after confirming, and records a breach with its notices', async () => {
    const page = await as('admin', 'demo-admin');
    await page.getByRole('link', { name: 'Data pribadi' }).click();
    await page.getByRole('button', { name: 'Anonimkan sekarang' }).click();
    await page.getByRole('dialog').waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Anonimkan sekarang' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Anonimkan sekarang' }).click();
    await page.getByRole('status').filter({ hasText: '1 penduduk dan 0 permohonan dianonimkan' }).waitFor();
    // The list is read again after the answer: waited for, not read at once.
    await page.getByTestId('retention-due').filter({ hasText: /^0 data/ }).waitFor();

    await page.getByLabel('Diketahui pada').fill('2026-12-01T09:30');
    await page.getByLabel('Apa yang terjadi').fill('Flashdisk berisi salinan register hilang di ruang pelayanan.');
    await page.getByLabel('Data yang terungkap').fill('nama, NIK dan alamat');
    await page.getByLabel('Perkiraan jumlah warga terdampak').fill('300');
    await page.getByLabel('Penanganan dan pemulihan').fill('Laporan polisi dibuat; kunci basis data diganti.');
    await page.getByRole('button', { name: 'Catat insiden dan mulai hitung mundur' }).click();
    const breach = page.getByTestId('breach').first();
    await breach.waitFor();
    const subjects = await breach.getByLabel('Draf pemberitahuan kepada warga').inputValue();
    assert.match(subjects, /Kelurahan Yosorejo/);
    assert.match(subjects, /nama, NIK dan alamat/);
    assert.match(subjects, /1 Desember 2026 pukul 09\.30 WIB/);
    await breach.locator('h3').scrollIntoViewIfNeeded();
    await page.evaluate(() => window.scrollBy(0, 40));
    await screenshot(page, 'privacy-breach-1366x768');
    await breach.getByRole('button', { name: 'Warga sudah diberi tahu' }).click();
    await breach.filter({ hasText: /Warga sudah diberi tahu: dicatat/ }).waitFor();

    await openResident(page, '', 'ANONIM');
    await page.getByTestId('res-anonymised').waitFor();
    await page.context().close();
  });
});
