// The real Tauri window through tauri-driver + WebKitWebDriver (W3C WebDriver, spoken with
// fetch). Shared by the desktop smoke test and the desktop benchmark.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import { repo, screenshotDir } from './harness.mjs';

export const desktopBin = process.env.BALAI_DESKTOP_BIN ?? join(repo, 'target', 'debug', 'balai-desktop');
const driverBin = process.env.TAURI_DRIVER ?? 'tauri-driver';

export function freePort() {
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

/** Starts tauri-driver with `env` added to what the app will see; resolves to { base, stop }. */
export async function startDriver(env = {}) {
  const port = await freePort();
  const nativePort = await freePort();
  // Its own process group: the app it starts (through WebKitWebDriver) is stopped with it, so
  // no window outlives the run holding its output open.
  const child = spawn(driverBin, ['--port', String(port), '--native-port', String(nativePort)], {
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, ...env },
  });
  // Both ports must accept connections before a session can start (build-notes).
  await waitForPort(port);
  await waitForPort(nativePort);
  return {
    base: `http://127.0.0.1:${port}`,
    stop() {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    },
  };
}

/** One WebDriver session: the app started with `args`. */
export class Window {
  static async open(base, args) {
    const w = new Window(base);
    const created = await w.wd('POST', '/session', {
      capabilities: {
        alwaysMatch: { browserName: 'wry', 'tauri:options': { application: desktopBin, args } },
      },
    });
    w.id = created.sessionId;
    return w;
  }

  constructor(base) {
    this.base = base;
    this.id = null;
  }

  async wd(method, path, body) {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${JSON.stringify(json.value)}`);
    return json.value;
  }

  s(path) {
    return `/session/${this.id}${path}`;
  }

  async close() {
    if (this.id) await this.wd('DELETE', `/session/${this.id}`).catch(() => {});
  }

  /** The element matching a CSS selector, or an XPath when it starts with `/`. */
  async find(css, ms = 15_000, every = 200) {
    const until = Date.now() + ms;
    let last;
    const using = css.startsWith('/') ? 'xpath' : 'css selector';
    while (Date.now() < until) {
      try {
        const el = await this.wd('POST', this.s('/element'), { using, value: css });
        return Object.values(el)[0];
      } catch (e) {
        last = e;
        await new Promise((r) => setTimeout(r, every));
      }
    }
    throw last;
  }

  async textOf(css) {
    return this.wd('GET', this.s(`/element/${await this.find(css)}/text`));
  }

  async waitForText(css, text, ms = 15_000, every = 200) {
    const until = Date.now() + ms;
    let seen = '';
    while (Date.now() < until) {
      try {
        seen = await this.textOf(css);
        if (seen.includes(text)) return seen;
      } catch { /* not there yet */ }
      await new Promise((r) => setTimeout(r, every));
    }
    throw new Error(`"${text}" not in ${css} (saw "${seen}")`);
  }

  async type(css, text) {
    const el = await this.find(css);
    await this.wd('POST', this.s(`/element/${el}/clear`), {});
    await this.wd('POST', this.s(`/element/${el}/value`), { text });
  }

  async click(css) {
    await this.wd('POST', this.s(`/element/${await this.find(css)}/click`), {});
  }

  async screenshot(name) {
    const b64 = await this.wd('GET', this.s('/screenshot'));
    mkdirSync(screenshotDir, { recursive: true });
    writeFileSync(join(screenshotDir, `${name}.png`), Buffer.from(b64, 'base64'));
  }
}
