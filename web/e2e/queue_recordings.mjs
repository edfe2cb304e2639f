// A queue's recordings and comfort interval, walked with real clicks by a
// manager on the Queues page. Run by cmd/pacer's
// TestBrowserQueueRecordings against a server with the demo queue Support:
//   BASE_URL   the server
//   SHOTS      directory for screenshots
//   CHROMIUM   the browser binary (default /usr/bin/chromium)
// The manager edits Support: a comfort interval of 5 s is refused beside
// its field, 30 s is saved; a file that is no WAV is refused beside the
// welcome's file field with its reason; a real WAV (written here) is
// uploaded as the welcome and one as the comfort message, each shown with
// its length, file name and uploader and a player that loads it; the
// welcome is removed again. After a reload the page shows what is stored.
import path from 'node:path';
import assert from 'node:assert/strict';
import { base, shots, browser, run, login, btn, wav, HANG_GUARD_MS } from './lib.mjs';

const out = {};
const info = (page, text) => page.locator('#manage-info', { hasText: text }).waitFor();

async function upload(page, kind, label, name, seconds) {
  await page.locator('#file-' + kind).setInputFiles({ name, mimeType: 'audio/wav', buffer: wav(16000, seconds) });
  await btn(page, 'Upload ' + label.toLowerCase()).click();
  await info(page, label + ' uploaded: ' + name + ', ' + seconds.toFixed(1) + ' s.');
  // The player loads what callers will hear. (Polled from here: the page's
  // CSP forbids the eval waitForFunction uses when its first check fails.)
  const player = page.locator('#audio-' + kind);
  for (const end = Date.now() + HANG_GUARD_MS; Date.now() < end && !((await player.evaluate((a) => a.duration)) > 0);) {
    await page.waitForTimeout(100);
  }
  return player.evaluate((a) => a.duration);
}

async function recordings(page) {
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Queues' }).click();
  await page.waitForURL(base + '/manage/queues');
  await btn(page, 'Edit queue Support').click();
  await page.locator('#info-welcome', { hasText: 'None uploaded.' }).waitFor();

  // The comfort interval: out of range is refused beside its field.
  await page.getByLabel('Comfort message every').fill('5');
  await btn(page, 'Save queue').click();
  const comfortErr = page.locator('#err-comfort_every_s');
  await comfortErr.waitFor({ state: 'visible' });
  out.comfort_error = await comfortErr.textContent();
  assert.match(out.comfort_error, /out of range: 0 \(off\) or 15 to 600 seconds/);
  await page.getByLabel('Comfort message every').fill('30');
  await btn(page, 'Save queue').click();
  await info(page, 'Saved queue Support.');

  // A file that is not a WAV: refused beside the field, with its reason.
  await page.locator('#file-welcome').setInputFiles({ name: 'notes.wav', mimeType: 'audio/wav', buffer: Buffer.from('these are my notes, not audio') });
  await btn(page, 'Upload welcome message').click();
  const wavErr = page.locator('#error-welcome');
  await wavErr.waitFor({ state: 'visible' });
  out.bad_wav_error = await wavErr.textContent();
  assert.match(out.bad_wav_error, /notes\.wav: not a usable WAV file: no RIFF\/WAVE header/);

  out.welcome_duration = await upload(page, 'welcome', 'Welcome message', 'welcome.wav', 1.5);
  await wavErr.waitFor({ state: 'hidden' });
  out.welcome_info = await page.locator('#info-welcome').textContent();
  assert.match(out.welcome_info, /^welcome\.wav · 1\.5 s · uploaded by manager on /);
  out.comfort_duration = await upload(page, 'comfort', 'Comfort message', 'still-there.wav', 2);
  assert.ok(await page.locator('#remove-hold_music').isHidden(), 'no hold music to remove');
  await page.locator('#recordings').evaluate((f) => f.scrollIntoView());
  await page.screenshot({ path: path.join(shots, 'queue-recordings.png') });

  // Removing asks first.
  page.once('dialog', (d) => d.accept());
  await page.locator('#remove-welcome').click();
  await info(page, 'Welcome message removed.');
  await page.locator('#info-welcome', { hasText: 'None uploaded.' }).waitFor();
  assert.ok(await page.locator('#audio-welcome').isHidden(), 'no player for a removed recording');

  // After a reload the page shows what is stored.
  await page.reload();
  await btn(page, 'Edit queue Support').click();
  await page.locator('#info-comfort', { hasText: 'still-there.wav · 2.0 s' }).waitFor();
  await page.locator('#info-welcome', { hasText: 'None uploaded.' }).waitFor();
  out.comfort_every = await page.getByLabel('Comfort message every').inputValue();
}

await run(out, async () => {
  const { page } = await browser({ viewport: { width: 1366, height: 900 } });
  await login(page, 'manager', 'manager', '/manage');
  await recordings(page);
});
