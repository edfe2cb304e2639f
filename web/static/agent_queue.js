// The Queue tab: the callers waiting in the queues the agent serves,
// longest waiting first, each with a wait that ticks and "Take call" where
// the agent may take it (the queue allows it and nobody is being offered
// the caller; and the agent is READY). No live event announces a caller
// joining or leaving a queue, so the tab polls every 2 s while it is open
// and the page is visible; closed, it polls slowly and on the agent's own
// events, so the tab's count stays right.
import { api, el, clock, showError } from './common.js';
import { $, ws, errBox, setText, run, onRender, onTick, secondsSince } from './agent_core.js';
import { showTab } from './agent_lists.js';

let callers = [];
let loading = false;

const open = () => !$('panel-queue').hidden;

// whyNot is why this agent cannot take the caller now ('' : they can).
function whyNot(c) {
  if (!c.can_take) return c.why_not;
  if (ws.agent.state !== 'READY') return ws.agent.state === 'LOGGED_OUT' ? 'Press Ready to take a call' : 'You are ' + ws.agent.state + ': go READY to take a call';
  return '';
}

function take(c) {
  run(async () => {
    await api('POST', '/agent/queue/take', { call: c.call_id });
    showTab('call');
  }).then(loadQueue);
}

function renderQueue() {
  $('queue-empty').hidden = callers.length > 0;
  $('queue-rows').closest('table').hidden = callers.length === 0;
  $('queue-count').hidden = callers.length === 0;
  setText('queue-count', callers.length ? callers.length + ' waiting' : '');
  $('queue-rows').replaceChildren(...callers.map((c) => {
    const btn = el('button', { type: 'button', class: 'take', text: 'Take call', 'aria-label': 'Take the call from ' + (c.lead_name || c.from) });
    const why = whyNot(c);
    btn.disabled = why !== '';
    if (why) btn.title = why;
    btn.addEventListener('click', () => take(c));
    const caller = el('td', { class: 'queue-caller' });
    if (c.callback) caller.append(el('span', { class: 'badge callback', text: 'Callback' }), ' ');
    if (c.lead_name) caller.append(el('strong', { text: c.lead_name }), ' ');
    caller.append(el('span', { class: 'offer-from', text: c.from }));
    if (!c.lead_name && c.leads > 1) caller.append(' ', el('span', { class: 'hint', text: '(' + c.leads + ' leads)' }));
    if (c.ringing.length) caller.append(el('small', { class: 'queue-now', text: 'ringing ' + c.ringing.join(', ') }));
    else if (!c.can_take) caller.append(el('small', { class: 'queue-why', text: c.why_not }));
    return el('tr', { 'data-call': c.call_id, 'data-from': c.from, 'data-can-take': String(!why), 'data-callback': String(!!c.callback) },
      el('td', { class: 'timer queue-wait', 'data-entered': c.entered, text: clock(secondsSince(c.entered)) }),
      el('td', {}, el('span', { class: 'queue-name', text: c.queue }), el('small', { class: 'queue-did', text: c.callback ? 'asked to be called back' : 'to ' + c.did })),
      caller, el('td', {}, btn));
  }));
}

export async function loadQueue() {
  if (ws.replaced || loading) return;
  if (ws.agent.state === 'LOGGED_OUT') {
    callers = [];
    renderQueue();
    setText('queue-empty', 'Press Ready or Pause to see the callers waiting in your queues.');
    return;
  }
  loading = true;
  try {
    const r = await api('GET', '/agent/queue');
    callers = r.callers;
    setText('queue-empty', 'No caller waiting in your queues.');
    renderQueue();
  } catch (e) {
    // Logged out meanwhile: the next state refresh says so.
    if (e.status !== 409) showError(errBox, e);
  } finally { loading = false; }
}

$('tab-queue').addEventListener('click', () => { showTab('queue'); loadQueue(); });
// The agent's state decides the Take buttons: re-render on every refresh.
let lastState = '';
onRender(() => {
  if (ws.agent.state !== lastState) { lastState = ws.agent.state; loadQueue(); return; }
  renderQueue();
});
onTick(() => {
  for (const td of document.querySelectorAll('#queue-rows .queue-wait')) td.textContent = clock(secondsSince(td.dataset.entered));
});
setInterval(() => { if (open() && document.visibilityState === 'visible') loadQueue(); }, 2000);
setInterval(() => { if (!open()) loadQueue(); }, 15000);
