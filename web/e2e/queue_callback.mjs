// A caller who asks to be called back keeps their place (issue 14 item 6):
// agent1 is paused when the caller rings the queue Support; after a second
// the caller asks for a callback (the simulated carrier, injected by an
// admin with callback_after_s). The agent's Queue tab shows the request at
// its place with the "Callback" badge and no "Take call"; the supervisor's
// queue wallboard counts it. When the agent goes READY the request is
// offered as "Callback request" with the caller's number; "Call back now"
// dials the caller with the agent in the call; the agent hangs up and
// dispositions it.
//   CALLER  the caller's number
//   DID     the number dialled (the queue Support answers it)
import assert from 'node:assert/strict';
import path from 'node:path';
import { shots, browser, login, btn, run } from './lib.mjs';

const caller = process.env.CALLER, did = process.env.DID;
const out = { listed: false, wallboard: false, offered: false, dialled: false, dispositioned: false };
const shot = (page, file) => page.screenshot({ path: path.join(shots, file + '.png'), fullPage: true });

await run(out, async () => {
  const { page: a } = await browser();
  await login(a, 'agent1', 'password-agent1', '/agent');
  await a.locator('body[data-live="yes"]').waitFor();
  await a.locator('#campaign option', { hasText: 'Callback desk (manual)' }).waitFor({ state: 'attached' });
  await a.getByLabel('Campaign').selectOption({ label: 'Callback desk (manual)' });
  await btn(a, 'Pause').click();
  await a.locator('#agent-state[data-state="PAUSED"]').waitFor();

  const { page: admin } = await browser();
  await login(admin, 'root', 'password-root');
  await admin.waitForURL((u) => !u.pathname.startsWith('/login'));
  const status = await admin.evaluate(async ([d, f]) => {
    const me = await (await fetch('/api/v1/me')).json();
    const r = await fetch('/api/v1/sim/inbound', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
      body: JSON.stringify({ did: d, from: f, callback_after_s: 1 }) });
    return r.status;
  }, [did, caller]);
  assert.equal(status, 202);

  // The Queue tab: the request holds the caller's place; nobody takes it
  // from the panel.
  await a.getByRole('tab', { name: /^Queue/ }).click();
  const row = a.locator('#queue-rows tr[data-callback="true"]', { hasText: caller });
  await row.waitFor();
  await row.locator('.badge.callback', { hasText: 'Callback' }).waitFor();
  assert.equal(await row.getAttribute('data-can-take'), 'false');
  assert.match(await row.textContent(), /dialled when|offered to an agent/);
  out.listed = true;
  await shot(a, 'callback-queue-tab');

  // The supervisor's wallboard counts it.
  const { page: sup } = await browser();
  await login(sup, 'sue', 'password-sue', '/supervise');
  await sup.locator('[data-fig="callbacks"]', { hasText: '1' }).waitFor();
  out.wallboard = true;
  await shot(sup, 'callback-wallboard');

  await btn(a, 'Ready').click();
  const offer = a.getByRole('alertdialog', { name: 'Callback request' });
  await offer.waitFor();
  assert.equal(await a.locator('#offer-from').textContent(), caller);
  assert.equal(await a.locator('#offer-queue').textContent(), 'Support');
  assert.ok(await a.locator('#offer-to').isHidden(), 'no number dialled: nobody is on the line');
  out.offered = true;
  await shot(a, 'callback-offer');

  await btn(a, 'Call back now').click();
  await offer.waitFor({ state: 'hidden' });
  await a.locator('#agent-state[data-state="INCALL"]').waitFor();
  await a.locator('#call-state', { hasText: /^connected$/ }).waitFor();
  await a.locator('#lead-phone', { hasText: caller }).waitFor();
  out.dialled = true;
  await shot(a, 'callback-call');

  await btn(a, 'Hang up').click();
  const form = a.getByRole('form', { name: 'Disposition' });
  await form.waitFor();
  await form.getByRole('radio', { name: 'Not interested' }).check();
  await btn(a, 'Save').click();
  await form.waitFor({ state: 'hidden' });
  out.dispositioned = true;
});
