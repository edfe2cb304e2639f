// The agent workspace's entry: the call controls, the live events for this
// agent, and the seat (one workspace per agent). The parts of the page are
// their own modules: agent_status (state, timers, pause codes), agent_lead
// (the lead panel and its edits), agent_dispo (disposition, wrap-up
// countdown, hotkeys), agent_transfer (directory, keypad), agent_lists
// (history and callbacks), agent_inbound (inbound offers, DND, the
// caller's lead), agent_queue (the callers waiting in the agent's queues);
// agent_core holds what they share.
import { api, connectEvents, clock, showError, wireLogout, tabId } from './common.js';
import { $, ws, errBox, setText, run, refresh, onRender, onTick, secondsSince, callAction, alertCall } from './agent_core.js';
import { loadCampaigns } from './agent_status.js';
import './agent_lead.js';
import './agent_dispo.js';
import './agent_inbound.js';
import { customerPressed } from './agent_transfer.js';
import { loadCallbacks } from './agent_lists.js';
import './agent_queue.js';

wireLogout();

let lastCallKey = '';

function renderControls() {
  const s = ws.agent.state || 'LOGGED_OUT', call = ws.call;
  const cs = call ? call.state : 'none';
  const held = !!(call && call.on_hold);
  const muted = !!(call && call.muted);
  const conference = (call && call.conference) || '';
  // A guest in another agent's conference listens and talks; the call's
  // controls are the host's.
  const guest = !!(call && call.conference_guest);
  const talking = (cs === 'connected' || cs === 'held') && !guest;
  setText('call-state', cs);
  setText('call-flags', [held ? 'on hold' : '', muted ? 'muted' : '',
    conference ? (guest ? conference + "'s conference: they can leave the customer to you" : 'in conference with ' + conference) : '']
    .filter(Boolean).join(' · '));
  // Dial: the preview on screen, or (READY, nothing on screen) the number typed.
  $('btn-dial').disabled = !(cs === 'preview' || (s === 'READY' && !call && $('dial-number').value.trim() !== ''));
  // Skip is refused past the campaign's hourly cap: the button says so.
  const skipsLeft = !(call && call.skips && call.skips.limit > 0 && call.skips.last_hour >= call.skips.limit);
  $('btn-skip').disabled = cs !== 'preview' || !skipsLeft;
  $('btn-skip').title = skipsLeft ? '' : 'Skip limit reached: ' + call.skips.limit + ' skips an hour';
  $('btn-skip').textContent = skipsLeft ? 'Skip' : 'Skip (limit reached)';
  $('btn-hangup').disabled = !talking;
  $('btn-hold').disabled = !talking || held;
  $('btn-resume').disabled = !held;
  $('btn-mute').disabled = !talking || muted;
  $('btn-unmute').disabled = !muted;
  $('btn-transfer').disabled = !talking || !!conference;
  $('btn-conference').disabled = !talking || !!conference;
  $('btn-leave').disabled = !conference || guest;
  $('btn-leave').title = guest ? 'The conference is ' + conference + "'s: only they can leave it" : '';
  $('btn-keypad').disabled = !talking;
  const key = call ? call.id + ':' + cs : '';
  if (call && key !== lastCallKey && (cs === 'connected' || cs === 'preview')) alertCall();
  lastCallKey = key;
}
onRender(renderControls);

// The call timer runs from the call's start while it is live (a preview's
// from its offer) and stays where it stopped once it ends.
onTick(() => {
  const call = ws.call, cs = call && call.state;
  if (!call) { setText('call-timer', '0:00'); return; }
  // A preview counts from when it was offered, never from the last call.
  if (['connected', 'held', 'dialing', 'ringing', 'preview'].includes(cs)) setText('call-timer', clock(secondsSince(call.start)));
});

const action = (name, body) => () => run(() => callAction(name, body));
for (const a of ['skip', 'hangup', 'hold', 'resume', 'mute', 'unmute']) $('btn-' + a).addEventListener('click', action(a));
$('btn-dial').addEventListener('click', () => {
  if (ws.call && ws.call.state === 'preview') { action('dial')(); return; }
  run(() => api('POST', '/agent/call/dial', { number: $('dial-number').value.trim() }));
});
$('dial-number').addEventListener('input', renderControls);
$('btn-leave').addEventListener('click', action('leave'));

// Another tab or window took this agent's seat: this workspace goes quiet
// (no more actions, no more polling) and says so; Reload takes it back.
function seatLost() {
  if (ws.replaced) return;
  ws.replaced = true;
  document.body.dataset.seat = 'lost';
  for (const b of document.querySelectorAll('main.agent button, main.agent input, main.agent select')) b.disabled = true;
  $('seat-lost').hidden = false;
  $('btn-take-back').disabled = false;
}
// Take the seat for this workspace: on load (the newest workspace is the
// one the agent works in) and when asked to take it back.
async function takeSeat() {
  try { await api('POST', '/agent/seat'); } catch (e) { if (e.status !== 409) showError(errBox, e); }
}
// A reload is a new workspace, and a page load takes the seat.
$('btn-take-back').addEventListener('click', () => location.reload());
const seated = takeSeat();
// A seat event is a hint that may arrive late (one sent for an earlier
// workspace of this agent): once this page holds the seat, the server says
// whether it still does.
async function checkSeat() {
  await seated;
  try {
    const r = await api('GET', '/agent/seat');
    if (r.tab && r.tab !== tabId) seatLost();
  } catch (e) { showError(errBox, e); }
}

// callNotice says how the agent's own dial ended when nobody answered: the
// call got its outcome by itself and there is nothing to disposition.
const outcomeText = { busy: 'busy', no_answer: 'no answer', machine: 'answering machine', failed: 'failed', invalid: 'invalid number', abandoned: 'dropped' };
function callNotice(d) {
  const box = $('call-notice');
  if (d.notice) { box.textContent = d.notice; delete box.dataset.outcome; box.hidden = false; return; }
  if (d.change === 'dialing') { box.hidden = true; return; }
  if (d.change !== 'ended' || !d.outcome || d.outcome === 'completed') return;
  box.textContent = 'Call to ' + d.number + ' ended: ' + (outcomeText[d.outcome] || d.outcome) +
    (d.disposition ? ' (' + d.disposition + ')' : '') + '. Nothing to disposition.';
  box.dataset.outcome = d.outcome;
  box.dataset.call = String(d.call_id);
  box.hidden = false;
}

connectEvents((ev) => {
  if (ws.replaced) return;
  if (ev.type === 'seat' && ev.data && ev.data.tab !== tabId) { checkSeat(); return; }
  if (ev.type === 'call' && ev.data && ev.data.digit) { customerPressed(ev.data); return; }
  if (ev.type === 'call') callNotice(ev.data || {});
  if (ev.type === 'agent' || ev.type === 'call') refresh();
  // A manager took this agent off the campaign: say why, and show only the
  // campaigns they may still join.
  if (ev.type === 'unassigned') { showError(errBox, new Error(ev.data.reason)); loadCampaigns(); refresh(); }
}, () => { document.body.dataset.live = 'yes'; refresh(); }, (e) => {
  document.body.dataset.live = 'no';
  if (e.code === 1008) showError(errBox, new Error(e.reason));
});
seated.then(async () => { await refresh(); loadCampaigns(); loadCallbacks(); });
