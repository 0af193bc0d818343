// A private CUPS scheduler for the UI suites (as balai-testkit's for the Rust tests): cupsd in
// the foreground on a Unix socket in a temporary directory, never the machine's own CUPS, with
// one printer whose device is a TCP listener here, like a network printer on port 9100. What
// the printer receives is CUPS's PostScript for the cups-pdf PPD (it accepts F4).
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PPD = '/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd';

/** Resolves to { server (CUPS_SERVER), printer, nextJob(): Promise<Buffer>, pageLog(), stop(): Promise }. */
export async function startCups(printer = 'Kantor') {
  const dir = mkdtempSync(join(tmpdir(), 'balai-cups-'));
  for (const sub of ['spool', 'tmp', 'cache', 'state', 'log']) mkdirSync(join(dir, sub));
  // Filters run as the unprivileged `lp` user when the suite runs as root.
  chmodSync(join(dir, 'spool'), 0o1777);
  chmodSync(join(dir, 'tmp'), 0o1777);
  chmodSync(dir, 0o755);
  const socket = join(dir, 'cups.sock');
  const open = '  Order allow,deny\n  Allow all\n';
  writeFileSync(join(dir, 'cupsd.conf'), `Listen ${socket}\nLogLevel info\nWebInterface No\nBrowsing No\nDefaultAuthType None\n`
    + `<Location />\n${open}</Location>\n<Location /admin>\n${open}</Location>\n`
    + `<Policy default>\n  <Limit All>\n${open}  </Limit>\n</Policy>\n`);
  writeFileSync(join(dir, 'cups-files.conf'), `ServerRoot ${dir}\nRequestRoot ${dir}/spool\nTempDir ${dir}/tmp\n`
    + `CacheDir ${dir}/cache\nStateDir ${dir}/state\nErrorLog ${dir}/log/error_log\nAccessLog ${dir}/log/access_log\n`
    + `PageLog ${dir}/log/page_log\nSandboxing Relaxed\n`);
  const daemon = spawn('cupsd', ['-f', '-c', join(dir, 'cupsd.conf'), '-s', join(dir, 'cups-files.conf')], { stdio: 'ignore' });
  for (let i = 0; !existsSync(socket); i++) {
    if (i > 200) throw new Error('cupsd did not start in 20 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  const jobs = [];
  const waiting = [];
  const listener = createServer((conn) => {
    const chunks = [];
    conn.on('data', (c) => chunks.push(c));
    conn.on('end', () => {
      const job = Buffer.concat(chunks);
      if (job.length === 0) return;
      const w = waiting.shift();
      if (w) w(job);
      else jobs.push(job);
    });
  });
  await new Promise((ok) => listener.listen(0, '127.0.0.1', ok));
  const port = listener.address().port;
  const env = { ...process.env, CUPS_SERVER: socket };
  execFileSync('lpadmin', ['-p', printer, '-E', '-v', `socket://127.0.0.1:${port}`, '-P', PPD], { env, stdio: 'ignore' });
  execFileSync('lpadmin', ['-d', printer], { env, stdio: 'ignore' });
  return {
    server: socket,
    printer,
    nextJob() {
      if (jobs.length) return Promise.resolve(jobs.shift());
      return new Promise((ok, fail) => {
        waiting.push(ok);
        setTimeout(() => fail(new Error('the printer received no job in 60 s')), 60_000);
      });
    },
    pageLog() {
      return existsSync(join(dir, 'log', 'page_log')) ? readFileSync(join(dir, 'log', 'page_log'), 'utf8') : '';
    },
    /** Stops cupsd and waits for it to exit before removing its directory. */
    async stop() {
      const exited = new Promise((ok) => (daemon.exitCode !== null ? ok() : daemon.once('exit', ok)));
      daemon.kill();
      listener.close();
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
