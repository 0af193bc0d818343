// Shared by the browser suite: a real `balai serve` on a random loopback port with a fresh
// demo database, and Debian's Chromium driven by playwright-core.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, '..', '..');
export const balaiBin = process.env.BALAI_BIN ?? join(repo, 'target', 'debug', 'balai');
// docs/screenshots, unless a run is not the one whose pictures the docs show (the installed app).
export const screenshotDir = process.env.BALAI_SCREENSHOT_DIR ?? join(repo, 'docs', 'screenshots');

// Every `balai` of a run (the server and the CLI calls beside it) keeps its database keys in
// key files of the run's own, not in the user's folder; the desktop suite uses a real Secret
// Service instead (startKeyring).
process.env.BALAI_KEY_STORE ??= `file:${mkdtempSync(join(tmpdir(), 'balai-keys-'))}`;

/** A session bus of the run's own with gnome-keyring on it, its keyring in a temporary folder:
 * every process started after this keeps database keys in the operating system's key store.
 * Resolves to { stop }. */
export async function startKeyring() {
  const home = mkdtempSync(join(tmpdir(), 'balai-keyring-'));
  const bus = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const address = await new Promise((ok, fail) => {
    createInterface({ input: bus.stdout }).once('line', ok);
    bus.once('exit', (code) => fail(new Error(`dbus-daemon exited with ${code}`)));
  });
  const env = { ...process.env, HOME: home, XDG_DATA_HOME: join(home, 'data'), XDG_RUNTIME_DIR: home, DBUS_SESSION_BUS_ADDRESS: address };
  execFileSync('gnome-keyring-daemon', ['--unlock', '--components=secrets'], { env, input: 'keyring password', stdio: ['pipe', 'ignore', 'ignore'] });
  process.env.DBUS_SESSION_BUS_ADDRESS = address;
  process.env.BALAI_KEY_STORE = 'os';
  return {
    stop() {
      bus.kill();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Starts `balai serve` on a seeded demo database; resolves to { url, db, stop }. `env` is added
 * to the server's environment (e.g. CUPS_SERVER). */
export async function startServer({ residents = 0, env = {}, prepare, seed = true } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'balai-e2e-'));
  const db = join(dir, 'office.sqlite');
  // Without `seed`: a freshly installed office, no profile and no account.
  if (seed) execFileSync(balaiBin, ['--db', db, 'demo', 'seed', '--residents', String(residents)], { stdio: 'ignore' });
  // What happens to the database before the app starts on it (scripts, damage).
  prepare?.(db);
  const child = spawn(balaiBin, ['--db', db, '--json', 'serve', '--port', '0', '--ui-dir', join(repo, 'ui', 'dist')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const line = await new Promise((ok, fail) => {
    const rl = createInterface({ input: child.stdout });
    rl.once('line', ok);
    child.once('exit', (code) => fail(new Error(`balai serve exited with ${code}`)));
    setTimeout(() => fail(new Error('balai serve did not print its address in 15 s')), 15_000);
  });
  const url = JSON.parse(line).address;
  return {
    url,
    db,
    stop() {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const kotaBin = process.env.BALAI_KOTA_BIN ?? join(dirname(balaiBin), 'balai-kota');

/** Starts a real Balai Kota on a random loopback port with one kelurahan (the demo office's);
 * resolves to { url, code(): one-time enrolment code, addAdmin(name, password), stop }. */
export async function startKota() {
  const dir = mkdtempSync(join(tmpdir(), 'balai-kota-e2e-'));
  const db = join(dir, 'kota.sqlite');
  execFileSync(kotaBin, ['--db', db, 'kelurahan', 'add', '--code', '18.72.04.1004', '--name', 'Yosorejo'], { stdio: 'ignore' });
  const child = spawn(kotaBin, ['--db', db, '--json', 'serve', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise((ok, fail) => {
    const rl = createInterface({ input: child.stdout });
    rl.once('line', ok);
    child.once('exit', (code) => fail(new Error(`balai-kota serve exited with ${code}`)));
    setTimeout(() => fail(new Error('balai-kota serve did not print its address in 15 s')), 15_000);
  });
  return {
    url: JSON.parse(line).address,
    code() {
      return JSON.parse(execFileSync(kotaBin, ['--db', db, '--json', 'enrol', '--kelurahan', '18.72.04.1004']).toString()).code;
    },
    /** Adds a city admin who may open the dashboard at `${url}/admin`. */
    addAdmin(username, password) {
      execFileSync(kotaBin, ['--db', db, 'admin', 'add', '--username', username], { env: { ...process.env, BALAI_KOTA_PASSWORD: password }, stdio: 'ignore' });
    },
    stop() {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium, headless; `extraArgs` e.g. a fake camera. */
export async function launchBrowser(extraArgs = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic', ...extraArgs],
  });
}

export async function login(page, username, password) {
  await page.getByLabel('Nama pengguna').fill(username);
  await page.getByLabel('Kata sandi').fill(password);
  await page.getByRole('button', { name: 'Masuk' }).click();
}

export async function screenshot(page, name) {
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`) });
}
