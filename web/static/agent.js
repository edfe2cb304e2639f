// The agent workspace: status bar, the call on screen, call controls, the
// disposition form (with a callback's time and scope), callbacks and history. State comes from the API on load and after
// every live event for this agent; timers tick locally.
import { api, connectEvents, el, clock, showError, wireLogout, tabId } from './common.js';

wireLogout();
const $ = (id) => document.getElementById(id);
const errBox = $('agent-error');
const me = document.querySelector('.who')?.textContent.split(' ')[0] || '';

let agent = { state: 'LOGGED_OUT' };
let call = null;          // GET /agent/call body, or null
let skew = 0;             // server clock minus ours, ms
let lastCallKey = '';

const secondsSince = (t) => t ? (Date.now() + skew - Date.parse(t)) / 1000 : 0;

async function run(fn) {
  if (replaced) return;
  showError(errBox, null);
  try { await fn(); } catch (e) { showError(errBox, e); }
  await refresh();
}

async function refresh() {
  if (replaced) return;
  try {
    const [st, c] = await Promise.all([api('GET', '/agent/state'), api('GET', '/agent/call')]);
    agent = st;
    if (st.now) skew = Date.parse(st.now) - Date.now();
    call = c;
    render();
  } catch (e) { showError(errBox, e); }
}

function setText(id, v) { $(id).textContent = v == null ? '' : String(v); }

function render() {
  const s = agent.state || 'LOGGED_OUT';
  const stateEl = $('agent-state');
  stateEl.textContent = s.replace('_', ' ');
  stateEl.dataset.state = s;
  setText('pause-code', s === 'PAUSED' ? agent.pause_code : (agent.pause_pending ? 'pause after call: ' + agent.pause_pending : ''));
  const ss = agent.session || {};
  setText('s-calls', ss.calls || 0);
  setText('s-talk', clock(ss.talk_s || 0));
  setText('s-wait', clock(ss.wait_s || 0));
  setText('s-pause', clock(ss.pause_s || 0));
  setText('s-dispo', clock(ss.avg_dispo_s || 0));

  $('btn-ready').disabled = !(s === 'PAUSED' || s === 'LOGGED_OUT');
  // During a call or its disposition, Pause asks for a pause after it.
  $('btn-pause').disabled = s === 'RINGING' || !!agent.pause_pending;

  const cs = call ? call.state : 'none';
  const talking = cs === 'connected' || cs === 'held';
  const held = !!(call && call.on_hold);
  const muted = !!(call && call.muted);
  const conference = (call && call.conference) || '';
  setText('call-state', cs);
  setText('call-flags', [held ? 'on hold' : '', muted ? 'muted' : '', conference ? 'in conference with ' + conference : ''].filter(Boolean).join(' · '));
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
  $('btn-leave').disabled = !conference;
  $('btn-keypad').disabled = !talking;
  if (!talking) { $('keypad').hidden = true; $('btn-keypad').setAttribute('aria-expanded', 'false'); }

  renderLead();
  renderDispo(s);
  const key = call ? call.id + ':' + cs : '';
  if (call && key !== lastCallKey && (cs === 'connected' || cs === 'preview')) alertCall();
  lastCallKey = key;
}

function renderLead() {
  const panel = $('lead-panel'), script = $('script-panel');
  if (!call) { panel.hidden = true; script.hidden = true; return; }
  const l = call.lead || {};
  panel.hidden = false;
  setText('lead-name', [l.first_name, l.last_name].filter(Boolean).join(' ') || '(no name)');
  setText('lead-phone', l.phone || call.number);
  setText('lead-address', [[l.address1, l.address2].filter(Boolean).join(' '), [l.city, l.state, l.postal_code].filter(Boolean).join(' ')].filter(Boolean).join(', '));
  setText('lead-email', l.email);
  const custom = $('lead-custom');
  custom.replaceChildren(...Object.entries(l.custom || {}).map(([k, v]) => el('div', {}, el('dt', { text: k }), el('dd', { text: v }))));
  $('lead-previous').replaceChildren(...(call.previous_calls || []).map((h) =>
    el('tr', {}, el('td', { text: new Date(h.dialed_at).toLocaleString() }), el('td', { text: h.outcome }), el('td', { text: h.disposition }))));
  $('lead-notes').replaceChildren(...(call.notes || []).map((n) => el('li', { text: new Date(n.at).toLocaleString() + ': ' + n.text })));
  const cb = call.callback;
  $('callback-info').hidden = !cb;
  if (cb) {
    setText('callback-due', new Date(cb.due_at).toLocaleString() + ' (lead\'s time ' + leadTime(cb) + ')');
    setText('callback-notes', cb.notes || '(no notes)');
  }
  const text = (call.script || '').replace(/\{(\w+)\}/g, (m, k) => k === 'agent' ? me : (l[k] != null ? l[k] : m));
  script.hidden = !text;
  setText('script-text', text);
}

let dispoFor = '';
function renderDispo(s) {
  const form = $('dispo-form');
  const show = s === 'DISPO' && call;
  form.hidden = !show;
  if (!show) { dispoFor = ''; return; }
  const key = String(call.id);
  if (dispoFor === key) return;
  dispoFor = key;
  $('dispo-notes').value = '';
  $('pause-after').checked = false;
  $('callback-at').value = '';
  $('scope-me').checked = true;
  $('callback-fields').hidden = true;
  $('dispo-options').replaceChildren(...(call.dispositions || []).map((d, i) => {
    const id = 'dispo-' + d.code;
    const input = el('input', { type: 'radio', name: 'dispo', id, value: d.code });
    // A disposition that schedules a callback asks when and for whom.
    input.addEventListener('change', () => { $('callback-fields').hidden = !d.schedules_callback; });
    input.dataset.callback = d.schedules_callback ? 'yes' : 'no';
    return el('div', {}, input, el('label', { for: id, text: d.label }));
  }));
}

// leadTime is a callback's due time on the lead's clock.
const leadTime = (cb) => cb.due_at_local.slice(0, 16).replace('T', ' ') + ' ' + cb.lead_zone;

// rfc3339 writes a Date with the browser's own UTC offset.
function rfc3339(d) {
  const p = (n) => String(Math.abs(n)).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes()) +
    ':' + p(d.getSeconds()) + (off >= 0 ? '+' : '-') + p(Math.trunc(off / 60)) + ':' + p(off % 60);
}

// A short tone and, in a background tab, a title and favicon badge.
function alertCall() {
  try {
    const ctx = new (window.AudioContext || window.webkitAudioContext)();
    const o = ctx.createOscillator(), g = ctx.createGain();
    o.frequency.value = 880; g.gain.value = 0.1;
    o.connect(g); g.connect(ctx.destination);
    o.start(); o.stop(ctx.currentTime + 0.25);
  } catch (e) { /* no audio: fine */ }
  if (document.hidden) {
    document.title = '● Call – Agent · Pacer';
    $('favicon').href = '/static/favicon-alert.svg';
  }
}
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) { document.title = 'Agent · Pacer'; $('favicon').href = '/static/favicon.svg'; }
});

function tick() {
  setText('state-time', clock(secondsSince(agent.since)));
  const cs = call && call.state;
  setText('call-timer', call && (cs === 'connected' || cs === 'held' || cs === 'dialing' || cs === 'ringing') ? clock(secondsSince(call.start)) : (call ? $('call-timer').textContent : '0:00'));
}
setInterval(tick, 250);

const campaignId = () => Number($('campaign').value) || 0;
$('btn-ready').addEventListener('click', () => run(() => api('POST', '/agent/state', { state: 'READY', campaign_id: campaignId() })));
$('btn-pause').addEventListener('click', () => run(() => api('POST', '/agent/state', { state: 'PAUSED', pause_code: $('pause-code-select').value, campaign_id: campaignId() })));
const action = (name, body) => () => run(() => api('POST', '/agent/call/' + name, { call_id: call ? call.id : 0, ...body }));
for (const a of ['skip', 'hangup', 'hold', 'resume', 'mute', 'unmute']) $('btn-' + a).addEventListener('click', action(a));
$('btn-dial').addEventListener('click', () => {
  if (call && call.state === 'preview') { action('dial')(); return; }
  run(() => api('POST', '/agent/call/dial', { number: $('dial-number').value.trim() }));
});
$('dial-number').addEventListener('input', () => render());
$('btn-transfer').addEventListener('click', () => {
  const target = $('transfer-target').value.trim();
  if (!target) { showError(errBox, new Error('Type who to transfer to.')); $('transfer-target').focus(); return; }
  action('transfer', { target })();
});
$('btn-conference').addEventListener('click', () => {
  const target = $('transfer-target').value.trim();
  if (!target) { showError(errBox, new Error('Type who to bring into the call.')); $('transfer-target').focus(); return; }
  action('conference', { target })();
});
$('btn-leave').addEventListener('click', action('leave'));
$('btn-keypad').addEventListener('click', () => {
  const k = $('keypad');
  k.hidden = !k.hidden;
  $('btn-keypad').setAttribute('aria-expanded', String(!k.hidden));
});
for (const b of document.querySelectorAll('.digit')) b.addEventListener('click', action('dtmf', { digits: b.dataset.digit }));

$('dispo-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const chosen = document.querySelector('input[name="dispo"]:checked');
  if (!chosen) { showError(errBox, new Error('Choose a disposition.')); return; }
  const body = { code: chosen.value, notes: $('dispo-notes').value, call_id: call ? call.id : 0,
    pause_after: $('pause-after').checked, pause_code: $('pause-code-select').value };
  if (chosen.dataset.callback === 'yes') {
    const at = $('callback-at').value;
    if (!at) { showError(errBox, new Error('Choose when to call back.')); $('callback-at').focus(); return; }
    body.callback_at = rfc3339(new Date(at)); // datetime-local is the browser's time zone
    body.callback_scope = document.querySelector('input[name="callback-scope"]:checked').value;
  }
  run(async () => {
    const r = await api('POST', '/agent/disposition', body);
    if (r && r.logged_out_reason) { loadCampaigns(); throw new Error(r.logged_out_reason); }
    const info = $('callback-saved');
    if (r && r.callback) {
      const cb = r.callback;
      info.textContent = 'Callback set for ' + new Date(cb.due_at).toLocaleString() + ' (lead\'s time ' + leadTime(cb) + ')' +
        (cb.moved ? ': moved into the lead\'s calling window from ' + new Date(cb.requested_at).toLocaleString() : '');
      info.hidden = false;
      showError(errBox, cb.moved ? new Error(info.textContent) : null);
      loadCallbacks();
    }
  });
});

// Tabs.
function showTab(name) {
  for (const t of ['call', 'history', 'callbacks']) {
    $('tab-' + t).setAttribute('aria-selected', String(t === name));
    $('panel-' + t).hidden = t !== name;
  }
  if (name === 'history') loadHistory();
  if (name === 'callbacks') loadCallbacks();
}
$('tab-call').addEventListener('click', () => showTab('call'));
$('tab-history').addEventListener('click', () => showTab('history'));
$('tab-callbacks').addEventListener('click', () => showTab('callbacks'));

async function loadCallbacks() {
  if (replaced) return;
  try {
    const r = await api('GET', '/agent/callbacks');
    const due = r.callbacks.filter((c) => c.status === 'due' || c.status === 'offered' || c.status === 'missed').length;
    $('callbacks-due').hidden = !due;
    setText('callbacks-due', due ? due + ' due' : '');
    $('callback-rows').replaceChildren(...r.callbacks.map((c) => {
      const dial = el('button', { type: 'button', text: 'Dial' });
      dial.disabled = !['scheduled', 'due', 'missed'].includes(c.status);
      dial.addEventListener('click', () => {
        if (agent.state !== 'READY' || call) { showError(errBox, new Error('Go READY to dial ' + c.phone + '.')); return; }
        showTab('call');
        run(() => api('POST', '/agent/callbacks/' + c.id + '/dial'));
      });
      const cancel = el('button', { type: 'button', text: 'Cancel' });
      cancel.disabled = !['scheduled', 'due', 'missed'].includes(c.status);
      cancel.addEventListener('click', () => run(async () => { await api('POST', '/callbacks/' + c.id + '/cancel', {}); await loadCallbacks(); }));
      // Reschedule: a time field in the row, in the agent's time zone.
      const when = el('input', { type: 'datetime-local', 'aria-label': 'New time for ' + c.phone, hidden: '' });
      const resched = el('button', { type: 'button', text: 'Reschedule' });
      resched.disabled = cancel.disabled;
      resched.addEventListener('click', () => {
        if (when.hidden) { when.hidden = false; when.focus(); resched.textContent = 'Save time'; return; }
        if (!when.value) { showError(errBox, new Error('Choose the new time.')); return; }
        run(async () => {
          const r = await api('POST', '/callbacks/' + c.id + '/reschedule', { callback_at: rfc3339(new Date(when.value)) });
          if (r.moved) throw new Error('Moved into the lead\'s calling window: ' + leadTime(r));
        }).then(loadCallbacks);
      });
      return el('tr', { 'data-status': c.status, 'data-id': c.id },
        el('td', { text: new Date(c.due_at).toLocaleString() }), el('td', { text: leadTime(c) }),
        el('td', { text: c.name }), el('td', { text: c.phone }), el('td', { text: c.status + (c.moved ? ' (moved into calling hours)' : '') }),
        el('td', { text: c.notes }), el('td', {}, dial, ' ', cancel, ' ', resched, ' ', when));
    }));
  } catch (e) { showError(errBox, e); }
}
setInterval(loadCallbacks, 15000);

async function loadHistory() {
  try {
    const h = await api('GET', '/agent/history');
    $('history-rows').replaceChildren(...h.calls.map((c) => {
      const tr = el('tr', { tabindex: '0', title: 'Dial ' + c.phone },
        el('td', { text: 'outbound' }), el('td', { text: c.phone }), el('td', { text: clock(c.duration_s) }),
        el('td', { text: new Date(c.dialed_at).toLocaleString() }), el('td', { text: c.outcome }), el('td', { text: c.disposition }));
      tr.addEventListener('click', () => {
        if (agent.state !== 'READY' || call) { showError(errBox, new Error('Go READY to dial ' + c.phone + '.')); return; }
        showTab('call');
        run(() => api('POST', '/agent/call/dial', { lead_id: c.lead_id }));
      });
      return tr;
    }));
  } catch (e) { showError(errBox, e); }
}

async function loadCampaigns() {
  try {
    const r = await api('GET', '/agent/campaigns');
    $('campaign').replaceChildren(...r.campaigns.map((c) => el('option', { value: c.id, text: c.name + ' (' + c.mode + ')' })));
  } catch (e) { showError(errBox, e); }
}

// Another tab or window took this agent's seat: this workspace goes quiet
// (no more actions, no more polling) and says so; Reload takes it back.
let replaced = false;
function seatLost() {
  if (replaced) return;
  replaced = true;
  document.body.dataset.seat = 'lost';
  for (const b of document.querySelectorAll('main.agent button, main.agent input, main.agent select')) b.disabled = true;
  const box = $('seat-lost');
  box.hidden = false;
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
  if (d.change === 'dialing') { box.hidden = true; return; }
  if (d.change !== 'ended' || !d.outcome || d.outcome === 'completed') return;
  box.textContent = 'Call to ' + d.number + ' ended: ' + (outcomeText[d.outcome] || d.outcome) +
    (d.disposition ? ' (' + d.disposition + ')' : '') + '. Nothing to disposition.';
  box.dataset.outcome = d.outcome;
  box.dataset.call = String(d.call_id);
  box.hidden = false;
}

connectEvents((ev) => {
  if (replaced) return;
  if (ev.type === 'seat' && ev.data && ev.data.tab !== tabId) { checkSeat(); return; }
  if (ev.type === 'call') callNotice(ev.data || {});
  if (ev.type === 'agent' || ev.type === 'call') refresh();
  // A manager took this agent off the campaign: say why, and show only the
  // campaigns they may still join.
  if (ev.type === 'unassigned') { showError(errBox, new Error(ev.data.reason)); loadCampaigns(); refresh(); }
}, () => { document.body.dataset.live = 'yes'; refresh(); }, (e) => {
  document.body.dataset.live = 'no';
  if (e.code === 1008) showError(errBox, new Error(e.reason));
});
seated.then(() => { loadCampaigns(); loadCallbacks(); refresh(); });
