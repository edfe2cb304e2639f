// The manager console, walked with real clicks by a manager: the campaign
// list, the editor (an unlawful abandon target is refused beside its field,
// then fixed and saved), a new campaign from the full editor, a list's
// counts, recycling its no-answers after a count to confirm, its download
// and its deletion, and a password reset on the users page that the user
// then logs in with, and an agent's campaigns ticked there. Run by cmd/pacer/browser_console_test.go:
//
//   BASE_URL     the running server
//   SHOTS        where screenshots go
//   CHROMIUM     the browser
//   LIST_CAMPAIGN  a draft campaign with one list: 3 leads after a no answer, 1 finished, the rest new
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { base, shots, browser as launch, run, login, btn } from './lib.mjs';

const listCampaign = process.env.LIST_CAMPAIGN;
const browser = () => launch({ acceptDownloads: true });
const out = {};
const info = (page, text) => page.locator('#manage-info', { hasText: text }).waitFor();

async function campaignsAndEditor(page) {
  await page.locator('#campaign-rows tr', { hasText: listCampaign }).waitFor();
  await page.locator('#campaign-rows tr', { hasText: 'Demo' }).locator('.status', { hasText: 'active' }).waitFor();
  await page.screenshot({ path: path.join(shots, 'manage.png'), fullPage: true });

  // The editor: 5% is above the law's 3% for a campaign that is not simulated.
  await page.getByRole('link', { name: 'Settings of ' + listCampaign }).click();
  await page.waitForURL(/\/manage\/campaigns\/\d+$/);
  const target = page.getByLabel('Abandon target (%)');
  await page.locator('#settings-form[data-loaded]').waitFor();
  out.abandon_range = await page.locator('#range-abandon_target').textContent();
  assert.match(out.abandon_range, /at most 3%/);
  await target.fill('5');
  await btn(page, 'Save campaign').click();
  const err = page.locator('#field-abandon_target .field-error');
  await err.waitFor({ state: 'visible' });
  out.field_error = await err.textContent();
  assert.match(out.field_error, /^5% refused: US rules \(TCPA\) allow at most 3%$/);
  assert.equal(await target.getAttribute('aria-invalid'), 'true');
  assert.equal(await page.locator('.field-error:not([hidden])').count(), 1, 'only the field at fault shows an error');
  await page.screenshot({ path: path.join(shots, 'manage-campaign.png'), fullPage: true });
  await target.fill('2.5');
  await page.getByLabel('Ring timeout (seconds)').fill('30');
  await btn(page, 'Save campaign').click();
  await info(page, 'Saved campaign ' + listCampaign);
  await err.waitFor({ state: 'hidden' });
  await page.reload();
  await page.locator('#settings-form[data-loaded]').waitFor();
  assert.equal(await target.inputValue(), '2.5');
  assert.equal(await page.getByLabel('Ring timeout (seconds)').inputValue(), '30');

  // A new campaign from the full editor.
  await page.getByRole('link', { name: 'Campaigns' }).first().click();
  await page.getByRole('link', { name: 'New campaign' }).click();
  await page.getByLabel('Name', { exact: true }).fill('Browser made');
  await page.getByLabel('Mode', { exact: true }).selectOption('power');
  await page.getByLabel('Ring timeout (seconds)').fill('40');
  await btn(page, 'Create campaign').click();
  await page.waitForURL(/\/manage\/campaigns\/\d+\?created=1$/);
  await info(page, 'Created campaign Browser made');
  await page.locator('#settings-form[data-loaded]').waitFor();
  assert.equal(await page.getByLabel('Ring timeout (seconds)').inputValue(), '40');
  assert.equal(await page.getByLabel('Mode', { exact: true }).inputValue(), 'power');
}

async function lists(page) {
  await page.getByRole('link', { name: 'Campaigns' }).first().click();
  await page.getByRole('link', { name: 'Lists of ' + listCampaign }).click();
  const row = page.locator('#list-rows tr').first();
  await row.locator('.count-retry_later', { hasText: '3' }).waitFor();
  const count = async (k) => Number(await row.locator('.count-' + k).textContent());
  out.counts_before = { new: await count('new'), retry_later: await count('retry_later'), finished: await count('finished'),
    callable: await count('callable'), total: await count('total') };
  assert.equal(out.counts_before.finished, 1);
  assert.equal(out.counts_before.callable, 0);
  const name = (await row.locator('td').first().textContent()).trim();

  // Recycle the no-answers: count first, then confirm with the count.
  await btn(page, 'Recycle ' + name).click();
  const dialog = page.getByRole('dialog', { name: 'Recycle leads' });
  await dialog.getByRole('checkbox', { name: 'NA No answer' }).check();
  await btn(page, 'Count leads').click();
  await page.locator('#recycle-count', { hasText: '3 lead(s) match' }).waitFor();
  await btn(page, 'Recycle 3 lead(s)').click();
  await info(page, 'Recycled 3 lead(s) of ' + name);
  await row.locator('.count-callable', { hasText: '3' }).waitFor();
  assert.equal(await count('retry_later'), 0);
  await page.screenshot({ path: path.join(shots, 'manage-lists.png'), fullPage: true });

  // Download: every lead, with where it stands now.
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download ' + name }).click()]);
  const csv = fs.readFileSync(await dl.path(), 'utf8').trim().split('\n');
  assert.match(csv[0], /^id,line,phone,first_name,last_name,state,postal_code,email,status,attempts/);
  out.download_rows = csv.length - 1;
  assert.equal(out.download_rows, out.counts_before.total);
  assert.equal(csv.filter((l) => l.includes(',callable,')).length, 3);

  // Delete, after the confirmation.
  await btn(page, 'Delete ' + name).click();
  await page.locator('#delete-text', { hasText: out.counts_before.total + ' lead(s)' }).waitFor();
  await btn(page, 'Delete list').click();
  await info(page, 'Deleted ' + name + ': ' + out.counts_before.total + ' lead(s) removed');
  await row.locator('.status', { hasText: 'deleted' }).waitFor();
}

async function users(page) {
  await page.getByRole('link', { name: 'Users', exact: true }).click();
  await page.waitForURL(base + '/manage/users');
  await page.locator('#user-rows tr[data-user="manager"] .last-login').filter({ hasNotText: 'never' }).waitFor();
  await page.screenshot({ path: path.join(shots, 'manage-users.png'), fullPage: true });
  await btn(page, 'Reset password of agent1').click();
  await page.getByLabel('New password', { exact: true }).fill('fresh-pass-123');
  await page.getByLabel('New password again').fill('fresh-pass-124');
  await btn(page, 'Set password').click();
  await page.locator('#password-error', { hasText: 'differ' }).waitFor();
  await page.getByLabel('New password again').fill('fresh-pass-123');
  await btn(page, 'Set password').click();
  await info(page, 'New password set for agent1');

  const ag = await browser();
  try {
    await login(ag.page, 'agent1', 'agent');
    await ag.page.getByText('wrong username or password').waitFor();
    await login(ag.page, 'agent1', 'fresh-pass-123', '/agent');
  } finally {
    await ag.ctx.close();
  }
  await page.reload();
  await page.locator('#user-rows tr[data-user="agent1"] .last-login').filter({ hasNotText: 'never' }).waitFor();
  out.password_reset = true;

  // An agent's campaigns, ticked on the users page.
  await page.getByRole('checkbox', { name: 'agent2 works ' + listCampaign }).check();
  await info(page, 'Assigned agent2 to ' + listCampaign + '.');
  await page.getByRole('checkbox', { name: 'agent3 works Demo' }).uncheck();
  await info(page, 'Took agent3 off Demo.');
  await page.reload();
  assert.ok(await page.getByRole('checkbox', { name: 'agent2 works ' + listCampaign }).isChecked());
  assert.ok(!(await page.getByRole('checkbox', { name: 'agent3 works Demo' }).isChecked()));
}

await run(out, async () => {
  const m = await browser();
  try {
    await login(m.page, 'manager', 'manager', '/manage');
    await campaignsAndEditor(m.page);
    await lists(m.page);
    await users(m.page);
  } finally {
    await m.ctx.close();
  }
});
