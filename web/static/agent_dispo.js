// The disposition form: the codes (keys 1–9 choose one, Enter saves, not
// while typing), a callback's time and scope, notes, "pause after this
// call" (applied at once, and taken back by unticking it), the countdown to
// the campaign's automatic disposition, and a confirmation once saved.
import { api, el, clock, showError } from './common.js';
import { $, ws, errBox, setText, run, onRender, onTick, secondsSince, typing } from './agent_core.js';
import { leadTime } from './agent_lead.js';
import { cancelPause, loadCampaigns } from './agent_status.js';
import { loadCallbacks } from './agent_lists.js';

let dispoFor = '';
let savedFor = '';

function renderDispo() {
  const s = ws.agent.state, call = ws.call;
  const form = $('dispo-form');
  const show = s === 'DISPO' && !!call;
  form.hidden = !show;
  $('pause-after').checked = !!ws.agent.pause_pending;
  if (call && savedFor && String(call.id) !== savedFor && call.state !== 'ended') $('dispo-saved').hidden = true;
  if (!show) { dispoFor = ''; return; }
  // An inbound call with no lead attached has no one to call back: its
  // callback codes come once the agent attaches or makes the lead.
  const noLead = !!call.inbound && !(call.lead && call.lead.id);
  const key = call.id + ':' + noLead;
  if (dispoFor === key) return;
  const sameCall = dispoFor.split(':')[0] === String(call.id);
  dispoFor = key;
  const chosen = sameCall ? (document.querySelector('#dispo-options input[name="dispo"]:checked') || {}).value : '';
  if (!sameCall) {
    $('dispo-saved').hidden = true;
    $('dispo-notes').value = '';
    $('callback-at').value = '';
    $('scope-me').checked = true;
  }
  $('callback-fields').hidden = true;
  const codes = (call.dispositions || []).filter((d) => !(noLead && d.schedules_callback));
  $('dispo-options').replaceChildren(...codes.map((d, i) => {
    const id = 'dispo-' + d.code;
    const input = el('input', { type: 'radio', name: 'dispo', id, value: d.code, ...(d.code === chosen ? { checked: '' } : {}) });
    // A disposition that schedules a callback asks when and for whom.
    input.addEventListener('change', () => { $('callback-fields').hidden = !d.schedules_callback; });
    input.dataset.callback = d.schedules_callback ? 'yes' : 'no';
    input.dataset.label = d.label;
    const hint = i < 9 ? el('kbd', { 'aria-hidden': 'true', text: String(i + 1) }) : '';
    return el('div', { class: 'dispo-option' }, hint, input, el('label', { for: id, text: d.label }));
  }));
}
onRender(renderDispo);

// The automatic disposition comes at the campaign's wrap-up limit after the
// call ended (the agent's DISPO since).
function tickCountdown() {
  const a = ws.agent, box = $('wrapup-countdown');
  const limit = a.state === 'DISPO' && ws.call ? a.wrapup_limit_s || 0 : 0;
  box.hidden = !limit;
  if (!limit) return;
  const left = limit - secondsSince(a.since);
  const then = a.wrapup_then === 'paused' ? 'and pause you' : 'and make you ready';
  box.textContent = left > 0 ? 'Automatic disposition in ' + clock(Math.ceil(left)) + ' (' + then + ')' : 'Disposing automatically…';
  box.classList.toggle('urgent', left <= 10);
}
onTick(tickCountdown);

// Hotkeys while the form is on screen.
document.addEventListener('keydown', (e) => {
  if ($('dispo-form').hidden || e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
  if (document.querySelector('dialog[open]')) return;
  if (e.key >= '1' && e.key <= '9') {
    const radio = document.querySelectorAll('#dispo-options input[name="dispo"]')[Number(e.key) - 1];
    if (!radio) return;
    e.preventDefault();
    radio.checked = true;
    radio.dispatchEvent(new Event('change'));
    radio.focus();
  } else if (e.key === 'Enter' && !(e.target.closest && e.target.closest('button, a') && !e.target.closest('#dispo-form'))) {
    // (Enter on another button of the page still presses that button.)
    e.preventDefault();
    $('dispo-form').requestSubmit();
  }
});

// Ticking asks for the pause now (it applies when the disposition is
// saved); unticking takes it back.
$('pause-after').addEventListener('change', () => {
  if ($('pause-after').checked) {
    run(() => api('POST', '/agent/state', { state: 'PAUSED', pause_code: $('pause-code-select').value }));
  } else if (ws.agent.pause_pending) {
    cancelPause();
  }
});

// rfc3339 writes a Date with the browser's own UTC offset.
export function rfc3339(d) {
  const p = (n) => String(Math.abs(n)).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes()) +
    ':' + p(d.getSeconds()) + (off >= 0 ? '+' : '-') + p(Math.trunc(off / 60)) + ':' + p(off % 60);
}

$('dispo-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const call = ws.call;
  const chosen = document.querySelector('input[name="dispo"]:checked');
  if (!chosen) { showError(errBox, new Error('Choose a disposition (keys 1–9).')); return; }
  const body = { code: chosen.value, notes: $('dispo-notes').value, call_id: call ? call.id : 0,
    pause_after: $('pause-after').checked, pause_code: $('pause-code-select').value };
  if (chosen.dataset.callback === 'yes') {
    const at = $('callback-at').value;
    if (!at) { showError(errBox, new Error('Choose when to call back.')); $('callback-at').focus(); return; }
    body.callback_at = rfc3339(new Date(at)); // datetime-local is the browser's time zone
    body.callback_scope = document.querySelector('input[name="callback-scope"]:checked').value;
  }
  const who = call ? ((call.lead && [call.lead.first_name, call.lead.last_name].filter(Boolean).join(' ')) || call.number) : '';
  run(async () => {
    const r = await api('POST', '/agent/disposition', body);
    savedFor = call ? String(call.id) : '';
    setText('dispo-saved', 'Saved: ' + chosen.dataset.label + (who ? ' for ' + who : '') +
      (r && r.state === 'PAUSED' ? ' — you are paused' : ''));
    $('dispo-saved').hidden = false;
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
