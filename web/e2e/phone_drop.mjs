// An agent whose SIP phone drops, in headless Chromium against the real
// server with sipp as the phone: ann picks her campaign and clicks Ready;
// Pacer calls her phone, which answers, and she is READY. The Go test then
// makes the phone hang up: the page shows PAUSED with "Phone disconnected:
// reconnecting", and clicking Ready is refused with the reason. The Go test
// puts the phone back; Pacer's redial is answered and the page is READY
// again without a click, the refusal gone from the screen. Run by cmd/pacer's TestBrowserPhoneDrop with:
//   BASE_URL   the server
//   SHOTS      directory for screenshots
//   CHROMIUM   the browser binary (default /usr/bin/chromium)
//   STEP_DIR   where the script and the test tell each other where they
//              are: the script writes "ready" (READY on the page) and "down"
//              (the phone-disconnected state seen); the test writes nothing
//              the script reads, it acts on the phone.
// Prints one JSON line (what the page showed) and exits non-zero on a
// failure.
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { base, shots, browser as launch, run, login, btn } from './lib.mjs';

const stepDir = process.env.STEP_DIR;
const step = (name) => fs.writeFileSync(path.join(stepDir, name), '');
const out = {};
let page;

await run(out, async () => {
  page = (await launch({ viewport: { width: 1280, height: 900 } })).page;
  await login(page, 'ann', 'password-ann', '/agent');
  await page.locator('body[data-live="yes"]').waitFor();
  await page.locator('#campaign option', { hasText: 'Real' }).waitFor({ state: 'attached' });
  await page.getByLabel('Campaign').selectOption({ label: 'Real (power)' });
  // Ready is refused until Pacer has her phone on the line; the READY
  // asked for comes true when the phone answers.
  await btn(page, 'Ready').click();
  await page.locator('#agent-state[data-state="READY"]').waitFor();
  await page.screenshot({ path: path.join(shots, 'agent-phone-up.png') });
  step('ready');

  // The test makes the phone hang up.
  await page.locator('#agent-state[data-state="PAUSED"]').waitFor();
  await page.locator('#pause-code', { hasText: 'Phone disconnected: reconnecting' }).waitFor();
  out.down_label = (await page.locator('#pause-code').textContent()).trim();
  out.down_state = (await page.locator('#agent-state').textContent()).trim();
  await btn(page, 'Ready').click();
  await page.locator('#agent-error', { hasText: 'your phone is not connected' }).waitFor();
  out.ready_refused = (await page.locator('#agent-error').textContent()).trim();
  assert.equal(await page.locator('#agent-state').getAttribute('data-state'), 'PAUSED', 'still paused after clicking Ready');
  await page.screenshot({ path: path.join(shots, 'agent-phone-down.png') });
  step('down');

  // The test puts the phone back; nothing is clicked here.
  await page.locator('#agent-state[data-state="READY"]').waitFor();
  out.back_label = (await page.locator('#pause-code').textContent()).trim();
  // The refusal came true: it is no longer on the screen.
  await page.locator('#agent-error').waitFor({ state: 'hidden' });
  await page.screenshot({ path: path.join(shots, 'agent-phone-back.png') });
}, async () => {
  if (page) await page.screenshot({ path: path.join(shots, 'agent-phone-failed.png') });
});
