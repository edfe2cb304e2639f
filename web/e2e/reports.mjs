// The reports page in headless Chromium, as a manager: open Reports from
// the navigation, show every report for the demo campaign over the last
// week, see a bad range refused with its reason, and download the call
// detail records as CSV. Run by cmd/pacer's TestBrowserReports with:
//   BASE_URL     the server, e.g. http://127.0.0.1:8080
//   SHOTS        directory for the screenshot reports.png
//   CHROMIUM     the browser binary (default /usr/bin/chromium)
//   USER_NAME, PASSWORD  a manager (default manager / manager)
// Prints one JSON line (rows shown per report, the CSV's header and row
// count) and exits non-zero on a failure.
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { base, shots, browser, run, login } from './lib.mjs';

const { page } = await browser({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });

const out = { shown: {} };
await run(out, async () => {
  await login(page, process.env.USER_NAME || 'manager', process.env.PASSWORD || 'manager', '/manage');

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Reports', exact: true }).click();
  await page.waitForURL(base + '/reports');
  // The form is ready when the campaigns have loaded.
  await page.locator('#report-campaign option', { hasText: /^Demo$/ }).waitFor({ state: 'attached' });
  await page.getByLabel('Campaign', { exact: true }).selectOption({ label: 'Demo' });

  const titles = {
    calls: 'Call detail records', 'agent-time': 'Agent time', dispositions: 'Dispositions by campaign and agent',
    abandon: 'Abandon rate per legal window', penetration: 'List penetration',
  };
  for (const [name, title] of Object.entries(titles)) {
    await page.getByLabel('Report', { exact: true }).selectOption({ label: title });
    await page.getByRole('button', { name: 'Show', exact: true }).click();
    await page.locator(`#report-result[data-report="${name}"]`).waitFor();
    await page.locator('#report-title', { hasText: title }).waitFor();
    const rows = await page.locator('#report-rows tr').count();
    assert.ok(rows > 0, `${name}: the table has rows`);
    out.shown[name] = rows;
    if (name === 'agent-time') {
      // The simulated agents have no users; they are named as on the wallboard.
      assert.match(await page.locator('#report-rows td[data-col="agent"]').first().textContent(), /^sim-\d+$/);
      // Every row adds up: login = wait + ring + talk + hold + dispo + pause.
      for (const tr of await page.locator('#report-rows tr').all()) {
        const v = async (k) => Number(await tr.locator(`td[data-col="${k}"]`).textContent());
        const sum = (await v('wait_s')) + (await v('ring_s')) + (await v('talk_s')) + (await v('hold_s')) +
          (await v('dispo_s')) + (await v('pause_s'));
        assert.ok(Math.abs((await v('login_s')) - sum) < 0.0015, `login ${await v('login_s')} = parts ${sum}`);
      }
      await page.screenshot({ path: path.join(shots, 'reports.png'), fullPage: true });
    }
  }

  // A range that ends before it starts is refused with the reason.
  const from = await page.getByLabel('From', { exact: true }).inputValue();
  const to = await page.getByLabel('To', { exact: true }).inputValue();
  await page.getByLabel('From', { exact: true }).fill(to);
  await page.getByLabel('To', { exact: true }).fill(from === to ? '2000-01-01' : from);
  await page.getByRole('button', { name: 'Show', exact: true }).click();
  await page.locator('#report-error:not([hidden])', { hasText: 'is before from' }).waitFor();
  out.refused = await page.locator('#report-error').textContent();
  await page.getByLabel('From', { exact: true }).fill(from);
  await page.getByLabel('To', { exact: true }).fill(to);

  await page.getByLabel('Report', { exact: true }).selectOption({ label: titles.calls });
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download CSV', exact: true }).click(),
  ]);
  out.csv_name = download.suggestedFilename();
  const text = fs.readFileSync(await download.path(), 'utf8');
  const lines = text.trim().split('\n');
  out.csv_header = lines[0];
  out.csv_rows = lines.length - 1;
  assert.ok(lines.slice(1).every((l) => l.includes(',Demo,')), 'every call is the demo campaign\'s');
}, () => page.screenshot({ path: path.join(shots, 'reports-failed.png'), fullPage: true }));
