// Scorecards in the browser: the lurah enters SPBE values and sees the total and band change,
// attaches a photo and a PDF of text as evidence (their thumbnails show), runs the planner to the next band and
// accepts it as a task list; a counter clerk reads the page but cannot change a value.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { deflateSync } from 'node:zlib';
import { balaiBin, launchBrowser, login, screenshot, startServer } from '../harness.mjs';

let server;
let browser;
const year = new Date().getFullYear();

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  // Most of the period entered beforehand from the command line (as a city IT script would):
  // every SPBE indicator at level 3 but the six of aspect 8, which the lurah enters below.
  for (let i = 1; i <= 41; i++) {
    execFileSync(balaiBin, ['--db', server.db, 'contest', 'set', '--period', String(year), '--indicator', `I${i}`, '--value', '3'], { stdio: 'ignore' });
  }
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
  await page.getByRole('link', { name: 'Penilaian' }).click();
  await page.getByTestId('contest-total').waitFor();
  return page;
}

/** A valid grey PNG of w×h pixels (a stand-in for a phone photo of a decree). */
function png(w, h) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const rows = Buffer.alloc((w + 1) * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rows[y * (w + 1) + 1 + x] = (x * 4 + y * 2) & 0xff;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0)),
  ]);
}

const total = async (page) => (await page.getByTestId('contest-total').locator('b').textContent()).trim();

describe('scorecards', () => {
  it('the lurah enters values, sees the band change, adds evidence and plans the way up', async () => {
    const page = await as('lurah', 'demo-lurah');
    // 41 indicators at 3 of 47: 3 × (100 − 18) % = 2,46 — Cukup.
    assert.equal(await total(page), '2,46');
    await page.getByTestId('contest-band').filter({ hasText: 'Cukup' }).waitFor();
    for (let i = 42; i <= 47; i++) {
      await page.getByLabel(`I${i} Nilai`, { exact: true }).selectOption('4');
      await page.getByTestId('contest-notice').filter({ hasText: `I${i}: Tersimpan.` }).waitFor();
    }
    // + six indicators of 3 % at level 4 = 0,72 → 3,18, Baik.
    await page.getByTestId('contest-total').filter({ hasText: '3,18' }).waitFor();
    await page.getByTestId('contest-band').filter({ hasText: 'Baik' }).waitFor();
    await page.getByTestId('contest-next').filter({ hasText: 'Kurang 0,32 lagi menuju Sangat Baik' }).waitFor();

    // A photo of the decree as evidence for I1: its thumbnail appears.
    const photo = join(tmpdir(), `sk-tim-spbe-${process.pid}.png`);
    writeFileSync(photo, png(320, 240));
    await page.locator('tr[data-indicator="I1"] input[type=file]').setInputFiles(photo);
    await page.getByTestId('contest-notice').filter({ hasText: 'I1: Tersimpan.' }).waitFor();
    await page.locator('tr[data-indicator="I1"] img').waitFor();
    // A typed decree saved as PDF (text, no picture) for I2: its first page is the thumbnail.
    const decree = join(tmpdir(), `sk-tim-spbe-${process.pid}.pdf`);
    writeFileSync(decree, textPdf('SURAT KEPUTUSAN LURAH'));
    await page.locator('tr[data-indicator="I2"] input[type=file]').setInputFiles(decree);
    await page.getByTestId('contest-notice').filter({ hasText: 'I2: Tersimpan.' }).waitFor();
    await page.locator('tr[data-indicator="I2"] img').waitFor();

    // The planner: the cheapest way to Sangat Baik, then accepted as tasks.
    await page.getByLabel('Predikat yang dituju').selectOption('Sangat Baik');
    await page.getByRole('button', { name: 'Hitung' }).click();
    await page.getByTestId('plan-result').filter({ hasText: '→ 3,50 (Sangat Baik)' }).waitFor();
    assert.ok((await page.getByTestId('plan-steps').locator('tbody tr').count()) > 0);
    // I32 made dear (effort 1000 per step): the new plan goes round it.
    assert.equal(await page.getByTestId('plan-steps').locator('tbody tr').filter({ hasText: 'I32' }).count(), 1);
    await page.getByLabel('I32 Upaya', { exact: true }).fill('1000');
    await page.getByLabel('I32 Upaya', { exact: true }).press('Tab');
    await page.getByTestId('contest-notice').filter({ hasText: 'I32: Tersimpan.' }).waitFor();
    await page.getByRole('button', { name: 'Hitung' }).click();
    await page.getByTestId('plan-result').filter({ hasText: '→ 3,50 (Sangat Baik)' }).waitFor();
    assert.equal(await page.getByTestId('plan-steps').locator('tbody tr').filter({ hasText: 'I32' }).count(), 0);
    const steps = await page.getByTestId('plan-steps').locator('tbody tr').count();
    await page.getByRole('button', { name: 'Jadikan daftar tugas' }).click();
    await page.getByTestId('tasks').locator('li').first().waitFor();
    assert.equal(await page.getByTestId('tasks').locator('li').count(), steps);
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, 'scorecard-1366x768');
    await page.evaluate(() => document.getElementById('planner-title').scrollIntoView());
    await screenshot(page, 'scorecard-planner-1366x768');
    await page.locator('tr[data-indicator="I1"]').scrollIntoViewIfNeeded();
    await screenshot(page, 'scorecard-evidence-1366x768');
    await page.context().close();
  });

  it('a counter clerk reads the scorecard but cannot change it; English is there too', async () => {
    const page = await as('petugas', 'demo-petugas');
    assert.equal(await page.getByLabel('I1 Nilai', { exact: true }).isDisabled(), true);
    assert.equal(await page.locator('input[type=file]').count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Kirim penilaian' }).count(), 0);
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'Kelurahan scorecards' }).waitFor();
    await page.getByTestId('contest-total').filter({ hasText: '3.18' }).waitFor();
    await page.context().close();
  });
});

/** A one-page A4 PDF with one line of text in Helvetica (not embedded), objects and offsets
 * written out as the format asks. */
function textPdf(text) {
  const content = `BT /F1 28 Tf 72 760 Td (${text}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets = objects.map((body, i) => {
    const at = out.length;
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
    return at;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  out += offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}
