// Sync in the browser: the office admin enrols the PC with the city's one-time code and pushes
// the register to a real Balai Kota; the page shows what waits and what was sent; a second PC
// receives it and holds its own reserve of letter numbers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { balaiBin, launchBrowser, login, screenshot, startKota, startServer } from '../harness.mjs';

let server;
let kota;
let browser;

before(async () => {
  kota = await startKota();
  server = await startServer({ residents: 30 });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  server?.stop();
  kota?.stop();
});

/** A new browser page on the office `pc`, logged in as admin, enrolled with the city. */
async function enrolledPc(pc) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await context.newPage();
  await page.goto(pc.url);
  await login(page, 'admin', 'demo-admin');
  await page.getByRole('link', { name: 'Sinkronisasi' }).click();
  await page.getByLabel('Alamat server kota').fill(kota.url);
  await page.getByLabel('Kode pendaftaran').fill(kota.code());
  await page.getByRole('button', { name: 'Daftarkan komputer ini' }).click();
  await page.getByTestId('sync-notice').filter({ hasText: 'Terdaftar ke' }).waitFor();
  return { context, page };
}

describe('sync', () => {
  it('the admin enrols with the city code and the waiting changes go to the city', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    await page.goto(server.url);
    await login(page, 'admin', 'demo-admin');
    await page.getByRole('link', { name: 'Sinkronisasi' }).click();
    await page.getByTestId('sync-status').getByText('Belum terdaftar').waitFor();
    const waiting = Number(await page.getByTestId('sync-pending').textContent());
    assert.ok(waiting >= 30, `the seeded register waits to be sent (${waiting})`);
    // Plain HTTP beyond the office network is refused before anything is sent.
    await page.getByLabel('Alamat server kota').fill('http://kota.example.go.id');
    await page.getByLabel('Kode pendaftaran').fill('AAAAA-BBBBB');
    await page.getByRole('button', { name: 'Daftarkan komputer ini' }).click();
    await page.locator('[data-field-error="server"]').filter({ hasText: 'https://' }).waitFor();
    await page.getByLabel('Sertifikat CA kota (tidak wajib)').waitFor();
    await screenshot(page, 'sync-enrol-1366x768');
    await page.getByLabel('Alamat server kota').fill(kota.url);
    await page.getByRole('button', { name: 'Daftarkan komputer ini' }).click();
    await page.locator('[data-field-error="code"]').filter({ hasText: 'tidak berlaku' }).waitFor();
    await page.getByLabel('Kode pendaftaran').fill(kota.code());
    await page.getByRole('button', { name: 'Daftarkan komputer ini' }).click();
    await page.getByTestId('sync-notice').filter({ hasText: 'Terdaftar ke Yosorejo (18.72.04.1004)' }).waitFor();
    await page.getByRole('button', { name: 'Sinkronkan sekarang' }).click();
    // Everything that waited, the office's letter types for the city's request form, and its
    // signing key (made when the office was set up).
    await page.getByTestId('sync-notice').filter({ hasText: `Terkirim: ${waiting + 2} · Ditolak: 0 · Perubahan menunggu: 0` }).waitFor();
    await page.getByTestId('sync-pending').filter({ hasText: /^0$/ }).waitFor();
    // Asked for, the comparison with the city runs at once (otherwise hourly) and says so.
    await page.getByRole('button', { name: 'Periksa kecocokan dengan kota' }).click();
    await page.getByTestId('sync-notice').filter({ hasText: 'Data di komputer ini sama dengan data server kota.' }).waitFor();
    await screenshot(page, 'sync-1366x768');
    await context.close();
  });

  it('a second PC of the office enrols and receives the register the first one sent', async () => {
    const second = await startServer({ residents: 0 });
    try {
      const { context, page } = await enrolledPc(second);
      assert.equal(await page.getByTestId('sync-last-pull').textContent(), '—');
      // Enrolling already leased this PC its first letter numbers, per series: the smallest
      // reserve (5), as the office has issued no letter of that kind lately.
      const domisili = page.getByTestId('sync-reserve').locator('li[data-series$="/domisili"]').first();
      assert.equal(await domisili.locator('b').textContent(), '5');
      await page.getByRole('button', { name: 'Sinkronkan sekarang' }).click();
      const notice = page.getByTestId('sync-notice').filter({ hasText: 'Diterima' });
      await notice.waitFor();
      const received = Number((await notice.textContent()).match(/Diterima: (\d+)/)[1]);
      assert.ok(received >= 30, `the residents and their families arrived (${received})`);
      assert.notEqual(await page.getByTestId('sync-last-pull').textContent(), '—');
      await context.close();
    } finally {
      second.stop();
    }
  });

  it("anyone checks an office's letter on the city's public page once the office synced", async () => {
    const office = await startServer({ residents: 0 });
    try {
      const balai = (...args) => JSON.parse(execFileSync(balaiBin, ['--db', office.db, '--json', ...args], {
        env: { ...process.env, BALAI_PASSWORD: 'demo-lurah' },
      }).toString());
      const { context, page } = await enrolledPc(office);
      await page.getByRole('button', { name: 'Sinkronkan sekarang' }).click();
      await page.getByTestId('sync-notice').filter({ hasText: 'Diterima' }).waitFor();
      const hit = balai('residents', 'search', '187', '--limit', '50').find((r) => r.status === 'hidup');
      const resident = balai('residents', 'show', hit.id).resident;
      const letter = balai('--user', 'lurah', 'letters', 'issue', '--type', 'domisili', '--nik', resident.nik, '--field', 'keperluan=melamar kerja');
      // The letter's number reaches the city with the next sync; the key that signed it went
      // with the first (it was made when the office was set up).
      await page.getByRole('button', { name: 'Sinkronkan sekarang' }).click();
      await page.getByTestId('sync-notice').filter({ hasText: 'Terkirim: 1 · Ditolak: 0' }).waitFor();

      await page.goto(`${kota.url}/verify`);
      await page.getByLabel('Teks kode QR').fill(letter.qr_payload);
      await page.getByRole('button', { name: 'Periksa' }).click();
      const verdict = page.locator('[data-verdict="sah"]');
      await verdict.waitFor();
      const text = await verdict.textContent();
      assert.ok(text.includes(letter.number), text);
      assert.ok(!text.includes(resident.nik), 'no full NIK on the public page');
      await screenshot(page, 'city-verify-1366x768');
      await page.getByLabel('Teks kode QR').fill(letter.qr_payload.replace('|domisili|', '|sktm|'));
      await page.getByRole('button', { name: 'Periksa' }).click();
      await page.locator('[data-verdict="tidak_sah"]').waitFor();
      await context.close();
    } finally {
      office.stop();
    }
  });

  it("a resident's online request reaches the office, a clerk takes it and the resident sees it done", async () => {
    const office = await startServer({ residents: 0 });
    try {
      const balai = (...args) => JSON.parse(execFileSync(balaiBin, ['--db', office.db, '--json', ...args]).toString());
      const { context: adminContext, page: admin } = await enrolledPc(office);
      await admin.getByRole('button', { name: 'Sinkronkan sekarang' }).click();
      await admin.getByTestId('sync-notice').filter({ hasText: 'Diterima' }).waitFor();
      await adminContext.close();
      const hit = balai('residents', 'search', '187', '--limit', '50').find((r) => r.status === 'hidup');
      const resident = balai('residents', 'show', hit.id).resident;
      const noKk = balai('residents', 'show', resident.nik).family.no_kk;

      // The resident, on the city's public form (no account).
      const publicContext = await browser.newContext({ viewport: { width: 1366, height: 768 } });
      const form = await publicContext.newPage();
      await form.goto(`${kota.url}/permohonan`);
      await form.getByLabel('Kelurahan').selectOption({ label: 'Yosorejo' });
      await form.getByRole('button', { name: 'Pilih' }).click();
      await form.getByLabel('NIK (16 angka)').fill(resident.nik.slice(0, 10));
      await form.getByLabel('No. KK (16 angka)').fill(noKk);
      await form.getByLabel('Jenis surat').selectOption('domisili');
      await form.getByLabel('Keperluan').fill('melamar kerja');
      await form.getByRole('button', { name: 'Kirim permohonan' }).click();
      await form.locator('#nik-error').waitFor();
      await screenshot(form, 'city-request-form-1366x768');
      await form.getByLabel('NIK (16 angka)').fill(resident.nik);
      await form.getByRole('button', { name: 'Kirim permohonan' }).click();
      const code = (await form.getByTestId('tracking-code').textContent()).trim();
      assert.match(code, /^[2-9A-Z]{5}-[2-9A-Z]{5}$/);

      // A clerk at the office: sync, the queue, take it, make its letter, finish it.
      const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
      const page = await context.newPage();
      await page.goto(office.url);
      await login(page, 'petugas', 'demo-petugas');
      await page.getByRole('link', { name: 'Sinkronisasi' }).click();
      await page.getByRole('button', { name: 'Sinkronkan sekarang' }).click();
      await page.getByTestId('sync-notice').filter({ hasText: /Diterima: 1$/ }).waitFor();
      await page.getByRole('link', { name: 'Permohonan daring' }).click();
      const row = page.locator(`tr[data-request="${code}"]`);
      await row.getByRole('button', { name: 'Ambil' }).click();
      await row.getByTestId('request-status').filter({ hasText: 'Diproses di komputer ini' }).waitFor();
      await row.getByRole('button', { name: 'Buat surat' }).click();
      await page.locator('input[name="people.pemohon"]').waitFor();
      assert.equal(await page.locator('input[name="people.pemohon"]').inputValue(), resident.nik, 'the letter form starts from the request');
      await page.getByRole('link', { name: 'Permohonan daring' }).click();
      await row.getByLabel('Catatan untuk pemohon').fill('Ambil di loket 2');
      await screenshot(page, 'requests-1366x768');
      await row.getByRole('button', { name: 'Selesai' }).click();
      await row.getByTestId('request-status').filter({ hasText: 'Selesai' }).waitFor();
      await page.getByRole('link', { name: 'Sinkronisasi' }).click();
      await page.getByRole('button', { name: 'Sinkronkan sekarang' }).click();
      await page.getByTestId('sync-notice').filter({ hasText: 'Ditolak: 0' }).waitFor();
      await context.close();

      await form.goto(`${kota.url}/permohonan/status?kode=${code}`);
      const status = form.locator('[data-status="selesai"]');
      await status.waitFor();
      assert.ok((await status.textContent()).includes('Ambil di loket 2'));
      await publicContext.close();
    } finally {
      office.stop();
    }
  });

  it('two PCs renaming one resident unseen leave a conflict that a supervisor reviews once for the office', async () => {
    const [one, two] = [await startServer({ residents: 0 }), await startServer({ residents: 0 })];
    try {
      const pcs = [await enrolledPc(one), await enrolledPc(two)];
      const syncNow = async ({ page }) => {
        await page.getByRole('link', { name: 'Sinkronisasi' }).click();
        await page.getByRole('button', { name: 'Sinkronkan sekarang' }).click();
        await page.getByTestId('sync-notice').filter({ hasText: 'Diterima' }).waitFor();
      };
      for (const pc of pcs) await syncNow(pc);
      const hit = JSON.parse(execFileSync(balaiBin, ['--db', one.db, '--json', 'residents', 'search', '187', '--limit', '1']).toString())[0];
      const resident = JSON.parse(execFileSync(balaiBin, ['--db', one.db, '--json', 'residents', 'show', hit.id]).toString()).resident;
      // Both clerks correct the name before either PC syncs; the second one's is the later.
      const names = [`${resident.full_name} Satu`, `${resident.full_name} Dua`];
      for (const [i, { page }] of pcs.entries()) {
        await page.getByRole('link', { name: 'Cari penduduk' }).click();
        await page.getByLabel('Cari penduduk').fill(resident.nik);
        await page.getByTestId('search-hit').first().click();
        await page.getByRole('button', { name: 'Ubah data' }).click();
        await page.locator('input[name="full_name"]').fill(names[i]);
        await page.getByRole('button', { name: 'Simpan' }).click();
        await page.getByRole('heading', { name: names[i] }).waitFor();
      }
      await syncNow(pcs[0]);
      await syncNow(pcs[1]);
      await syncNow(pcs[0]);

      const { page } = pcs[0];
      await page.getByTestId('sync-conflict-count').filter({ hasText: /^1$/ }).waitFor();
      const item = page.getByTestId('sync-conflicts').locator('li[data-open="true"]');
      assert.equal(await item.locator('tr[data-side="kept"] td.differs').textContent(), names[1]);
      assert.equal(await item.locator('tr[data-side="lost"] td.differs').textContent(), names[0]);
      assert.ok((await item.locator('tr[data-side="lost"]').textContent()).includes('komputer ini'));
      await item.getByLabel('Keputusan').fill('Nama sesuai KK');
      await screenshot(page, 'sync-conflict-1366x768');
      await item.getByRole('button', { name: 'Tandai sudah ditinjau' }).click();
      await page.getByTestId('conflict-reviewed').filter({ hasText: 'Nama sesuai KK' }).waitFor();
      assert.equal(await page.getByTestId('sync-conflict-count').count(), 0);
      // The review reaches the other PC through the city.
      await page.getByRole('button', { name: 'Sinkronkan sekarang' }).click();
      await page.getByTestId('sync-notice').filter({ hasText: 'Ditolak: 0' }).waitFor();
      await syncNow(pcs[1]);
      await pcs[1].page.getByTestId('conflict-reviewed').filter({ hasText: 'Nama sesuai KK' }).waitFor();
      for (const pc of pcs) await pc.context.close();
    } finally {
      one.stop();
      two.stop();
    }
  });

  it('a city admin logs in to the dashboard and sees the kelurahan with its residents and letters', async () => {
    kota.addAdmin('diskominfo', 'rahasia-kota-2026');
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    await page.goto(`${kota.url}/admin`);
    await page.getByLabel('Nama pengguna').fill('diskominfo');
    await page.getByLabel('Kata sandi').fill('salah');
    await page.getByRole('button', { name: 'Masuk' }).click();
    await page.getByRole('alert').filter({ hasText: 'kata sandi salah' }).waitFor();
    await page.getByLabel('Nama pengguna').fill('diskominfo');
    await page.getByLabel('Kata sandi').fill('rahasia-kota-2026');
    await page.getByRole('button', { name: 'Masuk' }).click();
    const row = page.locator('tr[data-kelurahan="18.72.04.1004"]');
    await row.waitFor();
    assert.ok(Number(await row.locator('[data-col="residents"]').textContent()) >= 30);
    assert.ok(Number(await row.locator('[data-col="letters"]').textContent()) >= 1, 'the letter of the test before');
    await screenshot(page, 'city-dashboard-1366x768');
    await page.getByRole('button', { name: 'Keluar' }).click();
    await page.getByRole('heading', { name: 'Masuk sebagai admin kota' }).waitFor();
    await context.close();
  });
});
