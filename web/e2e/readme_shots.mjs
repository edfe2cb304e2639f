// Retakes the README's screenshots (web/e2e/*.png) from a running demo, as an
// agent, a supervisor and a manager would see it:
//   make run &   # wait a couple of minutes so the board has figures
//   BASE_URL=http://127.0.0.1:8080 SHOTS=web/e2e node web/e2e/readme_shots.mjs
// The agent takes a call and starts its wrap-up; the manager's editor shows a
// refused abandon target beside its field (nothing is saved).
import { base, shots, browser, login, btn, run } from './lib.mjs';
import path from 'node:path';

const shot = (page, name, fullPage = false) => page.screenshot({ path: path.join(shots, name + '.png'), fullPage });
const pause = (page, ms) => page.waitForTimeout(ms); // lets charts and timers fill in; nothing is asserted

await run({}, async () => {
  const ag = (await browser()).page;
  await login(ag, 'agent1', 'agent', '/agent');
  // agent1 may still be READY (or on a call) from an earlier run.
  await ag.locator('body[data-live="yes"]').waitFor();
  if (await btn(ag, 'Ready').isEnabled()) await btn(ag, 'Ready').click();
  await ag.locator('#agent-state[data-state="INCALL"]').waitFor();
  await pause(ag, 4000);
  await shot(ag, 'agent', true);

  const sup = (await browser()).page;
  await login(sup, 'supervisor', 'supervisor', '/supervise');
  await sup.locator('#live[data-live="yes"]').waitFor();
  await pause(sup, 2000);
  await shot(sup, 'wallboard-overview');
  await sup.getByRole('link', { name: 'Demo', exact: true }).click();
  await pause(sup, 4000);
  await shot(sup, 'wallboard', true);

  await btn(ag, 'Hang up').click();
  await ag.locator('#agent-state[data-state="DISPO"]').waitFor();
  await ag.keyboard.press('2');
  await pause(ag, 3000);
  await shot(ag, 'agent-wrapup', true);
  await ag.keyboard.press('Enter');

  const m = (await browser()).page;
  await login(m, 'manager', 'manager', '/manage');
  await shot(m, 'manage');
  await m.getByRole('link', { name: 'Settings of Demo' }).click();
  await m.locator('#set-abandon_target').fill('6');
  await btn(m, 'Save campaign').click();
  await m.locator('#err-abandon_target:not([hidden])').waitFor();
  await m.locator('#group-compliance').scrollIntoViewIfNeeded();
  await shot(m, 'manage-campaign');
  await m.getByRole('link', { name: 'Lists', exact: true }).first().click();
  await pause(m, 2500);
  await shot(m, 'manage-lists');
  await m.goto(base + '/manage/users');
  await pause(m, 1500);
  await shot(m, 'manage-users');
  await m.goto(base + '/reports');
  await btn(m, 'Show').click();
  await pause(m, 3000);
  await shot(m, 'reports');
});
