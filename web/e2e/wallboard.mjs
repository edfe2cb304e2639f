// The supervisor's wallboard in headless Chromium, against the real server
// with simulated agents working the Demo campaign and a small manual
// campaign "Floor" (five leads, so its hopper is low): the overview lists
// both campaigns with Floor's hopper alert; a click opens Floor (the URL
// says which, a link goes back); agent1 (a second browser) goes READY on
// Floor and shows on the board; the supervisor force-pauses them through
// the confirm dialog with a reason and sees them PAUSED on the board and
// the action in the audit table; on Demo the sim agents' rows show calls,
// talk and state, the board says Demo's predictive pacing is still
// learning, and switching the chart range to 15 min changes the chart.
// Run by cmd/pacer's TestBrowserWallboard with:
//   BASE_URL     the server
//   SHOTS        directory for supervise-overview.png and supervise.png
//   CHROMIUM     the browser binary (default /usr/bin/chromium)
// Prints one JSON line and exits non-zero on a failure.
import path from 'node:path';
import assert from 'node:assert/strict';
import { base, shots, browser as launch, run, login } from './lib.mjs';

const browser = () => launch({ viewport: { width: 1280, height: 1000 } });
const out = {};
const sup = await browser();
const ag = await browser();
await run(out, async () => {
  const p = sup.page;
  await login(p, 'supervisor', 'supervisor', '/supervise');
  await p.locator('#live[data-live="yes"]').waitFor();

  // The overview: both campaigns, Floor with its hopper alert, Demo live.
  const row = (name) => p.locator('#overview-rows tr', { has: p.getByRole('link', { name, exact: true }) });
  // Demo is fresh: its predictive pacing says it is still learning.
  await row('Demo').locator('td', { hasText: /^predictive – learning \(\d+\/200 dials, \d+\/50 talks\)$/ }).waitFor();
  await row('Floor').locator('li.alert[data-kind="hopper_low"]', { hasText: '5 leads left' }).waitFor();
  await row('Demo').and(p.locator('[data-running="yes"]')).waitFor();
  out.overview_campaigns = await p.locator('#overview-rows tr').count();
  await p.screenshot({ path: path.join(shots, 'supervise-overview.png'), fullPage: true });

  // agent1 goes READY on Floor (manual: no call comes by itself).
  await login(ag.page, 'agent1', 'agent', '/agent');
  await ag.page.locator('body[data-live="yes"]').waitFor();
  await ag.page.locator('#campaign').selectOption({ label: 'Floor (manual)' });
  await ag.page.getByRole('button', { name: 'Ready', exact: true }).click();
  await ag.page.locator('#agent-state[data-state="READY"]').waitFor();

  // Click into Floor: the URL names it; the alert is on the campaign view.
  await row('Floor').getByRole('link', { name: 'Floor', exact: true }).click();
  await p.waitForURL(/\/supervise\?campaign=\d+$/);
  out.floor_url = new URL(p.url()).search;
  await p.locator('#title', { hasText: 'Floor' }).waitFor();
  await p.locator('#alert-list li.alert[data-kind="hopper_low"]').waitFor();
  const agent1 = p.locator('#agents-rows tr', { has: p.locator('td:first-child', { hasText: /^agent1$/ }) });
  await agent1.and(p.locator('[data-state="READY"]')).waitFor();

  // Force pause through the confirm dialog, with a reason.
  await agent1.getByRole('button', { name: 'Force pause' }).click();
  const dialog = p.getByRole('dialog', { name: 'Force pause' });
  await dialog.getByText('is READY and will be PAUSED').waitFor();
  await dialog.getByLabel('Reason').fill('coaching session');
  await dialog.getByRole('button', { name: 'Force pause' }).click();
  await agent1.and(p.locator('[data-state="PAUSED"]')).locator('td.state', { hasText: 'PAUSED (SUPERVISOR)' }).waitFor();
  await ag.page.locator('#agent-state[data-state="PAUSED"]').waitFor();
  await p.locator('#audit-rows tr[data-action="force_pause"]', { hasText: 'coaching session' }).waitFor();
  const audit = await p.locator('#audit-rows tr[data-action="force_pause"]').first().innerText();
  assert.match(audit, /supervisor/);
  assert.match(audit, /agent1/);
  assert.match(audit, /READY/);
  assert.match(audit, /paused/);

  // Back to the overview, then into Demo: the sim agents' rows.
  await p.getByRole('link', { name: '← All campaigns' }).click();
  await p.waitForURL(base + '/supervise');
  await row('Demo').getByRole('link', { name: 'Demo', exact: true }).click();
  await p.locator('#title', { hasText: 'Demo' }).waitFor();
  await p.locator('#pacing-note', { hasText: 'still learning this campaign' }).waitFor();
  // A sim agent with a finished call: calls ≥ 1 and talk time counted.
  const worked = p.locator('#agents-rows tr').filter({ has: p.locator('td.calls', { hasNotText: /^0$/ }) })
    .filter({ has: p.locator('td.talk', { hasNotText: /^0:00$/ }) });
  await worked.first().waitFor();
  out.demo_rows = await p.locator('#agents-rows tr').count();
  const stateText = await p.locator('#agents-rows tr td.state').first().textContent();
  assert.match(stateText, /READY|INCALL|DISPO|PAUSED|RINGING/);

  // The chart range: 15 min shows a different span than the default hour.
  await p.locator('#chart-range[data-range="1h"]').waitFor();
  await p.locator('#chart-dial polyline').first().waitFor({ state: 'attached' });
  const hourTicks = await p.locator('#chart-dial text.tick').allTextContents();
  await p.getByRole('group', { name: 'Time range' }).getByRole('button', { name: '15 min' }).click();
  await p.locator('#chart-range[data-range="15m"]').waitFor();
  await p.locator('.range button[data-range="15m"][aria-pressed="true"]').waitFor();
  const quarterTicks = await p.locator('#chart-dial text.tick').allTextContents();
  assert.notDeepEqual(quarterTicks, hourTicks, 'the time axis follows the range');
  out.range_ticks = { '1h': hourTicks.slice(-3), '15m': quarterTicks.slice(-3) };
  await p.locator('#legend-abandon li', { hasText: 'abandon rate' }).waitFor();
  await p.screenshot({ path: path.join(shots, 'supervise.png'), fullPage: true });
});
