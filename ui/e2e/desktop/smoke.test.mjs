// The real Tauri window under Xvfb, driven through tauri-driver + WebKitWebDriver (W3C
// WebDriver, spoken with fetch). Run by `cargo xtask test`, which starts Xvfb and passes
// BALAI_DESKTOP_BIN (the built balai-desktop) and BALAI_BIN.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { balaiBin, repo, screenshotDir, startKota } from '../harness.mjs';
import { startCups } from '../cups.mjs';

const desktopBin = process.env.BALAI_DESKTOP_BIN ?? join(repo, 'target', 'debug', 'balai-desktop');
const driverBin = process.env.TAURI_DRIVER ?? 'tauri-driver';

function freePort() {
  return new Promise((ok) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function waitForPort(port, ms = 20_000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise((res) => {
      const c = net.connect(port, '127.0.0.1', () => { c.end(); res(true); });
      c.on('error', () => res(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} did not open in ${ms} ms`);
}

let driver, dir, base, session, cups, kota, nik, db;

async function wd(method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${JSON.stringify(json.value)}`);
  return json.value;
}

const s = (path) => `/session/${session}${path}`;

/** The element matching a CSS selector, or an XPath when it starts with `/`. */
async function find(css, ms = 15_000) {
  const until = Date.now() + ms;
  let last;
  const using = css.startsWith('/') ? 'xpath' : 'css selector';
  while (Date.now() < until) {
    try {
      const el = await wd('POST', s('/element'), { using, value: css });
      return Object.values(el)[0];
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw last;
}

async function textOf(css) {
  return wd('GET', s(`/element/${await find(css)}/text`));
}

async function waitForText(css, text, ms = 15_000) {
  const until = Date.now() + ms;
  let seen = '';
  while (Date.now() < until) {
    try {
      seen = await textOf(css);
      if (seen.includes(text)) return seen;
    } catch { /* not there yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`"${text}" not in ${css} (saw "${seen}")`);
}

async function type(css, text) {
  const el = await find(css);
  await wd('POST', s(`/element/${el}/clear`), {});
  await wd('POST', s(`/element/${el}/value`), { text });
}

async function click(css) {
  await wd('POST', s(`/element/${await find(css)}/click`), {});
}

async function screenshot(name) {
  const b64 = await wd('GET', s('/screenshot'));
  mkdirSync(screenshotDir, { recursive: true });
  writeFileSync(join(screenshotDir, `${name}.png`), Buffer.from(b64, 'base64'));
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'balai-desktop-'));
  db = join(dir, 'office.sqlite');
  execFileSync(balaiBin, ['--db', db, 'demo', 'seed', '--residents', '20'], { stdio: 'ignore' });
  const hits = JSON.parse(execFileSync(balaiBin, ['--db', db, '--json', 'residents', 'search', '187', '--limit', '20']).toString());
  nik = hits.find((h) => h.status === 'hidup').nik;
  cups = await startCups('Kantor');
  // Enrolled before the window opens; the window's background sync pushes every 2 s.
  kota = await startKota();
  execFileSync(balaiBin, ['--db', db, 'sync', 'enrol', '--server', kota.url, '--code', kota.code()], { stdio: 'ignore' });
  const port = await freePort();
  const nativePort = await freePort();
  // Its own process group: the app it starts (through WebKitWebDriver) is stopped with it, so
  // no window outlives the suite holding this runner's output open.
  driver = spawn(driverBin, ['--port', String(port), '--native-port', String(nativePort)], {
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, BALAI_DB: db, CUPS_SERVER: cups.server, BALAI_SYNC_INTERVAL_S: '2' },
  });
  // Both ports must accept connections before a session can start (build-notes).
  await waitForPort(port);
  await waitForPort(nativePort);
  base = `http://127.0.0.1:${port}`;
  const created = await wd('POST', '/session', {
    capabilities: {
      alwaysMatch: { browserName: 'wry', 'tauri:options': { application: desktopBin, args: ['--db', db] } },
    },
  });
  session = created.sessionId;
});

after(async () => {
  if (session) await wd('DELETE', `/session/${session}`).catch(() => {});
  if (driver?.pid) {
    try {
      process.kill(-driver.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await cups?.stop();
  kota?.stop();
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
    const value = await wd('GET', s(`/element/${code}/property/value`));
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
});
