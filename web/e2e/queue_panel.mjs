// The Queue tab of the agent workspace: agent1, a second-line member of a
// queue that lets agents take calls (so no caller is offered to them by
// itself for 10 minutes), sees the two callers an admin injected, longest
// waiting first, with the first one's lead name and waits that tick; they
// take the second one with a click and are on the call with that caller's
// number on screen, while the first caller stays listed, now with Take
// disabled because agent1 is on a call.
//   FIRST       the first caller's number (a lead named FIRST_NAME has it)
//   SECOND      the second caller's number (no lead)
//   DID         the number both dialled (the queue QUEUE answers it)
import assert from 'node:assert/strict';
import path from 'node:path';
import { shots, browser, login, btn, run } from './lib.mjs';

const first = process.env.FIRST, second = process.env.SECOND, did = process.env.DID;
const firstName = process.env.FIRST_NAME, queue = process.env.QUEUE;
const out = { order: [], ticks: false, took: '', state: '', remaining: [], disabled_title: '' };

const shot = (page, file) => page.screenshot({ path: path.join(shots, file + '.png'), fullPage: true });

let page;
await run(out, async () => {
  ({ page } = await browser());
  await login(page, 'agent1', 'password-agent1', '/agent');
  await page.locator('body[data-live="yes"]').waitFor();
  await page.locator('#campaign option', { hasText: 'Queue desk (manual)' }).waitFor({ state: 'attached' });
  await page.getByLabel('Campaign').selectOption({ label: 'Queue desk (manual)' });
  await btn(page, 'Ready').click();
  await page.locator('#agent-state[data-state="READY"]').waitFor();
  await page.getByRole('tab', { name: /^Queue/ }).click();
  await page.locator('#queue-empty', { hasText: 'No caller waiting in your queues.' }).waitFor();
  await shot(page, 'queue-empty');

  const { page: admin } = await browser();
  await login(admin, 'root', 'password-root');
  await admin.waitForURL((u) => !u.pathname.startsWith('/login'));
  for (const from of [first, second]) {
    const status = await admin.evaluate(async ([d, f]) => {
      const me = await (await fetch('/api/v1/me')).json();
      const r = await fetch('/api/v1/sim/inbound', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
        body: JSON.stringify({ did: d, from: f }) });
      return r.status;
    }, [did, from]);
    assert.equal(status, 202);
  }

  // Both appear (the tab polls while open), longest waiting first.
  const rows = page.locator('#queue-rows tr');
  await page.locator('#queue-rows tr:nth-child(2)').waitFor();
  assert.equal(await rows.count(), 2);
  out.order = await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.from));
  assert.equal(await page.locator('#queue-empty').isHidden(), true);
  await page.locator('#queue-count', { hasText: '2 waiting' }).waitFor();
  const row1 = rows.nth(0), row2 = rows.nth(1);
  assert.equal(await row1.locator('.queue-name').textContent(), queue);
  assert.equal(await row1.locator('.queue-caller strong').textContent(), firstName);
  assert.equal(await row1.locator('.queue-did').textContent(), 'to ' + did);
  assert.equal(await row2.locator('.queue-caller').textContent(), second);
  assert.equal(await row2.locator('.queue-now').count(), 0, 'ringing nobody');
  assert.equal(await page.getByRole('button', { name: 'Take the call from ' + firstName }).isEnabled(), true);
  // The wait ticks on screen.
  const wait = row1.locator('.queue-wait');
  const before = await wait.textContent();
  assert.match(before, /^\d+:\d\d$/);
  await page.locator('#queue-rows tr:first-child .queue-wait').filter({ hasNotText: new RegExp('^' + before + '$') }).waitFor();
  out.ticks = true;
  // agent1 never rang: a second-line member is not offered callers.
  assert.equal(await page.locator('#agent-state').getAttribute('data-state'), 'READY');
  await shot(page, 'queue-panel');
  await page.setViewportSize({ width: 420, height: 900 });
  await shot(page, 'queue-panel-narrow');
  await page.setViewportSize({ width: 1280, height: 900 });

  await page.getByRole('button', { name: 'Take the call from ' + second }).click();
  await page.locator('#agent-state[data-state="INCALL"]').waitFor();
  await page.getByRole('tab', { name: 'Call', exact: true, selected: true }).waitFor();
  await page.locator('#call-state', { hasText: /^connected$/ }).waitFor();
  await page.locator('#inbound-box', { hasText: 'Inbound call from ' + second }).waitFor();
  out.took = await page.locator('#inbound-from').textContent();
  out.state = await page.locator('#agent-state').getAttribute('data-state');
  await shot(page, 'queue-taken');

  // The first caller still waits; on a call, agent1 cannot take another.
  await page.getByRole('tab', { name: /^Queue/ }).click();
  await page.locator('#queue-count', { hasText: '1 waiting' }).waitFor();
  out.remaining = await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.from));
  const take = page.getByRole('button', { name: 'Take the call from ' + firstName });
  assert.equal(await take.isDisabled(), true);
  out.disabled_title = await take.getAttribute('title');
  await shot(page, 'queue-incall');
  await page.setViewportSize({ width: 420, height: 900 });
  await shot(page, 'queue-incall-narrow');
}, () => shot(page, 'queue-failure'));
