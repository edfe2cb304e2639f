// SIP trunks and a campaign's carrier and recordings, walked with real
// clicks by a manager: two trunks added on the Trunks page (a bad URI
// refused first), one edited, both given to a campaign and reordered, a WAV that is not
// a WAV refused with its reason, a real WAV (written here: 44.1 kHz 16-bit
// tone) uploaded and shown with its length and a player that loads it,
// then the trunk in use refused removal with the campaign named. Run by
// cmd/pacer/browser_trunks_test.go:
//
//   BASE_URL       the running server
//   SHOTS          where screenshots go
//   CHROMIUM       the browser
//   CAMPAIGN       a draft power campaign that is not simulated
import path from 'node:path';
import assert from 'node:assert/strict';
import { shots, browser, run, login, btn, wav, HANG_GUARD_MS } from './lib.mjs';

const campaign = process.env.CAMPAIGN;
const out = {};
const info = (page, text) => page.locator('#manage-info', { hasText: text }).waitFor();

async function addTrunk(page, t) {
  await page.getByLabel('Name', { exact: true }).fill(t.name);
  await page.getByLabel('URI', { exact: true }).fill(t.uri);
  if (t.username) await page.getByLabel('Username', { exact: true }).fill(t.username);
  if (t.password) await page.getByLabel('Password', { exact: true }).fill(t.password);
  if (t.channels) await page.getByLabel('Max channels').fill(String(t.channels));
  if (t.cps) await page.getByLabel('Calls per second').fill(String(t.cps));
  if (t.header) await page.getByLabel('Caller ID in').selectOption(t.header);
  await btn(page, 'Add trunk').click();
}

async function trunksPage(page) {
  await page.getByRole('link', { name: 'Trunks', exact: true }).click();
  await page.waitForURL(/\/manage\/trunks$/);
  await page.locator('#trunk-rows', { hasText: 'No trunks yet' }).waitFor();

  // A URI that is no SIP address is refused beside the form, in words.
  await addTrunk(page, { name: 'carrier-a', uri: 'http://carrier.example' });
  const formErr = page.locator('#trunk-form-error');
  await formErr.waitFor({ state: 'visible' });
  out.bad_uri_error = await formErr.textContent();
  assert.match(out.bad_uri_error, /it must start with sip:/);

  await page.getByLabel('URI', { exact: true }).fill('sip:127.0.0.1:5090;transport=udp');
  await page.getByLabel('Username', { exact: true }).fill('acct42');
  await page.getByLabel('Password', { exact: true }).fill('digest-secret-1');
  await page.getByLabel('Max channels').fill('12');
  await page.getByLabel('Calls per second').fill('2.5');
  await page.getByLabel('Caller ID in').selectOption('pai');
  await btn(page, 'Add trunk').click();
  await info(page, 'Added trunk carrier-a');
  await addTrunk(page, { name: 'carrier-b', uri: 'sip:carrier-b.example;transport=tcp' });
  await info(page, 'Added trunk carrier-b');
  const rowA = page.locator('#trunk-rows tr[data-trunk="carrier-a"]');
  await rowA.waitFor();
  out.password_cell = (await rowA.locator('.password').textContent()).trim();
  assert.equal(out.password_cell, 'set');
  assert.ok(!(await page.content()).includes('digest-secret-1'), 'the password is never on the page');

  // Edit: the form takes the trunk's values (never its password) and saves the change.
  await btn(page, 'Edit trunk carrier-b').click();
  assert.equal(await page.getByLabel('URI', { exact: true }).inputValue(), 'sip:carrier-b.example;transport=tcp');
  await page.getByLabel('Max channels').fill('5');
  await page.getByLabel('Transfer to a number').selectOption('refer');
  await btn(page, 'Save trunk').click();
  await info(page, 'Saved trunk carrier-b');
  await page.locator('#trunk-rows tr[data-trunk="carrier-b"] td:nth-child(3)', { hasText: '5' }).waitFor();
  await page.locator('#trunk-rows tr[data-trunk="carrier-b"] td.transfer', { hasText: 'REFER' }).waitFor();
  await page.locator('#trunk-form-title', { hasText: 'New trunk' }).waitFor();
  await page.screenshot({ path: path.join(shots, 'manage-trunks.png'), fullPage: true });
}

async function carrier(page) {
  await page.getByRole('link', { name: 'Campaigns', exact: true }).first().click();
  await page.getByRole('link', { name: 'Settings of ' + campaign }).click();
  await page.waitForURL(/\/manage\/campaigns\/\d+$/);
  await page.locator('#no-trunks:not([hidden])').waitFor();

  // Both trunks, then carrier-b moved first.
  await page.getByLabel('Add trunk').selectOption('carrier-a');
  await btn(page, 'Add').click();
  await page.getByLabel('Add trunk').selectOption('carrier-b');
  await btn(page, 'Add').click();
  await btn(page, 'Move carrier-b up').click();
  await btn(page, 'Save trunks').click();
  await info(page, 'Trunks saved: carrier-b, carrier-a.');
  out.trunk_order = await page.locator('#campaign-trunks li .trunk-name').allTextContents();

  // A file that is not a WAV: refused with its reason.
  await page.getByLabel('WAV file').first().setInputFiles({ name: 'notes.wav', mimeType: 'audio/wav', buffer: Buffer.from('these are my notes, not audio') });
  await btn(page, 'Upload information message').click();
  const wavErr = page.locator('#error-info_message');
  await wavErr.waitFor({ state: 'visible' });
  out.bad_wav_error = await wavErr.textContent();
  assert.match(out.bad_wav_error, /notes\.wav: not a usable WAV file: no RIFF\/WAVE header/);

  // A real recording: 2.5 s at 44.1 kHz, stored at 8 kHz, its length shown.
  await page.getByLabel('WAV file').first().setInputFiles({ name: 'message.wav', mimeType: 'audio/wav', buffer: wav(44100, 2.5) });
  await btn(page, 'Upload information message').click();
  await info(page, 'Information message uploaded: message.wav, 2.5 s.');
  await wavErr.waitFor({ state: 'hidden' });
  out.recording_info = await page.locator('#info-info_message').textContent();
  assert.match(out.recording_info, /^message\.wav · 2\.5 s · uploaded by manager on /);
  // The player loads what callers will hear. (Polled from here: the page's
  // CSP forbids the eval waitForFunction uses when its first check fails.)
  const player = page.locator('#audio-info_message');
  for (const end = Date.now() + HANG_GUARD_MS; Date.now() < end && !((await player.evaluate((a) => a.duration)) > 0);) {
    await page.waitForTimeout(100);
  }
  out.player_duration = await player.evaluate((a) => a.duration);
  assert.ok(out.player_duration > 0, 'the player loaded the recording');
  // The carrier and recordings sections sit under the long settings form.
  await page.locator('#carrier h2').evaluate((h) => h.scrollIntoView());
  await page.screenshot({ path: path.join(shots, 'manage-carrier.png') });

  // After a reload the page shows what was saved.
  await page.reload();
  await page.locator('#campaign-trunks li').first().waitFor();
  assert.deepEqual(await page.locator('#campaign-trunks li .trunk-name').allTextContents(), ['carrier-b', 'carrier-a']);
  await page.locator('#info-info_message', { hasText: '2.5 s' }).waitFor();
}

async function removeInUse(page) {
  await page.getByRole('link', { name: 'Trunks', exact: true }).click();
  const rowA = page.locator('#trunk-rows tr[data-trunk="carrier-a"]');
  await rowA.locator('.campaigns', { hasText: campaign }).waitFor();
  await btn(page, 'Remove trunk carrier-a').click();
  await page.locator('#remove-dialog[open]').waitFor();
  await btn(page, 'Remove').click();
  const err = page.locator('#remove-error');
  await err.waitFor({ state: 'visible' });
  out.remove_error = await err.textContent();
  assert.match(out.remove_error, /trunk "carrier-a" is in use by campaign\(s\) /);
  await page.screenshot({ path: path.join(shots, 'manage-trunks-in-use.png'), fullPage: true });
  await btn(page, 'Cancel').click();
  await page.locator('#remove-dialog:not([open])').waitFor({ state: 'attached' });
  assert.equal(await rowA.count(), 1, 'the trunk is still there');
}

await run(out, async () => {
  const m = await browser();
  await login(m.page, 'manager', 'manager', '/manage');
  await trunksPage(m.page);
  await carrier(m.page);
  await removeInUse(m.page);
});
