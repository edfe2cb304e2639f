// An inbound caller reaches two agents of the queue Support in their
// browsers: agent1 (READY first, so longest idle) is offered the call with
// the number dialled, the queue, the caller's name (their lead's, matched
// by number) and a countdown, and rejects it; the call rings agent2 at once
// (a narrow window), who accepts it with the lead on screen, hangs up and
// dispositions it; agent1 is in Do not disturb, and ends it. An admin
// injects the caller through POST /api/v1/sim/inbound.
//   CALLER  the caller's number (a lead named CALLER_NAME has it)
//   DID     the number dialled (the queue Support answers it)
import assert from 'node:assert/strict';
import path from 'node:path';
import { base, shots, browser, login, btn, run } from './lib.mjs';

const caller = process.env.CALLER, did = process.env.DID, name = process.env.CALLER_NAME;
const out = { offered_first: '', tab_alert: false, rejected: false, accepted: false, dnd: false, dispositioned: false, dnd_off: false };

async function agent(user, viewport) {
  const { page } = await browser({ viewport });
  await login(page, user, 'password-' + user, '/agent');
  await page.locator('body[data-live="yes"]').waitFor();
  await page.locator('#campaign option', { hasText: 'Inbound desk (manual)' }).waitFor({ state: 'attached' });
  await page.getByLabel('Campaign').selectOption({ label: 'Inbound desk (manual)' });
  await btn(page, 'Ready').click();
  await page.locator('#agent-state[data-state="READY"]').waitFor();
  return page;
}

const shot = (page, file) => page.screenshot({ path: path.join(shots, file + '.png'), fullPage: true });

// The offer as the agent sees it: the number dialled, the queue, who calls.
async function seesOffer(page) {
  const offer = page.getByRole('alertdialog', { name: 'Incoming call' });
  await offer.waitFor();
  await page.locator('#agent-state[data-state="RINGING"]', { hasText: 'INCOMING CALL' }).waitFor();
  assert.equal(await page.locator('#offer-did').textContent(), did);
  assert.equal(await page.locator('#offer-queue').textContent(), 'Support');
  assert.equal(await page.locator('#offer-name').textContent(), name);
  assert.equal(await page.locator('#offer-from').textContent(), caller);
  assert.match(await page.locator('#offer-countdown').textContent(), /^\d+:\d\d$/);
  return offer;
}

await run(out, async () => {
  // agent1 goes READY first: the longest idle, offered first.
  const a1 = await agent('agent1');
  const a2 = await agent('agent2', { width: 420, height: 900 });

  const { page: admin } = await browser();
  await login(admin, 'root', 'password-root');
  await admin.waitForURL((u) => !u.pathname.startsWith('/login'));
  const status = await admin.evaluate(async ([d, f]) => {
    const me = await (await fetch('/api/v1/me')).json();
    const r = await fetch('/api/v1/sim/inbound', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
      body: JSON.stringify({ did: d, from: f }) });
    return r.status;
  }, [did, caller]);
  assert.equal(status, 202);

  // agent2's tab is in the background when the call reaches them.
  await a2.evaluate(() => Object.defineProperty(document, 'hidden', { value: true, configurable: true }));

  await seesOffer(a1);
  out.offered_first = 'agent1';
  assert.equal(await a2.locator('#agent-state').getAttribute('data-state'), 'READY', 'one agent rings at a time');
  await shot(a1, 'inbound-offer');
  await btn(a1, 'Reject').click();
  out.rejected = true;

  // The call rings agent2 at once; agent1 is in Do not disturb.
  await seesOffer(a2);
  // A background tab alerts in its title and favicon until looked at.
  assert.equal(await a2.title(), '● Incoming call – Agent · Pacer');
  assert.match(await a2.locator('#favicon').getAttribute('href'), /favicon-alert\.svg$/);
  await a2.evaluate(() => {
    Object.defineProperty(document, 'hidden', { value: false, configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  assert.equal(await a2.title(), 'Agent · Pacer');
  out.tab_alert = true;
  await shot(a2, 'inbound-offer-narrow');
  await a1.locator('#agent-state[data-state="DND"]', { hasText: 'DO NOT DISTURB' }).waitFor();
  assert.equal(await btn(a1, 'End do not disturb').getAttribute('aria-pressed'), 'true');
  out.dnd = true;
  await shot(a1, 'inbound-agent1-dnd');

  await btn(a2, 'Accept').click();
  await a2.locator('#agent-state[data-state="INCALL"]').waitFor();
  await a2.getByRole('alertdialog', { name: 'Incoming call' }).waitFor({ state: 'hidden' });
  await a2.locator('#call-state', { hasText: /^connected$/ }).waitFor();
  // The one lead with the caller's number is attached: the lead panel shows it.
  await a2.locator('#inbound-box', { hasText: 'Inbound call from ' + caller }).waitFor();
  await a2.locator('#lead-name', { hasText: name }).waitFor();
  await a2.locator('#lead-phone', { hasText: caller }).waitFor();
  out.accepted = true;
  await shot(a2, 'inbound-call');

  await btn(a2, 'Hang up').click();
  const form = a2.getByRole('form', { name: 'Disposition' });
  await form.waitFor();
  await form.getByRole('radio', { name: 'Not interested' }).check();
  await a2.getByLabel('Notes').fill('called in about the invoice');
  await btn(a2, 'Save').click();
  await form.waitFor({ state: 'hidden' });
  await a2.locator('#agent-state[data-state="READY"]').waitFor();
  out.dispositioned = true;

  // History says which way each call went.
  await a2.getByRole('tab', { name: 'History' }).click();
  await a2.locator('#history-rows tr[data-direction="inbound"]', { hasText: caller }).waitFor();
  await shot(a2, 'inbound-history');

  await btn(a1, 'End do not disturb').click();
  await a1.locator('#agent-state[data-state="READY"]').waitFor();
  out.dnd_off = true;
});
