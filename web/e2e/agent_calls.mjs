// An agent works a preview campaign in headless Chromium with real clicks:
// every preview is dialled or skipped until none is left. A dial the
// customer answers shows as connected with Hang up and Hold enabled, is
// hung up and dispositioned; a dial nobody answers (busy, machine) shows a
// notice with its outcome and the agent is shown the next preview, never
// the disposition form; Skip moves to a different lead until the
// campaign's hourly skip limit, when the button says so. Then a manual dial
// of a DNC number is refused with the reason on screen and a new number is
// dialled. Run by cmd/pacer's TestBrowserAgentCalls with:
//   BASE_URL   the server
//   CHROMIUM   the browser binary (default /usr/bin/chromium)
//   SHOTS      directory for screenshots
//   AGENT, PASSWORD  the agent's login
//   LEADS      how many leads the campaign has
//   SKIP_LIMIT the campaign's preview_skip_limit_per_hour
//   DNC_NUMBER a number on the DNC list; NEW_NUMBER a number that is no lead
// Prints one JSON line and exits non-zero on a failure.
import path from 'node:path';
import assert from 'node:assert/strict';
import { shots, browser, run, login, btn as button } from './lib.mjs';

const leads = Number(process.env.LEADS);
const skipLimit = Number(process.env.SKIP_LIMIT);
const { page } = await browser();
const btn = (name) => button(page, name);
const shot = (name) => page.screenshot({ path: path.join(shots, name + '.png') });
const out = { previewed: 0, skipped: 0, connected: 0, unanswered: 0, outcomes: {}, skip_refused: false };

await run(out, async () => {
  await login(page, process.env.AGENT, process.env.PASSWORD, '/agent');
  await page.locator('body[data-live="yes"]').waitFor();
  await page.locator('#campaign option').first().waitFor({ state: 'attached' });
  await btn('Ready').click();
  await page.locator('#call-state', { hasText: /^preview$/ }).waitFor();

  const seen = new Set();
  let noticeCall = '';
  for (;;) {
    // The next preview, or none left: READY with nothing on screen.
    await page.locator('#call-state', { hasText: /^(preview|none)$/ }).waitFor();
    if (await page.locator('#call-state').textContent() === 'none') {
      await page.locator('#agent-state[data-state="READY"]').waitFor();
      break;
    }
    const phone = await page.locator('#lead-phone').textContent();
    assert.ok(!seen.has(phone), 'lead ' + phone + ' was offered again');
    seen.add(phone);
    out.previewed++;
    if (out.previewed === 1) await shot('agent-calls-preview');

    const skipsLeft = out.skipped < skipLimit;
    if (out.previewed % 3 === 2) {
      if (!skipsLeft) {
        // The limit is reached: the button says so and stays off.
        await page.locator('#btn-skip', { hasText: 'Skip (limit reached)' }).waitFor();
        assert.ok(await page.locator('#btn-skip').isDisabled());
        out.skip_refused = true;
        await shot('agent-calls-skip-limit');
      } else {
        await btn('Skip').click();
        out.skipped++;
        // Skip moves to a different lead (or to none left).
        await page.locator('#lead-phone', { hasNotText: phone }).or(page.locator('#call-state', { hasText: /^none$/ })).waitFor();
        continue;
      }
    }
    await btn('Dial').click();
    // Answered: connected, with the call controls on. Not answered: a
    // notice with the outcome, and the agent moves on.
    const connected = page.locator('#call-state', { hasText: /^connected$/ });
    const notice = page.locator(`#call-notice:not([hidden]):not([data-call="${noticeCall}"])`);
    await connected.or(notice).first().waitFor();
    if (await notice.isVisible()) {
      noticeCall = await notice.getAttribute('data-call');
      const outcome = await notice.getAttribute('data-outcome');
      out.unanswered++;
      out.outcomes[outcome] = (out.outcomes[outcome] || 0) + 1;
      assert.match(await notice.textContent(), new RegExp('Call to \\' + phone + ' ended: '));
      if (out.unanswered === 1) await shot('agent-calls-unanswered');
      assert.ok(await page.locator('#dispo-form').isHidden(), 'no disposition form for an unanswered dial');
      assert.notEqual(await page.locator('#agent-state').getAttribute('data-state'), 'DISPO');
      // The agent moves on: the next lead (or none left) replaces this one.
      await page.locator('#lead-phone', { hasNotText: phone }).or(page.locator('#call-state', { hasText: /^none$/ })).waitFor();
      continue;
    }
    out.connected++;
    assert.ok(!(await btn('Hang up').isDisabled()), 'Hang up is on when connected');
    assert.ok(!(await btn('Hold').isDisabled()), 'Hold is on when connected');
    assert.ok(!(await btn('Mute').isDisabled()), 'Mute is on when connected');
    assert.ok(!(await btn('Keypad').isDisabled()), 'Keypad is on when connected');
    if (out.connected === 1) {
      await shot('agent-calls-connected');
      await btn('Hold').click();
      await page.locator('#call-state', { hasText: /^held$/ }).waitFor();
      await btn('Resume').click();
      await connected.waitFor();
    }
    await btn('Hang up').click();
    const form = page.getByRole('form', { name: 'Disposition' });
    await form.waitFor();
    await form.getByRole('radio', { name: 'Not interested' }).check();
    await btn('Save').click();
    await form.waitFor({ state: 'hidden' });
  }
  assert.equal(out.previewed, leads, 'every lead was previewed once');
  await shot('agent-calls-done');

  // Manual dial: a DNC number is refused with the reason on screen.
  await page.getByLabel('Number to dial').fill(process.env.DNC_NUMBER);
  await btn('Dial').click();
  await page.locator('#agent-error', { hasText: 'do-not-call' }).waitFor();
  out.dnc_refusal = await page.locator('#agent-error').textContent();
  await shot('agent-calls-dnc');
  // A number that is no lead is dialled (it joins the manual list).
  await page.getByLabel('Number to dial').fill(process.env.NEW_NUMBER);
  await btn('Dial').click();
  // The lead panel shows the new number, unless the dial went unanswered
  // so fast that the agent is READY again by the time the page is looked
  // at: then its notice names the number.
  await page.locator('#lead-phone', { hasText: process.env.NEW_NUMBER })
    .or(page.locator('#call-notice:not([hidden])', { hasText: process.env.NEW_NUMBER })).first().waitFor();
  const connected = page.locator('#call-state', { hasText: /^connected$/ });
  const notice = page.locator(`#call-notice:not([hidden]):not([data-call="${noticeCall}"])`);
  await connected.or(notice).first().waitFor();
  if (await notice.isVisible()) {
    out.manual = await notice.getAttribute('data-outcome');
  } else {
    out.manual = 'completed';
    await btn('Hang up').click();
    const form = page.getByRole('form', { name: 'Disposition' });
    await form.getByRole('radio', { name: 'Not interested' }).check();
    await btn('Save').click();
    await form.waitFor({ state: 'hidden' });
  }
  await page.locator('#agent-state[data-state="READY"]').waitFor();
  await shot('agent-calls-manual');
}, async () => {
  console.error('agent page error box:', await page.locator('#agent-error').textContent().catch(() => ''));
  await shot('agent-calls-failure');
});
