// The disposition flow of inbound calls in the browser: agent1 first talks
// to an outbound customer (a manual dial), then takes an inbound call from
// a known lead: the lead panel and the script show the caller, not the
// customer before. The agent hangs up and sets a callback in the
// Disposition form; the callback is in their Callbacks list. A second caller
// is dispositioned Do not call. A third, no lead's number, is made a lead
// during the wrap-up and given a callback. A manager's export of the list (the API)
// then shows both leads settled, with no attempt counted for either.
//   OUTBOUND, OUTBOUND_NAME  the number agent1 dials first, its first name
//   CALLER, CALLER_NAME      the first caller (a lead), their first name
//   DNC_CALLER, DNC_NAME     the second caller (a lead), their first name
//   NEW_CALLER               a third caller, no lead's number
//   DID                      the number the callers dial (queue Support)
import assert from 'node:assert/strict';
import path from 'node:path';
import { base, shots, browser, login, btn, run } from './lib.mjs';

const env = process.env;
const out = { outbound_script: '', inbound_script: '', callback_listed: false, dnc: false, late_lead: false, export: {} };
const shot = (page, file) => page.screenshot({ path: path.join(shots, file + '.png'), fullPage: true });

async function inject(admin, from) {
  const status = await admin.evaluate(async ([d, f]) => {
    const me = await (await fetch('/api/v1/me')).json();
    const r = await fetch('/api/v1/sim/inbound', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
      body: JSON.stringify({ did: d, from: f }) });
    return r.status;
  }, [env.DID, from]);
  assert.equal(status, 202);
}

// accept takes the inbound call ringing the agent and hangs it up: the
// Disposition form is on screen.
async function takeAndHangUp(page, from, name) {
  const offer = page.getByRole('alertdialog', { name: 'Incoming call' });
  await offer.waitFor();
  assert.equal(await page.locator('#offer-from').textContent(), from);
  await btn(page, 'Accept').click();
  await page.locator('#agent-state[data-state="INCALL"]').waitFor();
  await page.locator('#inbound-box', { hasText: 'Inbound call from ' + from }).waitFor();
  await page.locator('#lead-name', { hasText: name }).waitFor();
}

await run(out, async () => {
  const { page } = await browser();
  await login(page, 'agent1', 'password-agent1', '/agent');
  await page.locator('body[data-live="yes"]').waitFor();
  await page.locator('#campaign option', { hasText: 'Inbound desk (manual)' }).waitFor({ state: 'attached' });
  await page.getByLabel('Campaign').selectOption({ label: 'Inbound desk (manual)' });
  await btn(page, 'Ready').click();
  await page.locator('#agent-state[data-state="READY"]').waitFor();
  const form = page.getByRole('form', { name: 'Disposition' });

  // An outbound customer first: the script greets them.
  await page.getByLabel('Number to dial').fill(env.OUTBOUND);
  await btn(page, 'Dial').click();
  await page.locator('#agent-state[data-state="INCALL"]').waitFor();
  await page.locator('#call-state', { hasText: /^connected$/ }).waitFor();
  await page.locator('#script-text', { hasText: 'Hello ' + env.OUTBOUND_NAME }).waitFor();
  out.outbound_script = await page.locator('#script-text').textContent();
  await btn(page, 'Hang up').click();
  await form.waitFor();
  await form.getByRole('radio', { name: 'Not interested' }).check();
  await btn(page, 'Save').click();
  await page.locator('#agent-state[data-state="READY"]').waitFor();

  const { page: admin } = await browser();
  await login(admin, 'root', 'password-root');
  await admin.waitForURL((u) => !u.pathname.startsWith('/login'));

  // The caller is a lead: the panel and the script are theirs now.
  await inject(admin, env.CALLER);
  await takeAndHangUp(page, env.CALLER, env.CALLER_NAME);
  await page.locator('#script-text', { hasText: 'Hello ' + env.CALLER_NAME }).waitFor();
  out.inbound_script = await page.locator('#script-text').textContent();
  assert.ok(!out.inbound_script.includes(env.OUTBOUND_NAME), 'nothing of the customer before');
  await shot(page, 'inbound-dispo-call');
  await btn(page, 'Hang up').click();
  await form.waitFor();
  await page.locator('#agent-state[data-state="DISPO"]').waitFor();
  await form.getByRole('radio', { name: 'Callback', exact: true }).check();
  const when = new Date(Date.now() + 26 * 3600e3);
  const p2 = (n) => String(n).padStart(2, '0');
  await page.getByLabel('Call back at (your time)').fill(when.getFullYear() + '-' + p2(when.getMonth() + 1) + '-' +
    p2(when.getDate()) + 'T' + p2(when.getHours()) + ':' + p2(when.getMinutes()));
  await form.getByRole('textbox', { name: 'Notes' }).fill('called in; wants a call back tomorrow');
  await shot(page, 'inbound-dispo-callback');
  await btn(page, 'Save').click();
  await page.locator('#agent-state[data-state="READY"]').waitFor();
  await page.getByRole('tab', { name: /^Callbacks/ }).click();
  const row = page.locator('#callback-rows tr', { hasText: 'called in; wants a call back tomorrow' });
  await row.waitFor();
  assert.equal(await row.getAttribute('data-status'), 'scheduled');
  out.callback_listed = true;
  await page.getByRole('tab', { name: 'Call', exact: true }).click();

  // The second caller asks never to be called.
  await inject(admin, env.DNC_CALLER);
  await takeAndHangUp(page, env.DNC_CALLER, env.DNC_NAME);
  await btn(page, 'Hang up').click();
  await form.waitFor();
  await form.getByRole('radio', { name: 'Do not call' }).check();
  await btn(page, 'Save').click();
  await page.locator('#agent-state[data-state="READY"]').waitFor();
  out.dnc = true;

  // A caller no lead has: the script shows no braces, and the form offers
  // no callback (nobody to call back) until the agent makes the caller a
  // lead during the wrap-up; the callback is then theirs.
  await inject(admin, env.NEW_CALLER);
  const offer = page.getByRole('alertdialog', { name: 'Incoming call' });
  await offer.waitFor();
  await btn(page, 'Accept').click();
  await page.locator('#agent-state[data-state="INCALL"]').waitFor();
  await page.locator('#inbound-box', { hasText: 'Inbound call from ' + env.NEW_CALLER }).waitFor();
  await page.locator('#lead-name', { hasText: 'Unknown caller' }).waitFor();
  await page.locator('#script-text', { hasText: 'Hello , this is agent1.' }).waitFor();
  await btn(page, 'Hang up').click();
  await form.waitFor();
  await form.getByRole('radio', { name: 'Sale' }).waitFor();
  assert.equal(await form.getByRole('radio', { name: 'Callback', exact: true }).count(), 0, 'no callback without a lead');
  await form.getByRole('textbox', { name: 'Notes' }).fill('new customer');
  await page.getByLabel('Given name').fill('Barbara');
  await page.getByLabel('Family name').fill('Liskov');
  await btn(page, 'Create lead').click();
  await page.locator('#lead-name', { hasText: 'Barbara Liskov' }).waitFor();
  await form.getByRole('radio', { name: 'Callback', exact: true }).check();
  assert.equal(await form.getByRole('textbox', { name: 'Notes' }).inputValue(), 'new customer', 'the notes typed stay');
  await page.getByLabel('Call back at (your time)').fill(when.getFullYear() + '-' + p2(when.getMonth() + 1) + '-' +
    p2(when.getDate()) + 'T' + p2(when.getHours()) + ':' + p2(when.getMinutes()));
  await shot(page, 'inbound-dispo-late-lead');
  await btn(page, 'Save').click();
  await page.locator('#agent-state[data-state="READY"]').waitFor();
  out.late_lead = true;

  // A manager reads the leads back through the API.
  out.export = await admin.evaluate(async (campaign) => {
    const { lists } = await (await fetch('/api/v1/campaigns/' + campaign + '/lists')).json();
    const leads = {};
    for (const list of lists) { // the imported one, and "Manual dials"
      const csv = await (await fetch('/api/v1/lists/' + list.id + '/leads.csv')).text();
      const [head, ...rows] = csv.trim().split('\n').map((l) => l.split(','));
      const col = (r, name) => r[head.indexOf(name)];
      // (The export guards cells against spreadsheet formulas: a phone starts with a quote.)
      for (const r of rows) {
        leads[col(r, 'phone').replace(/^'/, '')] = { status: col(r, 'status'), attempts: Number(col(r, 'attempts')),
          last_disposition: col(r, 'last_disposition') };
      }
    }
    return leads;
  }, Number(env.CAMPAIGN));
});
