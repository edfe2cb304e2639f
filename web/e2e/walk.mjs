// Walks the real Pacer server in headless Chromium: an agent takes a
// predictive call from READY to disposition, a supervisor watches the
// agent's state change, the agent sets a callback on the next call and finds
// it in the Callbacks tab, an admin sees its job on the jobs page, a manager
// creates a campaign and uploads a lead file with bad rows, changes a DNC
// list and reads its history, then takes an agent off the demo campaign
// (whose Ready is refused, with the reason) and assigns them again. Run by
// cmd/pacer's TestBrowser (make test) with:
//   BASE_URL     the server, e.g. http://127.0.0.1:8080
//   SHOTS        directory for one screenshot per page
//   CHROMIUM     the browser binary (default /usr/bin/chromium)
//   LEADS_CSV    a lead file with bad rows for the manager to upload
// Prints one JSON line of measurements and exits non-zero on a failure.
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { base, shots, HANG_GUARD_MS, browser as launch, run, login, btn } from './lib.mjs';

const leadsCSV = process.env.LEADS_CSV;
const browser = () => launch({ acceptDownloads: true });
const out = {};

async function agentAndSupervisor() {
  const sup = await browser();
  const ag = await browser();
  try {
    await ag.page.goto(base + '/login');
    await ag.page.screenshot({ path: path.join(shots, 'login.png') });
    await login(sup.page, 'supervisor', 'supervisor', '/supervise');
    await sup.page.locator('#live[data-live="yes"]').waitFor();
    await sup.page.getByRole('link', { name: 'Demo', exact: true }).click();
    await sup.page.locator('#title', { hasText: 'Demo' }).waitFor();
    await login(ag.page, 'agent1', 'agent', '/agent');
    await ag.page.locator('body[data-live="yes"]').waitFor();

    // A locator, not waitForFunction: the page's CSP forbids the eval that
    // waitForFunction's polling uses, which fails whenever the first check
    // comes too early.
    const boardState = (state) => sup.page.locator(`#agents-rows tr[data-state="${state}"]`, {
      has: sup.page.locator('td:first-child', { hasText: /^agent1$/ }),
    }).waitFor();

    // Log in and pause, so the agent is on the board; then time READY.
    let t0 = Date.now();
    await btn(ag.page, 'Pause').click();
    await ag.page.locator('#agent-state[data-state="PAUSED"]').waitFor();
    await boardState('PAUSED');
    out.supervisor_sees_login_ms = Date.now() - t0;

    t0 = Date.now();
    await btn(ag.page, 'Ready').click();
    await boardState('READY');
    out.supervisor_sees_ready_ms = Date.now() - t0;
    await ag.page.locator('#agent-state[data-state="READY"]').waitFor();
    await ag.page.screenshot({ path: path.join(shots, 'agent-ready.png') });

    // A predictive call arrives connected: lead panel, script, timer.
    t0 = Date.now();
    await ag.page.locator('#agent-state[data-state="INCALL"]').waitFor();
    await ag.page.getByRole('region', { name: 'Lead' }).waitFor({ state: 'visible' });
    out.call_after_ready_ms = Date.now() - t0;
    assert.match(await ag.page.locator('#lead-phone').textContent(), /^\+1\d{10}$/);
    assert.ok((await ag.page.locator('#lead-name').textContent()).trim().length > 0);
    assert.match(await ag.page.locator('#script-text').textContent(), /agent1/);
    const timer1 = await ag.page.locator('#call-timer').textContent();
    await ag.page.waitForTimeout(1300);
    const timer2 = await ag.page.locator('#call-timer').textContent();
    assert.notEqual(timer1, timer2, 'the call timer runs');
    await boardState('INCALL');
    for (const name of ['Dial', 'Skip', 'Resume', 'Unmute', 'Leave']) assert.ok(await btn(ag.page, name).isDisabled(), name + ' disabled in a call');
    for (const name of ['Hang up', 'Hold', 'Mute', 'Transfer', 'Conference', 'Keypad']) assert.ok(await btn(ag.page, name).isEnabled(), name + ' enabled in a call');
    await ag.page.screenshot({ path: path.join(shots, 'agent-incall.png') });

    await btn(ag.page, 'Hold').click();
    await ag.page.locator('#call-state', { hasText: 'held' }).waitFor();
    assert.ok(await btn(ag.page, 'Resume').isEnabled());
    assert.ok(await btn(ag.page, 'Hold').isDisabled());
    await btn(ag.page, 'Resume').click();
    await ag.page.locator('#call-state', { hasText: 'connected' }).waitFor();
    await btn(ag.page, 'Keypad').click();
    await btn(ag.page, '5').click();
    await btn(ag.page, 'Hang up').click();

    const form = ag.page.getByRole('form', { name: 'Disposition' });
    await form.waitFor({ state: 'visible' });
    await ag.page.locator('#agent-state[data-state="DISPO"]').waitFor();
    assert.ok(await btn(ag.page, 'Ready').isDisabled(), 'no READY before the disposition');
    // A callback disposition asks when (the agent's time) and for whom.
    const cbFields = ag.page.getByRole('group', { name: 'Callback' });
    assert.ok(await cbFields.isHidden(), 'no callback fields before a callback disposition');
    await form.getByRole('radio', { name: 'Callback', exact: true }).check();
    await cbFields.waitFor({ state: 'visible' });
    assert.ok(await ag.page.getByRole('radio', { name: 'Me' }).isChecked(), 'scope me by default');
    await form.getByRole('radio', { name: 'Not interested' }).check();
    await cbFields.waitFor({ state: 'hidden' });
    await form.getByRole('textbox', { name: 'Notes' }).fill('Asked not to be <b>called</b> in the morning');
    await ag.page.screenshot({ path: path.join(shots, 'agent-dispo.png') });
    // The agent switches to another tab: the next call must show in the
    // tab's title and icon.
    await ag.page.evaluate(() => Object.defineProperty(document, 'hidden', { configurable: true, get: () => true }));
    await btn(ag.page, 'Save').click();
    await ag.page.locator('#agent-state[data-state="READY"]').waitFor();
    await form.waitFor({ state: 'hidden' });
    assert.equal(await ag.page.locator('#s-calls').textContent(), '1');
    // (Polled from here: the page's CSP forbids the eval waitForFunction uses.)
    for (const end = Date.now() + HANG_GUARD_MS; Date.now() < end && !(await ag.page.title()).startsWith('●');) {
      await ag.page.waitForTimeout(100);
    }
    assert.match(await ag.page.title(), /^● Call/);
    assert.match(await ag.page.locator('#favicon').getAttribute('href'), /alert/);
    await ag.page.evaluate(() => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => false });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    assert.equal(await ag.page.title(), 'Agent · Pacer');

    await ag.page.getByRole('tab', { name: 'History' }).click();
    await ag.page.locator('#history-rows tr', { hasText: 'NI' }).first().waitFor();
    await ag.page.screenshot({ path: path.join(shots, 'agent-history.png') });
    await sup.page.locator('#t-dials').filter({ hasNotText: '–' }).waitFor();
    await sup.page.waitForTimeout(300);
    await sup.page.screenshot({ path: path.join(shots, 'supervise.png') });
    await sup.page.getByRole('region', { name: 'Missed callbacks' }).waitFor();
    await sup.page.locator('#request-counts', { hasText: 'pending' }).waitFor();

    // The next call: the customer wants a callback tomorrow.
    await ag.page.getByRole('tab', { name: 'Call', exact: true }).click();
    await ag.page.locator('#agent-state[data-state="INCALL"]').waitFor();
    await btn(ag.page, 'Hang up').click();
    await form.waitFor({ state: 'visible' });
    await form.getByRole('radio', { name: 'Callback', exact: true }).check();
    const when = new Date(Date.now() + 24 * 3600e3);
    const p2 = (n) => String(n).padStart(2, '0');
    const local = when.getFullYear() + '-' + p2(when.getMonth() + 1) + '-' + p2(when.getDate()) + 'T' + p2(when.getHours()) + ':' + p2(when.getMinutes());
    await ag.page.getByLabel('Call back at (your time)').fill(local);
    await form.getByRole('textbox', { name: 'Notes' }).fill('Call after <i>five</i>');
    await ag.page.getByLabel('Pause after this call').check();
    await ag.page.screenshot({ path: path.join(shots, 'agent-callback.png') });
    await btn(ag.page, 'Save').click();
    await ag.page.locator('#agent-state[data-state="PAUSED"]').waitFor();
    await ag.page.getByRole('tab', { name: /^Callbacks/ }).click();
    const row = ag.page.locator('#callback-rows tr', { hasText: 'Call after <i>five</i>' });
    await row.waitFor();
    assert.equal(await row.getAttribute('data-status'), 'scheduled');
    assert.ok(await row.getByRole('button', { name: 'Dial' }).isEnabled());
    assert.match(await ag.page.locator('#callback-saved').textContent(), /Callback set for/);
    // Reschedule it a day later from the list.
    const before = await row.locator('td').first().textContent();
    await row.getByRole('button', { name: 'Reschedule' }).click();
    const later = new Date(when.getTime() + 24 * 3600e3);
    await row.getByRole('textbox').or(row.locator('input[type="datetime-local"]')).first().fill(
      later.getFullYear() + '-' + p2(later.getMonth() + 1) + '-' + p2(later.getDate()) + 'T' + p2(later.getHours()) + ':' + p2(later.getMinutes()));
    await row.getByRole('button', { name: 'Save time' }).click();
    await ag.page.locator('#callback-rows tr td:first-child').filter({ hasNotText: before }).first().waitFor();
    await ag.page.screenshot({ path: path.join(shots, 'agent-callbacks.png') });

    // One agent, one seat: the workspace opened in a second tab takes it;
    // the first is told, goes quiet, and can take it back.
    const tab2 = await ag.ctx.newPage();
    await tab2.goto(base + '/agent');
    await tab2.locator('#agent-state[data-state="PAUSED"]').waitFor();
    await ag.page.locator('#seat-lost').waitFor({ state: 'visible' });
    assert.ok(await btn(ag.page, 'Ready').isDisabled(), 'the replaced tab takes no action');
    await ag.page.screenshot({ path: path.join(shots, 'agent-seat-lost.png') });
    await btn(ag.page, 'Use this tab instead').click();
    await tab2.locator('#seat-lost').waitFor({ state: 'visible' });
    await ag.page.locator('#agent-state[data-state="PAUSED"]').waitFor();
    assert.ok(await ag.page.locator('#seat-lost').isHidden(), 'the reloaded tab holds the seat');
    await tab2.close();
  } finally {
    await ag.ctx.close();
    await sup.ctx.close();
  }
}

async function manager() {
  const m = await browser();
  try {
    await login(m.page, 'manager', 'manager', '/manage');
    await m.page.getByLabel('Name', { exact: true }).fill('E2E campaign');
    await m.page.getByLabel('Mode').selectOption('power');
    await btn(m.page, 'Create campaign').click();
    await m.page.locator('#manage-info', { hasText: 'Created campaign E2E campaign' }).waitFor();
    await m.page.locator('#campaign-rows tr', { hasText: 'E2E campaign' }).waitFor();
    // The law's floors reach the console: a power campaign without caller ID
    // does not start, and the refusal names the rule.
    await btn(m.page, 'Start E2E campaign').click();
    await m.page.locator('#manage-error', { hasText: 'refused: US rules (TCPA) need a caller ID that can be called back' }).waitFor();
    await m.page.locator('#campaign-rows tr', { hasText: 'E2E campaign' }).locator('.status', { hasText: 'draft' }).waitFor();
    await m.page.getByRole('link', { name: 'Lists of E2E campaign' }).click();
    await m.page.waitForURL(/\/manage\/campaigns\/\d+\/lists$/);
    await m.page.getByLabel('Lead file').setInputFiles(leadsCSV);

    // Watch the progress bar while the import runs.
    await m.page.evaluate(() => {
      window.seenProgress = [];
      new MutationObserver(() => window.seenProgress.push(document.getElementById('upload-text').textContent))
        .observe(document.getElementById('upload-text'), { childList: true, characterData: true, subtree: true });
    });
    await btn(m.page, 'Upload').click();
    await m.page.locator('#upload-text', { hasText: 'Done:' }).waitFor();
    assert.equal(await m.page.locator('#upload-progress').getAttribute('value'), '100');
    out.progress_texts = await m.page.evaluate(() => window.seenProgress.filter((t) => t.startsWith('Importing')).length);
    const done = await m.page.locator('#upload-text').textContent();
    out.import_summary = done;
    assert.match(done, /rejected/);
    const link = m.page.getByRole('link', { name: 'Download rejected rows' });
    await link.waitFor({ state: 'visible' });
    await m.page.screenshot({ path: path.join(shots, 'manage-upload.png'), fullPage: true });
    const [dl] = await Promise.all([m.page.waitForEvent('download'), link.click()]);
    const report = fs.readFileSync(await dl.path(), 'utf8');
    assert.match(report, /^line,reason,raw/);
    out.report_lines = report.trim().split('\n').length - 1;
  } finally {
    await m.ctx.close();
  }
}

// The manager's DNC changes from the console: a removal without a reason is
// refused on the page, the history shows who, how and why, and exports as CSV.
async function dncHistory() {
  const m = await browser();
  try {
    await login(m.page, 'manager', 'manager', '/manage');
    await m.page.getByRole('link', { name: 'Do not call' }).click();
    await m.page.waitForURL(base + '/manage/dnc');
    await m.page.getByLabel('Number', { exact: true }).fill('202 555 0188');
    await m.page.getByLabel('Reason (needed to remove)').fill('asked on a call');
    await btn(m.page, 'Add').click();
    await m.page.locator('#manage-info', { hasText: 'Added +12025550188' }).waitFor();
    await btn(m.page, 'Remove').click();
    await m.page.locator('#manage-error', { hasText: 'needs a reason' }).waitFor();
    await m.page.getByLabel('Reason (needed to remove)').fill('added in error');
    await btn(m.page, 'Remove').click();
    await m.page.locator('#manage-info', { hasText: 'Removed +12025550188' }).waitFor();
    await m.page.getByLabel('Find number').fill('555-0188');
    await btn(m.page, 'Show').click();
    await m.page.locator('#dnc-history tr', { hasText: 'asked on a call' }).waitFor();
    const rows = await m.page.locator('#dnc-history tr').allTextContents();
    assert.equal(rows.length, 2, rows.join('\n'));
    assert.match(rows[0], /remove.*Global.*\+12025550188.*console.*manager.*added in error/);
    assert.match(rows[1], /add.*Global.*\+12025550188.*console.*manager.*asked on a call/);
    const [dl] = await Promise.all([m.page.waitForEvent('download'), m.page.getByRole('link', { name: 'Export CSV' }).click()]);
    const csv = fs.readFileSync(await dl.path(), 'utf8').trim().split('\n');
    assert.equal(csv[0], 'at,action,list,phone,how,by,by_user,call_id,reason');
    assert.equal(csv.length, 3, csv.join('\n'));
    out.dnc_history_rows = rows.length;
  } finally {
    await m.ctx.close();
  }
}

// Agents work only their campaigns: the manager takes agent5 off the demo
// campaign in the console, agent5's Ready is refused with the reason on the
// page, and once assigned again agent5 goes READY.
async function assignment() {
  const m = await browser();
  const ag = await browser();
  try {
    await login(m.page, 'manager', 'manager', '/manage');
    await m.page.getByRole('link', { name: 'Agents of Demo' }).click();
    await m.page.waitForURL(/\/manage\/campaigns\/\d+\/agents$/);
    await m.page.locator('#assign-rows tr[data-agent="agent5"]').waitFor();
    await btn(m.page, 'Unassign agent5').click();
    await m.page.locator('#manage-info', { hasText: 'Unassigned agent5.' }).waitFor();
    await m.page.locator('#assign-rows tr[data-agent="agent5"]').waitFor({ state: 'detached' });

    await login(ag.page, 'agent5', 'agent', '/agent');
    await btn(ag.page, 'Ready').click();
    const why = ag.page.locator('#agent-error', { hasText: 'not assigned' });
    await why.waitFor();
    out.unassigned_reason = await why.textContent();
    await ag.page.screenshot({ path: path.join(shots, 'agent-unassigned.png') });

    await m.page.getByLabel('Agent', { exact: true }).selectOption('agent5');
    await btn(m.page, 'Assign').click();
    await m.page.locator('#assign-rows tr[data-agent="agent5"]').waitFor();
    await m.page.screenshot({ path: path.join(shots, 'manage-agents.png'), fullPage: true });
    await ag.page.reload();
    await btn(ag.page, 'Ready').click();
    await ag.page.locator('#agent-state[data-state="READY"]').waitFor();
    await btn(ag.page, 'Pause').click();
    // The demo may have put a call through to agent5 by then: the pause
    // then waits for the end of that call, and the page says so.
    await ag.page.locator('#agent-state[data-state="PAUSED"], #pause-pending:not([hidden])').first().waitFor();
  } finally {
    await m.ctx.close();
    await ag.ctx.close();
  }
}

async function admin() {
  const a = await browser();
  try {
    await login(a.page, 'root', 'root-password', '/manage');
    await a.page.getByRole('link', { name: 'Jobs' }).click();
    await a.page.waitForURL(base + '/admin/jobs');
    const counts = a.page.locator('#counts-rows tr[data-kind="callback_due"]');
    await counts.waitFor();
    await a.page.getByLabel('Kind', { exact: true }).selectOption('callback_due');
    await btn(a.page, 'Show').click();
    const job = a.page.locator('#job-rows tr[data-state="scheduled"]').first();
    await job.waitFor();
    assert.ok(await job.getByRole('button', { name: 'Cancel' }).isEnabled());
    assert.ok(await job.getByRole('button', { name: 'Retry' }).isEnabled());
    await a.page.screenshot({ path: path.join(shots, 'jobs.png'), fullPage: true });
  } finally {
    await a.ctx.close();
  }
}

await run(out, async () => {
  await agentAndSupervisor();
  await admin();
  await manager();
  await dncHistory();
  await assignment();
});
