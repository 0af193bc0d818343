// The office profile through the browser UI against the real core and a real database.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { balaiBin, launchBrowser, login, screenshot, startServer } from '../harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  server?.stop();
});

async function newPage(width = 1366, height = 768) {
  const context = await browser.newContext({ viewport: { width, height }, locale: 'id-ID' });
  const page = await context.newPage();
  await page.goto(server.url);
  return page;
}

describe('first start', () => {
  it('a freshly installed office is set up from the window: profile and first admin, every error under its field', async () => {
    const fresh = await startServer({ seed: false });
    try {
      const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'id-ID' });
      const page = await context.newPage();
      await page.goto(fresh.url);
      const form = page.getByTestId('setup-form');
      await form.getByRole('heading', { name: 'Penyiapan kantor' }).waitFor();
      // Required fields' labels end in " *".
      const fill = async (label, value) => form.getByLabel(new RegExp(`^${label}( \\*)?$`)).fill(value);
      for (const [label, value] of [
        ['Kode provinsi', '18'], ['Nama provinsi', 'Lampung'], ['Kode kota/kabupaten', '18.72'],
        ['Nama kota/kabupaten', 'Kota Metro'], ['Kode kecamatan', '18.72.04'], ['Nama kecamatan', 'Metro Timur'],
        ['Kode kelurahan', '18.72.04.10'], ['Nama kelurahan', 'Yosorejo'], ['Alamat kantor', 'Jl. Ahmad Yani No. 1'],
      ]) await fill(label, value);
      await fill('Nama pengguna', 'bu.sari');
      await fill('Nama lengkap', 'Sari Wulandari');
      await fill('Kata sandi', 'rahasia-kantor-1');
      await fill('Ulangi kata sandi', 'rahasia-kantor-2');
      await form.getByRole('button', { name: 'Siapkan kantor' }).click();
      await form.locator('[data-field-error="password_again"]').filter({ hasText: 'Kedua kata sandi tidak sama.' }).waitFor();
      await fill('Ulangi kata sandi', 'rahasia-kantor-1');
      await form.getByRole('button', { name: 'Siapkan kantor' }).click();
      // The server's own check, under its field; nothing stored.
      await form.locator('[data-field-error="kelurahan_code"]').waitFor();
      await screenshot(page, 'setup-1366x768');
      const before = JSON.parse(execFileSync(balaiBin, ['--db', fresh.db, '--json', 'call', 'app.info']).toString());
      assert.equal(before.has_users, false);
      await fill('Kode kelurahan', '18.72.04.1004');
      await form.getByRole('button', { name: 'Siapkan kantor' }).click();
      // Signed in as the new admin, who is asked to write down the recovery key.
      await page.getByTestId('office-name').filter({ hasText: 'Kelurahan Yosorejo' }).waitFor();
      await page.getByTestId('recovery-notice').waitFor();
      await page.getByRole('button', { name: 'Keluar' }).click();
      await login(page, 'bu.sari', 'rahasia-kantor-1');
      await page.getByTestId('office-name').filter({ hasText: 'Kelurahan Yosorejo' }).waitFor();
      await context.close();
    } finally {
      fresh.stop();
    }
  });
});

describe('login', () => {
  it('refuses a wrong password in Indonesian and admits the right one', async () => {
    const page = await newPage();
    await screenshot(page, 'login-1366x768');
    await login(page, 'admin', 'salah-sekali');
    await page.getByRole('alert').filter({ hasText: 'Nama pengguna atau kata sandi salah.' }).waitFor();
    await login(page, 'admin', 'demo-admin');
    await page.getByTestId('office-name').filter({ hasText: 'Kelurahan Yosorejo' }).waitFor();
    await screenshot(page, 'home-1366x768');
    await page.context().close();
  });
});

describe('database key', () => {
  it('the admin is shown the recovery key once, and it opens the database on an account without its key', async () => {
    const page = await newPage();
    await login(page, 'admin', 'demo-admin');
    await page.getByTestId('office-name').filter({ hasText: 'Kelurahan Yosorejo' }).waitFor();
    // This run keeps keys in files (harness): the admin is warned that this is weaker.
    await page.getByTestId('key-file-warning').waitFor();
    await page.getByRole('button', { name: 'Tampilkan kunci pemulihan (sekali saja)' }).click();
    const key = (await page.getByTestId('recovery-key').textContent()).trim();
    assert.match(key, /^([0-9A-HJKMNP-TV-Z]{4}-){13}[0-9A-HJKMNP-TV-Z]{4}$/);
    await screenshot(page, 'recovery-key-1366x768');
    const done = page.getByRole('button', { name: 'Selesai' });
    assert.equal(await done.isDisabled(), true, 'not before the admin says it is written down');
    await page.getByLabel('Saya sudah mencatat kunci ini').check();
    await done.click();
    await page.getByTestId('recovery-notice').waitFor({ state: 'detached' });
    // Shown once: after a reload there is no button to show it again.
    await page.reload();
    await login(page, 'admin', 'demo-admin');
    await page.getByTestId('key-file-warning').waitFor();
    assert.equal(await page.getByTestId('recovery-notice').count(), 0);
    // What was shown is the database's key: another account's key store takes it and opens it.
    const keys = mkdtempSync(join(tmpdir(), 'balai-other-account-'));
    const env = { ...process.env, BALAI_KEY_STORE: `file:${keys}` };
    execFileSync(balaiBin, ['--db', server.db, 'key', 'recover'], { env, input: key });
    const profile = JSON.parse(execFileSync(balaiBin, ['--db', server.db, '--json', 'profile', 'show'], { env }).toString());
    assert.equal(profile.profile.kelurahan_name, 'Yosorejo');
    await page.context().close();
  });
});

describe('backups', () => {
  it('the admin makes a backup and restores it from the page; work done after it is gone, the state before kept', async () => {
    const page = await newPage();
    await login(page, 'admin', 'demo-admin');
    await page.getByRole('link', { name: 'Cadangan' }).click();
    await page.getByRole('heading', { name: 'Cadangan basis data' }).waitFor();
    await page.getByRole('button', { name: 'Buat cadangan sekarang' }).click();
    await page.getByRole('status').filter({ hasText: 'dibuat' }).waitFor();
    const rows = page.locator('section[aria-labelledby="backup-title"] tbody tr');
    assert.equal(await rows.count(), 1);
    // Work after the backup (a script adds a user).
    execFileSync(balaiBin, ['--db', server.db, 'users', 'add', '--username', 'setelah', '--full-name', 'Sesudah Cadangan', '--role', 'petugas', '--password', 'rahasia-panjang'], { stdio: 'ignore' });
    await rows.first().getByRole('button', { name: 'Pulihkan' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Keadaan sekarang disimpan dulu').waitFor();
    await screenshot(page, 'backup-restore-1366x768');
    // Escape cancels; nothing restored.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await rows.first().getByRole('button', { name: 'Pulihkan' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Ya, pulihkan' }).click();
    // Every session ended: the login screen; the user added after the backup is gone.
    await page.getByLabel('Nama pengguna').waitFor();
    const users = execFileSync(balaiBin, ['--db', server.db, '--json', 'users', 'list']).toString();
    assert.ok(!users.includes('"setelah"'), users);
    await login(page, 'admin', 'demo-admin');
    await page.getByRole('link', { name: 'Cadangan' }).click();
    await page.locator('section[aria-labelledby="backup-title"] tbody tr').nth(1).waitFor();
    assert.equal(await page.locator('tbody tr', { hasText: 'sebelum pemulihan' }).count(), 1);
    await page.context().close();
  });
});

describe('a damaged database at start', () => {
  it('is set aside, the backup restored and the work since taken over from the damaged file', async () => {
    const damaged = await startServer({
      residents: 300,
      prepare(db) {
        execFileSync(balaiBin, ['--db', db, 'backup', 'create'], { stdio: 'ignore' });
        execFileSync(balaiBin, ['--db', db, 'users', 'add', '--username', 'setelah', '--full-name', 'Sesudah Cadangan', '--role', 'petugas', '--password', 'rahasia-panjang'], { stdio: 'ignore' });
        // One page in the middle of the file no longer passes its check (a bad disk sector).
        const bytes = readFileSync(db);
        const page = Math.floor(bytes.length / 4096 / 2);
        bytes[page * 4096 + 200] ^= 0xff;
        writeFileSync(db, bytes);
      },
    });
    try {
      const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'id-ID' });
      const page = await context.newPage();
      await page.goto(damaged.url);
      await login(page, 'admin', 'demo-admin');
      const notice = page.getByTestId('recovery-at-start');
      await notice.getByRole('heading', { name: 'Basis data rusak ditemukan saat mulai' }).waitFor();
      await notice.getByText('disisihkan (tidak dihapus)').waitFor();
      await notice.getByText('Cadangan terbaru yang utuh').waitFor();
      const taken = await page.getByTestId('recovery-taken-over').textContent();
      assert.match(taken, /diambil kembali yang masih terbaca/);
      assert.doesNotMatch(taken, / 0 data kantor lainnya/, 'the user added after the backup');
      await screenshot(page, 'recovered-at-start-1366x768');
      // The user added after the backup is back; the damaged file is kept beside the database.
      const users = execFileSync(balaiBin, ['--db', damaged.db, '--json', 'users', 'list']).toString();
      assert.ok(users.includes('"setelah"'), users);
      const aside = readdirSync(dirname(damaged.db)).filter((n) => n.includes('.rusak-'));
      assert.ok(aside.length >= 1, String(aside));
      await context.close();
    } finally {
      damaged.stop();
    }
  });
});

describe('office profile', () => {
  it('an invalid NIP shows the Indonesian error and saves nothing; a valid edit survives a reload', async () => {
    const page = await newPage();
    await login(page, 'admin', 'demo-admin');
    await page.getByRole('link', { name: 'Profil kantor' }).click();
    await page.getByRole('heading', { name: 'Profil kantor' }).waitFor();

    // A signatory with a 17-digit NIP is refused field by field. The demo office has its
    // signatories; the table loads after the heading, so they are waited for before counting.
    await page.locator('section[aria-labelledby="sig-title"] tbody tr').first().waitFor();
    const rowsBefore = await page.locator('section[aria-labelledby="sig-title"] tbody tr').count();
    await page.getByRole('button', { name: 'Tambah penanda tangan' }).click();
    await page.getByLabel('Nama lengkap').fill('Pelaksana Harian Contoh');
    await page.getByLabel('Kedudukan').selectOption('plh');
    await page.getByLabel('Jabatan tertulis').fill('Lurah Yosorejo');
    await page.getByLabel('NIP').fill('19900101201501100');
    await page.getByLabel('Pangkat/golongan').fill('Penata Muda (III/a)');
    await page.getByRole('button', { name: 'Simpan penanda tangan' }).click();
    const nipError = page.locator('[data-field-error="nip"]');
    await nipError.waitFor();
    assert.equal(await nipError.textContent(), 'NIP harus 18 angka.');
    await screenshot(page, 'profile-error-1366x768');
    assert.equal(await page.locator('section[aria-labelledby="sig-title"] tbody tr').count(), rowsBefore);

    // The office address is changed and saved.
    await page.getByLabel('Alamat kantor').fill('Jl. Percobaan No. 7, Yosorejo');
    await page.getByLabel('Telepon').fill('0725 777888');
    await page.locator('form[aria-labelledby="profile-title"]').getByRole('button', { name: 'Simpan', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Profil kantor tersimpan.' }).waitFor();

    // An invalid kelurahan code is refused and the stored profile is untouched.
    await page.getByLabel('Kode kelurahan').fill('18.72.04.10');
    await page.locator('form[aria-labelledby="profile-title"]').getByRole('button', { name: 'Simpan', exact: true }).click();
    await page.locator('[data-field-error="kelurahan_code"]').waitFor();

    // The emblem (SVG) is uploaded and shown in the header; a GIF is refused in Indonesian.
    await page.getByLabel('Lambang daerah (PNG atau SVG)').setInputFiles({
      name: 'lambang.gif', mimeType: 'image/gif', buffer: Buffer.from('GIF89a-not-an-emblem'),
    });
    await page.getByRole('alert').filter({ hasText: 'Lambang harus berkas PNG atau SVG.' }).waitFor();
    await page.getByLabel('Lambang daerah (PNG atau SVG)').setInputFiles({
      name: 'lambang.svg', mimeType: 'image/svg+xml',
      buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><circle cx="20" cy="20" r="18" fill="#0b6e4f"/></svg>'),
    });
    await page.getByRole('status').filter({ hasText: 'Lambang tersimpan.' }).waitFor();
    await page.locator('header img.emblem').waitFor();

    await page.reload();
    await login(page, 'admin', 'demo-admin');
    await page.locator('header img.emblem').waitFor();
    await page.getByRole('link', { name: 'Profil kantor' }).click();
    assert.equal(await page.getByLabel('Alamat kantor').inputValue(), 'Jl. Percobaan No. 7, Yosorejo');
    assert.equal(await page.getByLabel('Telepon').inputValue(), '0725 777888');
    assert.equal(await page.getByLabel('Kode kelurahan').inputValue(), '18.72.04.1004');
    await screenshot(page, 'profile-1366x768');

    // The idle lock is a setting the admin changes here; out-of-range values are refused.
    const idle = page.getByRole('textbox', { name: 'Kunci otomatis setelah tidak aktif (menit)' });
    await idle.fill('0');
    await page.locator('form[aria-labelledby="idle-title"]').getByRole('button', { name: 'Simpan' }).click();
    await page.getByRole('alert').filter({ hasText: 'Di luar rentang yang diizinkan' }).waitFor();
    await idle.fill('15');
    await page.locator('form[aria-labelledby="idle-title"]').getByRole('button', { name: 'Simpan' }).click();
    await page.getByRole('status').filter({ hasText: 'Pengaturan tersimpan.' }).waitFor();
    await page.context().close();
  });

  it('a clerk sees the profile but cannot change it, and has no users or audit menu', async () => {
    const page = await newPage();
    await login(page, 'petugas', 'demo-petugas');
    await page.getByRole('link', { name: 'Profil kantor' }).click();
    await page.getByText('Hanya admin yang dapat mengubah profil kantor.').waitFor();
    assert.equal(await page.getByLabel('Nama kelurahan').isDisabled(), true);
    assert.equal(await page.getByRole('button', { name: 'Simpan', exact: true }).count(), 0);
    assert.equal(await page.getByRole('link', { name: 'Pengguna' }).count(), 0);
    assert.equal(await page.getByRole('link', { name: 'Jejak audit' }).count(), 0);
    // The office's signing key, made at setup, is shown and downloadable for the city.
    const key = page.getByTestId('signing-key');
    await key.waitFor();
    const publicHex = (await key.locator('td').nth(1).textContent()).trim();
    assert.match(publicHex, /^[0-9a-f]{64}$/);
    const href = await key.getByRole('link', { name: 'Unduh kunci publik' }).getAttribute('href');
    const file = JSON.parse(decodeURIComponent(href.split(',')[1]));
    assert.equal(file.public_hex, publicHex);
    assert.equal(file.kelurahan_code, '18.72.04.1004');
    await page.context().close();
  });

  it('switches to English and back', async () => {
    const page = await newPage();
    await login(page, 'lurah', 'demo-lurah');
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('link', { name: 'Office profile' }).waitFor();
    await page.getByRole('button', { name: 'Bahasa Indonesia' }).click();
    await page.getByRole('link', { name: 'Profil kantor' }).waitFor();
    await page.context().close();
  });
});

describe('users and audit', () => {
  it('an admin adds a clerk who can then log in, and the audit chain verifies', async () => {
    const page = await newPage(1920, 1080);
    await login(page, 'admin', 'demo-admin');
    await page.getByRole('link', { name: 'Pengguna' }).click();
    const form = page.locator('form[aria-labelledby="users-add"]');
    await form.getByLabel('Nama pengguna').fill('petugas2');
    await form.getByLabel('Nama lengkap').fill('Petugas Kedua');
    await form.getByLabel('Kata sandi awal').fill('pendek');
    await form.getByRole('button', { name: 'Tambah pengguna' }).click();
    await page.locator('[data-field-error="password"]').filter({ hasText: 'Kata sandi minimal 8 karakter.' }).waitFor();
    await form.getByLabel('Kata sandi awal').fill('cukup-panjang');
    await form.getByRole('button', { name: 'Tambah pengguna' }).click();
    await page.getByRole('cell', { name: 'petugas2' }).waitFor();
    await screenshot(page, 'users-1920x1080');

    await page.getByRole('link', { name: 'Jejak audit' }).click();
    await page.getByRole('button', { name: 'Periksa keutuhan' }).click();
    await page.getByRole('status').filter({ hasText: 'Jejak audit utuh' }).waitFor();
    await screenshot(page, 'audit-1920x1080');
    await page.getByRole('button', { name: 'Keluar' }).click();
    await login(page, 'petugas2', 'cukup-panjang');
    await page.getByText('Petugas Kedua').first().waitFor();
    await page.context().close();
  });
});
