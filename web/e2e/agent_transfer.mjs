// Two agents of a manual campaign hand a customer to each other in their
// browsers: ann dials, transfers the customer to bob (READY beside her) and
// goes to her disposition while bob's screen shows the customer connected;
// then ann dials again and brings bob into a conference, where bob is her
// guest (his Leave is off and says why) until ann leaves the customer to
// him. Both disposition every call.
import assert from 'node:assert/strict';
import path from 'node:path';
import { base, shots, browser, login, btn, run } from './lib.mjs';

const [first, second] = process.env.NUMBERS.split(',');
const out = { transferred: false, conference: false };

async function agent(user) {
  const { page } = await browser();
  await login(page, user, 'password-' + user, '/agent');
  await page.locator('body[data-live="yes"]').waitFor();
  await page.locator('#campaign option', { hasText: 'Desk (manual)' }).waitFor({ state: 'attached' });
  await page.getByLabel('Campaign').selectOption({ label: 'Desk (manual)' });
  await btn(page, 'Ready').click();
  await page.locator('#agent-state[data-state="READY"]').waitFor();
  return page;
}

async function dial(page, number) {
  await page.getByLabel('Number to dial').fill(number);
  await btn(page, 'Dial').click();
  await page.locator('#call-state', { hasText: /^connected$/ }).waitFor();
  await page.locator('#lead-phone', { hasText: number }).waitFor();
}

async function dispose(page, label) {
  const form = page.getByRole('form', { name: 'Disposition' });
  await form.waitFor();
  await form.getByRole('radio', { name: label }).check();
  await btn(page, 'Save').click();
  await form.waitFor({ state: 'hidden' });
}

const shot = (page, name) => page.screenshot({ path: path.join(shots, name + '.png'), fullPage: true });

await run(out, async () => {
  const ann = await agent('ann');
  const bob = await agent('bob');

  // Blind transfer: bob is READY, so his button is on.
  await dial(ann, first);
  await btn(ann, 'Transfer').click();
  const dialog = ann.getByRole('dialog', { name: 'Transfer to' });
  await dialog.locator('#dir-agents tr[data-state="READY"]', { hasText: 'bob' }).waitFor();
  await dialog.getByRole('button', { name: 'Transfer to bob' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await ann.locator('#agent-state[data-state="DISPO"]').waitFor();
  await bob.locator('#agent-state[data-state="INCALL"]').waitFor();
  await bob.locator('#call-state', { hasText: /^connected$/ }).waitFor();
  await bob.locator('#lead-phone', { hasText: first }).waitFor();
  assert.ok(await btn(bob, 'Hang up').isEnabled(), 'the customer is bob\'s to talk to');
  await shot(bob, 'transfer-bob-has-the-customer');
  await shot(ann, 'transfer-ann-dispo');
  await dispose(ann, 'Not interested');
  await ann.locator('#agent-state[data-state="READY"]').waitFor();
  await btn(bob, 'Hang up').click();
  await dispose(bob, 'Sale');
  await bob.locator('#agent-state[data-state="READY"]').waitFor();
  out.transferred = true;

  // Conference: bob joins as ann's guest; ann leaves the customer to him.
  await dial(ann, second);
  await btn(ann, 'Conference').click();
  const conf = ann.getByRole('dialog', { name: 'Conference with' });
  await conf.getByRole('button', { name: 'Conference bob' }).click();
  await conf.waitFor({ state: 'hidden' });
  await ann.locator('#call-flags', { hasText: 'in conference with agent:bob' }).waitFor();
  await bob.locator('#agent-state[data-state="INCALL"]').waitFor();
  await bob.locator('#call-flags', { hasText: "agent:ann's conference" }).waitFor();
  assert.ok(await btn(bob, 'Leave').isDisabled(), 'the conference is ann\'s to leave');
  for (const b of ['Hang up', 'Hold', 'Mute', 'Transfer', 'Conference', 'Keypad']) assert.ok(await btn(bob, b).isDisabled(), b + ' is the host\'s');
  assert.match(await btn(bob, 'Leave').getAttribute('title'), /only they can leave it/);
  await shot(bob, 'conference-bob-guest');
  await btn(ann, 'Leave').click();
  await ann.locator('#agent-state[data-state="DISPO"]').waitFor();
  await bob.locator('#call-state', { hasText: /^connected$/ }).waitFor();
  await bob.locator('#call-flags', { hasText: 'conference' }).waitFor({ state: 'detached' });
  assert.equal((await bob.locator('#call-flags').textContent()).trim(), '', 'the customer is bob\'s alone');
  await shot(bob, 'conference-bob-has-the-customer');
  await dispose(ann, 'Not interested');
  await btn(bob, 'Hang up').click();
  await dispose(bob, 'Not interested');
  out.conference = true;
});
