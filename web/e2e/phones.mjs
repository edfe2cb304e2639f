// Agents' SIP phones on the console's users page, in headless Chromium: a
// header-injecting URI refused in the dialog, a fixed URI saved and shown in
// the agent's row, a SIP password generated and shown once, then removed.
// Run by cmd/pacer/browser_phones_test.go:
//
//   BASE_URL     the running server
//   SHOTS        where screenshots go
//   CHROMIUM     the browser
import path from 'node:path';
import assert from 'node:assert/strict';
import { base, shots, browser, run, login, btn } from './lib.mjs';

const out = {};
let page;
const info = (text) => page.locator('#manage-info', { hasText: text }).waitFor();
const row = (user) => page.locator('#user-rows tr[data-user="' + user + '"]');

await run(out, async () => {
  ({ page } = await browser());
  await login(page, 'manager', 'manager', '/manage');
  await page.goto(base + '/manage/users');
  await row('agent1').locator('.phone', { hasText: 'None' }).waitFor();

  await btn(page, 'SIP phone of agent1').click();
  await page.locator('#phone-now', { hasText: 'Now: None' }).waitFor();
  await page.getByLabel('Fixed URI').fill('sip:agent1@10.0.0.5:5060>;x=1');
  await btn(page, 'Save URI').click();
  // The refusal comes back from the server: wait for it, then read it.
  await page.locator('#phone-error', { hasText: /\S/ }).waitFor();
  out.uri_error = await page.locator('#phone-error').textContent();
  assert.match(out.uri_error, /angle brackets/);
  await page.getByLabel('Fixed URI').fill('sip:agent1@10.0.0.5:5060');
  await btn(page, 'Save URI').click();
  await info('Saved the phone URI of agent1');
  await page.locator('#phone-now', { hasText: 'Fixed: sip:agent1@10.0.0.5:5060' }).waitFor();

  await btn(page, 'Generate one').click();
  await info('Generated a SIP password for agent1');
  out.sip_password = (await page.locator('#phone-pass-generated').textContent()).trim();
  assert.equal(out.sip_password.length, 16);
  await page.locator('#phone-now', { hasText: 'SIP password set' }).waitFor();
  await page.screenshot({ path: path.join(shots, 'manage-users-phone.png'), fullPage: true });
  await btn(page, 'Close').click();
  await row('agent1').locator('.phone', { hasText: 'Fixed: sip:agent1@10.0.0.5:5060' }).waitFor();
  await page.screenshot({ path: path.join(shots, 'manage-users-phones.png'), fullPage: true });

  await btn(page, 'SIP phone of agent2').click();
  await page.getByLabel('SIP password').fill('typed-pass-2');
  await btn(page, 'Set SIP password').click();
  await info('Set the SIP password of agent2');
  await page.locator('#phone-now', { hasText: 'SIP password set' }).waitFor();
  await btn(page, 'Remove SIP password').click();
  await info('Removed the SIP password of agent2');
  await page.locator('#phone-now', { hasText: 'no SIP password' }).waitFor();
  await btn(page, 'Close').click();
  out.done = true;
}, async () => page && page.screenshot({ path: path.join(shots, 'phones-failure.png'), fullPage: true }));
