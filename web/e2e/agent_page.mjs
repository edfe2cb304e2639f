// Walks the agent workspace as an agent uses it all day, in headless
// Chromium against the real server on a simulated carrier where every dial
// is answered by a person: a manager adds a pause code and a transfer
// number on /manage/pause-codes; agent1 pauses with that code (the Pause
// counter ticks, the limit shows), goes READY (the Wait counter ticks), gets
// a predictive call with the lead's id, attempts and local time, edits the
// lead, asks to pause after the call and takes it back, opens the transfer
// directory (agent2 with their state, the saved number), sends a keypad
// digit (echoed), hangs up, sees the wrap-up countdown, picks a disposition
// with a number key (not while typing notes) and saves it with Enter, and
// sees the confirmation; agent3 on a preview campaign sees PREVIEW. Run by cmd/pacer's TestBrowserAgentPage with:
//   BASE_URL   the server
//   SHOTS      directory for screenshots
//   CHROMIUM   the browser binary (default /usr/bin/chromium)
// Prints one JSON line (the lead edited, the disposition saved) and exits
// non-zero on a failure.
import path from 'node:path';
import assert from 'node:assert/strict';
import { base, shots, browser as launch, run, login, btn } from './lib.mjs';

const browser = async () => (await launch({ viewport: { width: 1280, height: 1000 } })).page;
const exactly = (text) => new RegExp('^' + text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '$');
// changes waits until the element's text is no longer what it was: a
// counter that ticks. (Locators, not waitForFunction: the page's CSP
// forbids the eval it needs.)
async function changes(page, selector) {
  const before = await page.locator(selector).textContent();
  await page.locator(selector, { hasNotText: exactly(before) }).waitFor();
  return page.locator(selector).textContent();
}

const out = {};

async function manager() {
  const m = await browser();
  await login(m, 'manager', 'manager', '/manage');
  await m.getByRole('link', { name: 'Pause codes' }).click();
  await m.waitForURL(base + '/manage/pause-codes');
  await m.locator('#pc-rows tr[data-code="BREAK"]').waitFor(); // the seeded codes
  const add = m.getByRole('form', { name: 'Add a pause code' });
  await add.getByLabel('Code', { exact: true }).fill('coach');
  await add.getByLabel('Label', { exact: true }).fill('Coaching');
  await add.getByLabel('Billable', { exact: true }).check();
  await add.getByLabel('Limit (min)', { exact: true }).fill('15');
  await btn(m, 'Add pause code').click();
  await m.locator('#pc-rows tr[data-code="COACH"]').waitFor();
  await m.locator('#pc-info', { hasText: 'Added pause code COACH' }).waitFor();
  // A bad code is refused with the reason.
  await add.getByLabel('Code', { exact: true }).fill('LOGIN');
  await add.getByLabel('Label', { exact: true }).fill('Sneaky');
  await btn(m, 'Add pause code').click();
  await m.locator('#pc-error', { hasText: "dialer's own pause code" }).waitFor();
  await add.getByLabel('Code', { exact: true }).fill('');
  await add.getByLabel('Label', { exact: true }).fill('');
  const addNumber = m.getByRole('form', { name: 'Add a transfer number' });
  await addNumber.getByLabel('Label').fill('Billing desk');
  await addNumber.getByLabel('Number').fill('+12025550199');
  await btn(m, 'Add number').click();
  await m.locator('#tn-rows tr[data-number="+12025550199"]').waitFor();
  await m.screenshot({ path: path.join(shots, 'manage-pause-codes.png'), fullPage: true });
}

async function agents() {
  // agent2 is logged in and paused: the directory shows them.
  const other = await browser();
  await login(other, 'agent2', 'agent', '/agent');
  await other.locator('body[data-live="yes"]').waitFor();
  await btn(other, 'Pause').click();
  await other.locator('#agent-state[data-state="PAUSED"]').waitFor();

  const ag = await browser();
  await login(ag, 'agent1', 'agent', '/agent');
  await ag.locator('body[data-live="yes"]').waitFor();
  const state = ag.locator('#agent-state');
  assert.equal((await state.textContent()).trim(), 'Not ready — press Ready', 'never LOGGED OUT to a logged-in agent');

  // Pause with the manager's code: the Pause counter and the limit.
  await ag.locator('#pause-code-select option[value="COACH"]').waitFor({ state: 'attached' });
  await ag.getByLabel('Pause code').selectOption('COACH');
  await btn(ag, 'Pause').click();
  await ag.locator('#agent-state[data-state="PAUSED"]').waitFor();
  await ag.locator('#pause-code', { hasText: 'Coaching' }).waitFor();
  await ag.locator('#pause-limit', { hasText: 'of 15:00' }).waitFor();
  out.pause_ticked = await changes(ag, '#s-pause');
  await changes(ag, '#state-time');

  // READY: the Wait counter ticks (until a call comes, and it keeps the
  // time waited after).
  await btn(ag, 'Ready').click();
  await ag.locator('#agent-state[data-state="READY"]').waitFor();
  await ag.screenshot({ path: path.join(shots, 'agent-ready.png') });
  await ag.locator('#s-wait', { hasNotText: exactly('0:00') }).waitFor();

  // A predictive call: the lead panel with id, attempts and local time.
  await ag.locator('#agent-state[data-state="INCALL"]').waitFor();
  assert.equal((await state.textContent()).trim(), 'IN CALL');
  const lead = ag.getByRole('region', { name: 'Lead' });
  await lead.waitFor({ state: 'visible' });
  const id = (await ag.locator('#lead-id').textContent()).trim();
  assert.match(id, /^#\d+$/);
  out.lead_id = Number(id.slice(1));
  assert.match(await ag.locator('#lead-attempts').textContent(), /^\d+ before this call$/);
  await ag.locator('#lead-local', { hasText: /^\d\d:\d\d \S+/ }).waitFor();
  out.lead_local = await ag.locator('#lead-local').textContent();

  // Edit the lead.
  await btn(ag, 'Edit lead').click();
  await ag.getByLabel('First name').fill('Edited');
  await ag.getByLabel('Email').fill('edited@example.com');
  await ag.getByLabel('New field').fill('plan');
  await ag.getByLabel('Value', { exact: true }).fill('gold');
  await btn(ag, 'Save lead').click();
  await ag.locator('#lead-saved', { hasText: 'Saved' }).waitFor();
  await ag.locator('#lead-name', { hasText: 'Edited' }).waitFor();
  await ag.locator('#lead-email', { hasText: 'edited@example.com' }).waitFor();
  await ag.locator('#lead-edits-box').waitFor();

  // Pause after this call, then taken back.
  await ag.getByLabel('Pause code').selectOption('LUNCH');
  await btn(ag, 'Pause').click();
  await ag.locator('#pause-pending', { hasText: 'Lunch' }).waitFor();
  await btn(ag, 'Cancel pause after call').click();
  await ag.locator('#pause-pending').waitFor({ state: 'hidden' });
  assert.equal(await ag.locator('#agent-state').getAttribute('data-state'), 'INCALL');

  // The transfer directory: agent2 with their state, the saved number.
  await btn(ag, 'Transfer').click();
  const dialog = ag.getByRole('dialog', { name: 'Transfer to' });
  await dialog.waitFor();
  await dialog.locator('#dir-agents tr[data-state="PAUSED"]', { hasText: 'agent2' }).waitFor();
  await dialog.locator('#dir-numbers tr', { hasText: 'Billing desk' }).waitFor();
  // agent2 is paused: the customer could not go into their line.
  assert.ok(await dialog.getByRole('button', { name: 'Transfer to agent2' }).isDisabled(), 'only a READY agent takes a transfer');
  assert.ok(await ag.locator('#dir-queues-box').isHidden(), 'no queues exist, so no queue section');
  await ag.screenshot({ path: path.join(shots, 'agent-transfer.png') });
  await btn(ag, 'Close').click();
  await dialog.waitFor({ state: 'hidden' });

  // The keypad echoes what was sent.
  await btn(ag, 'Keypad').click();
  await btn(ag, '5').click();
  await ag.locator('#keypad-echo', { hasText: '5' }).waitFor();
  await btn(ag, '#').click();
  await ag.locator('#keypad-echo', { hasText: '5#' }).waitFor();
  await ag.screenshot({ path: path.join(shots, 'agent-incall.png'), fullPage: true });

  // Hang up: the wrap-up countdown, keys choose, Enter saves.
  await btn(ag, 'Hang up').click();
  const form = ag.getByRole('form', { name: 'Disposition' });
  await form.waitFor({ state: 'visible' });
  await ag.locator('#agent-state[data-state="DISPO"]').waitFor();
  await ag.locator('#wrapup-countdown', { hasText: 'Automatic disposition in' }).waitFor();
  await changes(ag, '#wrapup-countdown');
  // Pause after this call, ticked and unticked in the form.
  await ag.getByLabel('Pause after this call').check();
  await ag.locator('#pause-pending').waitFor();
  await ag.getByLabel('Pause after this call').uncheck();
  await ag.locator('#pause-pending').waitFor({ state: 'hidden' });

  await ag.locator('#wrapup-countdown').click(); // focus leaves the form's fields
  await ag.keyboard.press('1');
  const radios = form.getByRole('radio');
  assert.ok(await radios.nth(0).isChecked(), 'key 1 picks the first disposition');
  // Typing a digit into the notes is typing, not a hotkey.
  await form.getByRole('textbox', { name: 'Notes' }).click();
  await ag.keyboard.type('2 kids, call after 5');
  assert.ok(await radios.nth(0).isChecked(), 'digits typed in the notes leave the choice alone');
  await ag.locator('#wrapup-countdown').click();
  await ag.keyboard.press('2');
  assert.ok(await radios.nth(1).isChecked(), 'key 2 picks the second');
  out.dispo_label = (await form.locator('#dispo-options label').nth(1).textContent()).trim();
  out.dispo_code = await radios.nth(1).getAttribute('value');
  if (await ag.getByRole('group', { name: 'Callback' }).isVisible()) {
    // The second disposition schedules a callback; the third may not.
    throw new Error('the second disposition asks for a callback; pick another in the test');
  }
  await ag.screenshot({ path: path.join(shots, 'agent-dispo.png'), fullPage: true });
  await ag.keyboard.press('Enter');
  await ag.locator('#dispo-saved', { hasText: 'Saved: ' + out.dispo_label }).waitFor();
  await ag.locator('#agent-state[data-state="READY"], #agent-state[data-state="INCALL"]').waitFor();
  out.after_dispo = await ag.locator('#agent-state').getAttribute('data-state');
  await ag.screenshot({ path: path.join(shots, 'agent-saved.png') });
  // Leave no call behind: pause after whatever comes next.
  await btn(ag, 'Pause').click();
}

// A preview campaign: the lead waiting for Dial or Skip reads PREVIEW, and
// its timer counts from the offer.
async function preview() {
  const pv = await browser();
  await login(pv, 'agent3', 'agent', '/agent');
  await pv.locator('body[data-live="yes"]').waitFor();
  await pv.locator('#campaign option', { hasText: 'Preview (preview)' }).waitFor({ state: 'attached' });
  await pv.getByLabel('Campaign').selectOption({ label: 'Preview (preview)' });
  await btn(pv, 'Ready').click();
  await pv.locator('#agent-state[data-preview="yes"]').waitFor();
  assert.equal((await pv.locator('#agent-state').textContent()).trim(), 'PREVIEW');
  await pv.locator('#call-state', { hasText: 'preview' }).waitFor();
  assert.match(await pv.locator('#call-timer').textContent(), /^0:[0-5]\d$/, 'a fresh preview counts from its offer');
  assert.ok(await btn(pv, 'Dial').isEnabled());
  await pv.getByRole('region', { name: 'Lead' }).waitFor({ state: 'visible' });
  await pv.screenshot({ path: path.join(shots, 'agent-preview.png') });
  out.preview = true;
}

await run(out, async () => {
  await manager();
  await agents();
  await preview();
});
