// A manager sets up an inbound queue in the console and a supervisor
// watches the queues on the wallboard. Run by cmd/pacer's
// TestBrowserQueuesWallboard against a server whose simulated callers ring
// the demo queue (Support) and whose simulated agents answer them:
//   BASE_URL   the server
//   SHOTS      directory for screenshots
//   CHROMIUM   the browser binary (default /usr/bin/chromium)
//   QUEUE      name of the queue the manager creates (default Billing)
//   NUMBER     its number (default +12025550177)
// The manager: opens Queues from the console's navigation, is refused a
// ring time of 5 s beside the field, adds the queue with 45 s, gives it a
// number and two members (agent1 at level 1, agent2 at level 2), and sees
// them in the list. The supervisor: sees the Support queue's offered and
// answered figures move and a service level (not "—"), at a TV's size and
// a laptop's.
import path from 'node:path';
import assert from 'node:assert/strict';
import { base, shots, browser, run, login, btn } from './lib.mjs';

const queue = process.env.QUEUE || 'Billing';
const number = process.env.NUMBER || '+12025550177';
const out = {};

async function manager() {
  const { page } = await browser({ viewport: { width: 1366, height: 900 } });
  await login(page, 'manager', 'manager', '/manage');
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Queues' }).click();
  await page.waitForURL(base + '/manage/queues');
  await page.locator('#queue-rows tr[data-queue="Support"]').waitFor();

  await btn(page, 'New queue').click();
  await page.getByLabel('Name').fill(queue);
  await page.getByLabel('Ring time').fill('5');
  await btn(page, 'Add queue').click();
  const ringErr = page.locator('#err-ring_time_s');
  await ringErr.waitFor({ state: 'visible' });
  assert.match(await ringErr.textContent(), /ring time 5 s is out of range: 15 to 180 seconds/);
  assert.ok(await page.locator('#field-ring_time_s.invalid').count() === 1, 'the ring time field is marked');
  out.ring_time_error = await ringErr.textContent();
  await page.screenshot({ path: path.join(shots, 'queues-ring-time-error.png'), fullPage: true });

  await page.getByLabel('Ring time').fill('45');
  await btn(page, 'Add queue').click();
  await page.locator('#manage-info', { hasText: 'Added queue ' + queue }).waitFor();
  assert.ok(await ringErr.isHidden(), 'the error goes once the value is good');

  await page.getByLabel('Number', { exact: true }).fill(number);
  await btn(page, 'Add number').click();
  await page.locator(`#number-list li[data-number="${number}"]`).waitFor();

  for (const [agent, level] of [['agent1', '1'], ['agent2', '2']]) {
    await page.locator('#m-agent').selectOption({ label: agent });
    await page.getByLabel('Level', { exact: true }).fill(level);
    await btn(page, 'Add member').click();
    await page.locator('#member-rows tr td:first-child', { hasText: new RegExp('^' + agent + '$') }).waitFor();
  }
  const row = page.locator(`#queue-rows tr[data-queue="${queue}"]`);
  await row.locator('td.numbers', { hasText: number }).waitFor();
  assert.equal(await row.locator('td.num').first().textContent(), '2', 'two members in the list');
  assert.match(await row.textContent(), /45 s/);
  out.manager_queue = await row.textContent();
  await page.screenshot({ path: path.join(shots, 'queues-manager.png'), fullPage: true });
}

// figure reads one tile of a queue's card.
const figure = (page, q, fig) => page.locator(`#queue-cards [data-queue="${q}"] [data-fig="${fig}"] strong`);

async function supervisor() {
  const { page } = await browser({ viewport: { width: 1920, height: 1080 } });
  await login(page, 'supervisor', 'supervisor', '/supervise');
  const card = page.locator('#queue-cards [data-queue="Support"]');
  await card.waitFor();
  await page.locator(`#queue-cards [data-queue="${queue}"]`).waitFor();
  const offered0 = Number(await figure(page, 'Support', 'offered').textContent());
  const answered0 = Number(await figure(page, 'Support', 'answered').textContent());
  out.offered_first = offered0;
  out.answered_first = answered0;
  // The figures move as callers arrive and are answered (the board polls).
  await page.locator(`#queue-cards [data-queue="Support"] [data-fig="offered"] strong`)
    .filter({ hasNotText: new RegExp('^' + offered0 + '$') }).waitFor();
  await page.locator(`#queue-cards [data-queue="Support"] [data-fig="answered"] strong`)
    .filter({ hasNotText: new RegExp('^' + answered0 + '$') }).waitFor();
  await figure(page, 'Support', 'sl-answered').filter({ hasText: /%$/ }).waitFor();
  await figure(page, 'Support', 'asa').filter({ hasText: /^\d+:\d\d$/ }).waitFor();
  out.offered_later = Number(await figure(page, 'Support', 'offered').textContent());
  out.sl_answered = await figure(page, 'Support', 'sl-answered').textContent();
  // The new queue has no calls: its service levels are "—", not 0%.
  assert.equal(await figure(page, queue, 'sl-answered').textContent(), '—');
  assert.equal(await figure(page, queue, 'sl-offered').textContent(), '—');
  assert.equal(await figure(page, queue, 'asa').textContent(), '—');
  // The blending reserve of the demo campaign is shown.
  await page.locator('#reserve-rows tr th', { hasText: 'Demo' }).waitFor();
  out.reserve = await page.locator('#reserve-rows tr td.reserve').first().textContent();
  await card.locator('details[data-part="intervals"] summary').click();
  await card.locator('details[data-part="intervals"] tbody tr th').first().waitFor();
  await page.locator('#queues').screenshot({ path: path.join(shots, 'wallboard-queues-tv.png') });
  await page.screenshot({ path: path.join(shots, 'wallboard-tv.png') });
  await page.setViewportSize({ width: 1366, height: 768 });
  await page.locator('#queues').screenshot({ path: path.join(shots, 'wallboard-queues-laptop.png') });
}

await run(out, async () => {
  await manager();
  await supervisor();
});
