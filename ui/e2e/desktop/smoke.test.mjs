// The real Tauri window under Xvfb, driven through tauri-driver + WebKitWebDriver
// (../webdriver.mjs). Run by `cargo xtask test`, which starts Xvfb and passes
// BALAI_DESKTOP_BIN (the built balai-desktop) and BALAI_BIN.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { balaiBin, startKeyring, startKota } from '../harness.mjs';
import { startCups } from '../cups.mjs';
import { startDriver, Window } from '../webdriver.mjs';

let driver, dir, win, cups, kota, nik, db, keyring;
const find = (css) => win.find(css);
const waitForText = (css, text) => win.waitForText(css, text);
const type = (css, text) => win.type(css, text);
const click = (css) => win.click(css);
const screenshot = (name) => win.screenshot(name);

before(async () => {
  // The window and the CLI keep the database key in gnome-keyring, as on an office desktop.
  keyring = await startKeyring();
  dir = mkdtempSync(join(tmpdir(), 'balai-desktop-'));
  db = join(dir, 'office.sqlite');
  execFileSync(balaiBin, ['--db', db, 'demo', 'seed', '--residents', '20'], { stdio: 'ignore' });
  const info = JSON.parse(execFileSync(balaiBin, ['--db', db, '--json', 'call', 'app.info']).toString());
  assert.equal(info.key_store, 'os', 'the key is in gnome-keyring');
  const hits = JSON.parse(execFileSync(balaiBin, ['--db', db, '--json', 'residents', 'search', '187', '--limit', '20']).toString());
  // A list masks the NIK; the record has it.
  const hit = hits.find((h) => h.status === 'hidup');
  nik = JSON.parse(execFileSync(balaiBin, ['--db', db, '--json', 'residents', 'show', hit.id]).toString()).resident.nik;
  cups = await startCups('Kantor');
  // Enrolled before the window opens; the window's background sync pushes every 2 s.
  kota = await startKota();
  execFileSync(balaiBin, ['--db', db, 'sync', 'enrol', '--server', kota.url, '--code', kota.code()], { stdio: 'ignore' });
  driver = await startDriver({ BALAI_DB: db, CUPS_SERVER: cups.server, BALAI_SYNC_INTERVAL_S: '2' });
  win = await Window.open(driver.base, ['--db', db]);
});

after(async () => {
  await win?.close();
  driver?.stop();
  await cups?.stop();
  kota?.stop();
  keyring?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('desktop window', () => {
  it('starts, logs in and shows the office profile', async () => {
    await waitForText('main.login', 'Kelurahan Yosorejo');
    await screenshot('desktop-login-1366x768');
    await type('#login-username', 'admin');
    await type('#login-password', 'demo-admin');
    await click('button[type="submit"]');
    const office = await waitForText('[data-testid="office-name"]', 'Kelurahan Yosorejo');
    assert.match(office, /Metro Timur/);
    await click('nav a[href="#/profil"]');
    await waitForText('#profile-title', 'Profil kantor');
    const code = await find('input[name="kelurahan_code"]');
    const value = await win.wd('GET', win.s(`/element/${code}/property/value`));
    assert.equal(value, '18.72.04.1004');
    await screenshot('desktop-profile-1366x768');
  });

  it('pushes the register to the city in the background', async () => {
    const status = () => JSON.parse(execFileSync(balaiBin, ['--db', db, '--json', 'sync', 'status']).toString());
    const until = Date.now() + 30_000;
    let last = status();
    while (last.pending > 0 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 500));
      last = status();
    }
    assert.equal(last.pending, 0, `still waiting: ${JSON.stringify(last)}`);
    assert.ok(last.last_push_ms > 0);
  });

  it('the lurah issues a letter, sees it and prints it on F4', async () => {
    await click("//button[normalize-space()='Keluar']");
    await type('#login-username', 'lurah');
    await type('#login-password', 'demo-lurah');
    await click('button[type="submit"]');
    await click('nav a[href="#/surat"]');
    await type('input[name="people.pemohon"]', nik);
    await type('input[name="fields.keperluan"]', 'melamar pekerjaan');
    await click('form button[type="submit"]');
    const notice = await waitForText('[data-testid="letters-notice"]', 'Surat terbit dengan nomor');
    const number = notice.split('nomor ')[1].trim();
    await waitForText('[data-testid="printer"]', 'Kantor');
    await click('[data-testid="print-letter"]');
    await waitForText('[data-testid="print-status"]', `Terkirim ke printer Kantor · ${number} (F4)`);
    const job = await cups.nextJob();
    assert.ok(job.toString('latin1').includes('%%BoundingBox: 0 0 609 935'), 'an F4 page reached the printer');
    // What the printer received, as a PDF file: its page carries the QR code that verifies.
    writeFileSync(join(dir, 'printed.ps'), job);
    execFileSync('ps2pdf', [join(dir, 'printed.ps'), join(dir, 'printed.pdf')]);
    execFileSync('pdftoppm', ['-r', '200', '-png', '-singlefile', join(dir, 'printed.pdf'), join(dir, 'printed')]);
    const v = JSON.parse(execFileSync(balaiBin, ['--db', db, '--json', 'letters', 'verify', '--image', join(dir, 'printed.png')]).toString());
    assert.equal(v.verdict, 'sah', JSON.stringify(v));
    assert.equal(v.claims.number, number);
    await new Promise((r) => setTimeout(r, 1000));
    await screenshot('desktop-letter-printed-1366x768');
  });

  it('a database whose key this account does not keep opens with the recovery key typed in the window', async () => {
    // Made under another account's key store (key files); the window keeps keys in gnome-keyring.
    const other = { ...process.env, BALAI_KEY_STORE: `file:${join(dir, 'other-account-keys')}` };
    const db2 = join(dir, 'moved.sqlite');
    execFileSync(balaiBin, ['--db', db2, 'demo', 'seed', '--residents', '5'], { env: other, stdio: 'ignore' });
    const shown = JSON.parse(execFileSync(balaiBin, ['--db', db2, '--json', 'key', 'recovery'], { env: other }).toString());
    await win.close();
    win = await Window.open(driver.base, ['--db', db2]);
    await waitForText('[data-testid="recover-form"]', 'kunci pemulihan');
    await screenshot('desktop-recover-key-1366x768');
    // A typo is refused by the key's check, in Indonesian.
    const typo = shown.recovery_key.slice(0, -1) + (shown.recovery_key.endsWith('0') ? '1' : '0');
    await type('#recovery-key', typo);
    await click('[data-testid="recover-form"] button[type="submit"]');
    await waitForText('[data-testid="recover-form"] [role="alert"]', 'salah ketik');
    await win.wd('POST', win.s(`/element/${await find('#recovery-key')}/clear`), {});
    await type('#recovery-key', shown.recovery_key.toLowerCase());
    await click('[data-testid="recover-form"] button[type="submit"]');
    await waitForText('main.login', 'Kelurahan Yosorejo');
    await type('#login-username', 'admin');
    await type('#login-password', 'demo-admin');
    await click('button[type="submit"]');
    await waitForText('[data-testid="office-name"]', 'Kelurahan Yosorejo');
    // From now on this account keeps the key in gnome-keyring: the CLI opens the file with it.
    const info = JSON.parse(execFileSync(balaiBin, ['--db', db2, '--json', 'call', 'app.info']).toString());
    assert.equal(info.key_store, 'os');
    assert.equal(info.kelurahan_name, 'Yosorejo');
  });
});
