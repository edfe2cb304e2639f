// The status bar: the agent's state in words, time in it, the session's
// counters (ticking while the agent is in the state they count), pause codes
// from the campaign (with their time limit), and a pause asked for after
// the call, which the agent can take back.
import { api, el, clock, showError } from './common.js';
import { $, ws, errBox, setText, run, onRender, onTick, secondsSince, elapsed, campaignId } from './agent_core.js';

// stateLabel is what the agent reads: never LOGGED OUT to someone logged in
// to the workspace, PREVIEW for a lead waiting for Dial or Skip.
export function stateLabel(agent, call) {
  switch (agent.state) {
    case 'LOGGED_OUT': return 'Not ready — press Ready';
    case 'RINGING': return call && call.state === 'preview' ? 'PREVIEW' : agent.inbound ? (agent.inbound.request_id ? 'CALLBACK REQUEST' : 'INCOMING CALL') : 'RINGING';
    case 'DND': return 'DO NOT DISTURB';
    case 'DIALING': return 'DIALING';
    case 'INCALL': return 'IN CALL';
    case 'DISPO': return 'WRAP-UP';
    default: return agent.state || '';
  }
}

let pauseCodes = [];
let codesFor = -1;

// loadPauseCodes fills the pause code picker from the campaign's codes (the
// one worked, else the one picked).
export async function loadPauseCodes() {
  const campaign = ws.agent.campaign_id || campaignId();
  if (!campaign || campaign === codesFor) return;
  try {
    const r = await api('GET', '/agent/pause-codes?campaign_id=' + campaign);
    codesFor = campaign;
    pauseCodes = r.pause_codes;
    const sel = $('pause-code-select'), cur = sel.value;
    sel.replaceChildren(...pauseCodes.map((p) => el('option', { value: p.code,
      text: p.label + (p.limit_min ? ' (' + p.limit_min + ' min)' : '') })));
    if (pauseCodes.some((p) => p.code === cur)) sel.value = cur;
  } catch (e) { showError(errBox, e); }
}
$('campaign').addEventListener('change', () => { if (!ws.agent.campaign_id) loadPauseCodes(); });
// A manager may add or change codes while the agent works: read them again
// now and then.
setInterval(() => { codesFor = -1; loadPauseCodes(); }, 60000);

function renderStatus() {
  const a = ws.agent, s = a.state || 'LOGGED_OUT';
  const stateEl = $('agent-state');
  stateEl.textContent = stateLabel(a, ws.call);
  stateEl.dataset.state = s;
  stateEl.dataset.preview = ws.call && ws.call.state === 'preview' ? 'yes' : 'no';
  setText('pause-code', s === 'PAUSED' ? (a.pause_label || a.pause_code) : '');
  if (readyRefused && s !== 'PAUSED' && s !== 'LOGGED_OUT') {
    readyRefused = false;
    showError(errBox, null);
  }
  const pending = a.pause_pending || '';
  $('pause-pending').hidden = !pending;
  const p = pauseCodes.find((c) => c.code === pending);
  setText('pause-pending-code', p ? p.label : pending);
  setText('s-calls', (a.session || {}).calls || 0);
  setText('s-dispo', clock((a.session || {}).avg_dispo_s || 0));
  $('btn-ready').disabled = !(s === 'PAUSED' || s === 'LOGGED_OUT' || s === 'DND');
  // During a call or its disposition, Pause asks for a pause after it.
  $('btn-pause').disabled = s === 'RINGING' || !!pending;
  if (a.campaign_id && a.campaign_id !== codesFor) loadPauseCodes();
}
onRender(renderStatus);

// The counters the server computed up to its "now", plus the time since,
// for the state being counted.
function tickStatus() {
  const a = ws.agent, s = a.state, ss = a.session || {}, more = elapsed();
  setText('state-time', clock(s === 'LOGGED_OUT' ? 0 : secondsSince(a.since)));
  // The seconds the agent's own dial rings are wait until it is answered.
  setText('s-wait', clock((ss.wait_s || 0) + (s === 'READY' || s === 'DIALING' ? more : 0)));
  setText('s-pause', clock((ss.pause_s || 0) + (s === 'PAUSED' || s === 'DND' ? more : 0)));
  setText('s-talk', clock((ss.talk_s || 0) + (s === 'INCALL' && !a.on_hold ? more : 0)));
  const limit = s === 'PAUSED' && a.pause_limit_min ? a.pause_limit_min * 60 : 0;
  const box = $('pause-limit');
  box.hidden = !limit;
  if (limit) {
    const over = secondsSince(a.since) > limit;
    box.textContent = over ? 'over the ' + a.pause_limit_min + ' min limit' : 'of ' + clock(limit);
    box.classList.toggle('over', over);
  }
}
onTick(tickStatus);

// A READY refused while the agent's phone is down is remembered and comes
// true when the phone answers: its refusal is taken off the screen once the
// agent is no longer paused, instead of staying there as if still true.
let readyRefused = false;
$('btn-ready').addEventListener('click', () => run(async () => {
  readyRefused = false;
  try {
    return await api('POST', '/agent/state', { state: 'READY', campaign_id: campaignId() });
  } catch (e) { readyRefused = true; throw e; }
}));
$('btn-pause').addEventListener('click', () => run(() => api('POST', '/agent/state', { state: 'PAUSED',
  pause_code: $('pause-code-select').value, campaign_id: campaignId() })));
// Ready during a call or its disposition takes back the pause asked for.
export const cancelPause = () => run(() => api('POST', '/agent/state', { state: 'READY' }));
$('btn-cancel-pause').addEventListener('click', cancelPause);

export async function loadCampaigns() {
  try {
    const r = await api('GET', '/agent/campaigns');
    $('campaign').replaceChildren(...r.campaigns.map((c) => el('option', { value: c.id, text: c.name + ' (' + c.mode + ')' })));
    if (ws.agent.campaign_id) $('campaign').value = String(ws.agent.campaign_id);
    loadPauseCodes();
  } catch (e) { showError(errBox, e); }
}
