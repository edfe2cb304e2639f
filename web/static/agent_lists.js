// The workspace's tabs: the call, the agent's history (click a row to dial
// it) and their callbacks (dial, cancel, reschedule).
import { api, el, clock, showError } from './common.js';
import { $, ws, errBox, setText, run } from './agent_core.js';
import { leadTime } from './agent_lead.js';
import { rfc3339 } from './agent_dispo.js';

export function showTab(name) {
  for (const t of ['call', 'queue', 'history', 'callbacks']) {
    $('tab-' + t).setAttribute('aria-selected', String(t === name));
    $('panel-' + t).hidden = t !== name;
  }
  if (name === 'history') loadHistory();
  if (name === 'callbacks') loadCallbacks();
}
$('tab-call').addEventListener('click', () => showTab('call'));
$('tab-history').addEventListener('click', () => showTab('history'));
$('tab-callbacks').addEventListener('click', () => showTab('callbacks'));

const canDial = (phone) => {
  if (ws.agent.state === 'READY' && !ws.call) return true;
  showError(errBox, new Error('Go READY to dial ' + phone + '.'));
  return false;
};

export async function loadCallbacks() {
  if (ws.replaced) return;
  try {
    const r = await api('GET', '/agent/callbacks');
    const due = r.callbacks.filter((c) => c.status === 'due' || c.status === 'offered' || c.status === 'missed').length;
    $('callbacks-due').hidden = !due;
    setText('callbacks-due', due ? due + ' due' : '');
    // A reschedule the agent has open survives the refresh (the list
    // reloads every 15 s and after each disposition).
    const editing = new Map([...document.querySelectorAll('#callback-rows tr')]
      .map((tr) => [tr.dataset.id, tr.querySelector('input[type="datetime-local"]')])
      .filter(([, input]) => input && !input.hidden).map(([id, input]) => [id, input.value]));
    $('callback-rows').replaceChildren(...r.callbacks.map((c) => {
      const dial = el('button', { type: 'button', text: 'Dial' });
      dial.disabled = !['scheduled', 'due', 'missed'].includes(c.status);
      dial.addEventListener('click', () => {
        if (!canDial(c.phone)) return;
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
      if (editing.has(String(c.id)) && !resched.disabled) {
        when.hidden = false;
        when.value = editing.get(String(c.id));
        resched.textContent = 'Save time';
      }
      return el('tr', { 'data-status': c.status, 'data-id': c.id },
        el('td', { text: new Date(c.due_at).toLocaleString() }), el('td', { text: leadTime(c) }),
        el('td', { text: c.name }), el('td', { text: c.phone }), el('td', { text: c.status + (c.moved ? ' (moved into calling hours)' : '') }),
        el('td', { text: c.notes }), el('td', {}, dial, ' ', cancel, ' ', resched, ' ', when));
    }));
  } catch (e) { showError(errBox, e); }
}
setInterval(loadCallbacks, 15000);

export async function loadHistory() {
  try {
    const h = await api('GET', '/agent/history');
    $('history-rows').replaceChildren(...h.calls.map((c) => {
      const inbound = c.direction === 'inbound';
      const tr = el('tr', { tabindex: '0', title: 'Dial ' + c.phone, 'data-direction': c.direction || 'outbound' },
        el('td', { class: 'direction', text: inbound ? '↙ inbound' : '↗ outbound' }), el('td', { text: c.phone }), el('td', { text: clock(c.duration_s) }),
        el('td', { text: new Date(c.dialed_at).toLocaleString() }), el('td', { text: c.outcome }), el('td', { text: c.disposition }));
      tr.addEventListener('click', () => {
        if (!canDial(c.phone)) return;
        showTab('call');
        // A caller who rang in is dialled by number (the call holds no lead).
        run(() => api('POST', '/agent/call/dial', c.lead_id ? { lead_id: c.lead_id } : { number: c.phone }));
      });
      return tr;
    }));
  } catch (e) { showError(errBox, e); }
}
