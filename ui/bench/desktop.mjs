// The register's window, measured as a clerk meets it, with a big register (issue 3 targets):
//  1. keystroke to rendered results: Debian's Chromium on `balai serve`, one key at a time;
//  2. the real Tauri window (tauri-driver + WebKitWebDriver under Xvfb): launch to a usable
//     login form, login to the first results, and the resident memory of its processes.
// Run by `cargo xtask bench` with release binaries (BALAI_BIN, BALAI_DESKTOP_BIN) under
// xvfb-run; writes target/bench/ui.json, which xtask puts into BENCHMARKS.md. Not a test: it
// reports figures and asserts only that what it measured is what the app showed.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { balaiBin, launchBrowser, login, repo, startServer } from '../e2e/harness.mjs';
import { desktopBin, startDriver, Window } from '../e2e/webdriver.mjs';

const residents = Number(process.env.BENCH_RESIDENTS ?? 100_000);
// What clerks type: first names, a name and a surname, an apostrophe, NIK and KK prefixes.
const queries = ['siti', 'budi santoso', "ma'ruf", 'wahyu wij', 'sri lestari', 'agus', 'dewi k', 'eko pra', '18720401', '1872044', 'nur hid'];
const rounds = 3;

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const round1 = (x) => Math.round(x * 10) / 10;

/** What the search page will show for `q`: the NIK column of its rows. */
async function expected(url, token, q) {
  const args = { q, rt: null, rw: null, sex: null, status: null, min_age: null, max_age: null, limit: 50 };
  const res = await fetch(`${url}api/residents.search`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify(args),
  });
  if (!res.ok) throw new Error(`search ${q}: ${res.status}`);
  return (await res.json()).map((h) => h.nik);
}

async function keystrokes() {
  const server = await startServer({ residents });
  const browser = await launchBrowser();
  try {
    const page = await (await browser.newContext({ viewport: { width: 1366, height: 768 } })).newPage();
    await page.goto(server.url);
    await login(page, 'petugas', 'demo-petugas');
    const box = page.getByLabel('Cari penduduk');
    await box.waitFor();
    const res = await fetch(`${server.url}api/auth.login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'petugas', password: 'demo-petugas' }),
    });
    const token = (await res.json()).token;
    // The clock starts when the key goes down in the page.
    await page.evaluate(() => {
      document.getElementById('search-box').addEventListener('keydown', () => { window.__t0 = performance.now(); }, true);
    });
    const shown = () => page.evaluate(() => [...document.querySelectorAll('#search-results tbody tr')].map((r) => r.cells[0].textContent));
    const settle = async (want) => {
      const until = Date.now() + 10_000;
      while (JSON.stringify(await shown()) !== JSON.stringify(want)) {
        if (Date.now() > until) throw new Error('the page never showed the expected results');
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const painted = [];
    const dom = [];
    let unchanged = 0;
    for (let round = 0; round < rounds; round++) {
      for (const q of queries) {
        await box.fill('');
        let current = await expected(server.url, token, '');
        await settle(current);
        for (let i = 1; i <= q.length; i++) {
          const want = await expected(server.url, token, q.slice(0, i));
          if (JSON.stringify(want) === JSON.stringify(current)) {
            // Nothing on screen would change: type it, but there is no render to time.
            await page.keyboard.type(q[i - 1]);
            await settle(want);
            unchanged++;
            continue;
          }
          await page.evaluate((want) => {
            const tbody = document.querySelector('#search-results tbody');
            const matches = () => {
              const rows = tbody.rows;
              return rows.length === want.length && [...rows].every((r, i) => r.cells[0].textContent === want[i]);
            };
            window.__lat = new Promise((resolve) => {
              const obs = new MutationObserver(() => {
                if (!matches()) return;
                obs.disconnect();
                const inDom = performance.now() - window.__t0;
                // The frame that shows it: after the next animation frame has been produced.
                requestAnimationFrame(() => setTimeout(() => resolve({ inDom, painted: performance.now() - window.__t0 }), 0));
              });
              obs.observe(tbody, { childList: true, subtree: true, characterData: true });
            });
          }, want);
          await page.keyboard.type(q[i - 1]);
          const t = await page.evaluate(() => window.__lat);
          painted.push(t.painted);
          dom.push(t.inDom);
          current = want;
        }
      }
    }
    return {
      keystrokes_timed: painted.length,
      keystrokes_unchanged: unchanged,
      keystroke_ms_p50: round1(quantile(painted, 0.5)),
      keystroke_ms_p95: round1(quantile(painted, 0.95)),
      keystroke_ms_p99: round1(quantile(painted, 0.99)),
      keystroke_ms_max: round1(Math.max(...painted)),
      keystroke_dom_ms_p50: round1(quantile(dom, 0.5)),
    };
  } finally {
    await browser.close();
    server.stop();
  }
}

/** Resident memory (MiB) of `pid` and of the processes it started, from /proc. */
function memory(pid) {
  const status = (p) => readFileSync(`/proc/${p}/status`, 'utf8');
  const kib = (text, key) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(text)?.[1] ?? 0);
  const children = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return /PPid:\s+(\d+)/.exec(status(p))[1] === String(pid);
    } catch {
      return false;
    }
  });
  const app = status(pid);
  const kids = children.map((p) => ({ name: /Name:\s+(\S+)/.exec(status(p))[1], rss: kib(status(p), 'VmRSS') }));
  return {
    app_rss_mib: round1(kib(app, 'VmRSS') / 1024),
    app_peak_mib: round1(kib(app, 'VmHWM') / 1024),
    webkit_rss_mib: round1(kids.reduce((a, k) => a + k.rss, 0) / 1024),
    webkit_processes: kids.map((k) => k.name),
  };
}

function desktopPid() {
  for (const p of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')[0] === desktopBin) return Number(p);
    } catch { /* gone */ }
  }
  throw new Error('balai-desktop is not running');
}

// The search page has answered: a row, or the message that nothing matches.
const answered = "//tr[@data-testid='search-hit'] | //p[normalize-space()='Tidak ada penduduk yang cocok.']";

async function desktop() {
  const dir = mkdtempSync(join(tmpdir(), 'balai-bench-desktop-'));
  const db = join(dir, 'office.sqlite');
  execFileSync(balaiBin, ['--db', db, 'demo', 'seed', '--residents', String(residents)], { stdio: 'ignore' });
  const driver = await startDriver({ BALAI_DB: db });
  const launches = [];
  let after = null;
  try {
    for (let run = 0; run < 3; run++) {
      const t0 = performance.now();
      const win = await Window.open(driver.base, ['--db', db]);
      // Usable: the login form is there with the office's name, read from the database.
      await win.waitForText('main.login', 'Kelurahan Yosorejo', 15_000, 10);
      launches.push(performance.now() - t0);
      if (run === 2) {
        const t1 = performance.now();
        await win.type('#login-username', 'petugas');
        await win.type('#login-password', 'demo-petugas');
        await win.click('button[type="submit"]');
        await win.type('#search-box', 'siti');
        await win.find(answered, 15_000, 10);
        const loginToResults = performance.now() - t1;
        for (const q of queries) {
          await win.type('#search-box', q);
          await win.find(answered, 15_000, 10).catch((e) => {
            throw new Error(`no results for "${q}" in the window: ${e.message}`);
          });
        }
        after = { login_to_results_ms: Math.round(loginToResults), ...memory(desktopPid()) };
      }
      await win.close();
    }
  } finally {
    driver.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    launch_ms_median: Math.round(quantile(launches, 0.5)),
    launch_ms_each: launches.map(Math.round),
    ...after,
  };
}

const out = { residents, ...(await keystrokes()) };
if (process.env.DISPLAY) Object.assign(out, await desktop());
else out.desktop = 'not measured: no display (run under xvfb-run)';
mkdirSync(join(repo, 'target', 'bench'), { recursive: true });
writeFileSync(join(repo, 'target', 'bench', 'ui.json'), JSON.stringify(out, null, 2));
console.log(JSON.stringify(out, null, 2));
