// Transfer and conference through a directory: the campaign's other agents
// with their state (from the engine), queues when there are any, and the
// saved external numbers, or another number typed in. And the keypad, which
// echoes the digits the customer's line was sent.
import { api, el, showError } from './common.js';
import { $, ws, run, refresh, onRender, callAction } from './agent_core.js';

const dialog = $('transfer-dialog');
const dialogErr = $('transfer-error');
let mode = 'transfer'; // or 'conference'

const verbs = { transfer: 'Transfer to', conference: 'Conference with' };

async function openDirectory(m) {
  mode = m;
  $('transfer-title').textContent = verbs[mode];
  $('transfer-hint').textContent = mode === 'transfer'
    ? 'The customer goes to whom you choose and your call ends.'
    : 'Whom you choose joins the call; then Leave hands the customer over.';
  showError(dialogErr, null);
  $('transfer-other').value = '';
  $('dir-agents').replaceChildren();
  $('dir-numbers').replaceChildren();
  if (!dialog.open) dialog.showModal();
  try {
    const d = await api('GET', '/agent/transfer-directory');
    const pick = (target, name) => el('button', { type: 'button', text: (mode === 'transfer' ? 'Transfer to ' : 'Conference ') + name,
      onclick: () => choose(target) });
    // The customer goes straight into the other agent's line: only a READY
    // one can take them (the server refuses the others with the reason).
    const pickAgent = (a) => {
      const b = pick(a.target, a.username);
      if (a.state !== 'READY') {
        b.disabled = true;
        b.title = a.username + ' is ' + a.state + ': only a READY agent can take the customer';
      }
      return b;
    };
    $('dir-agents').replaceChildren(...d.agents.map((a) => el('tr', { 'data-state': a.state },
      el('td', { text: a.name ? a.name + ' (' + a.username + ')' : a.username }), el('td', { class: 'state-' + a.state, text: a.state }),
      el('td', {}, pickAgent(a)))));
    $('dir-agents-none').hidden = d.agents.length > 0;
    // Queues come with inbound; the section shows only when there are some.
    $('dir-queues-box').hidden = !d.queues.length;
    $('dir-queues').replaceChildren(...d.queues.map((q) => el('tr', {}, el('td', { text: q }), el('td', {}, pick('queue:' + q, q)))));
    $('dir-numbers').replaceChildren(...d.numbers.map((n) => el('tr', {}, el('td', { text: n.label }), el('td', { text: n.number }),
      el('td', {}, pick(n.number, n.label)))));
    $('dir-numbers-none').hidden = d.numbers.length > 0;
  } catch (e) { showError(dialogErr, e); }
}

async function choose(target) {
  showError(dialogErr, null);
  try {
    await callAction(mode, { target });
    dialog.close();
  } catch (e) { showError(dialogErr, e); return; }
  refresh();
}

$('btn-transfer').addEventListener('click', () => openDirectory('transfer'));
$('btn-conference').addEventListener('click', () => openDirectory('conference'));
$('btn-transfer-other').addEventListener('click', () => {
  const n = $('transfer-other').value.trim();
  if (!n) { showError(dialogErr, new Error('Type the number to ' + (mode === 'transfer' ? 'transfer to.' : 'bring in.'))); $('transfer-other').focus(); return; }
  choose(n);
});

// The keypad: each digit goes to the customer's line; the echo lists the
// ones the server accepted, for this call.
let echoFor = '';
function renderKeypad() {
  const cs = ws.call ? ws.call.state : 'none';
  const talking = cs === 'connected' || cs === 'held';
  if (!talking) { $('keypad-box').hidden = true; $('btn-keypad').setAttribute('aria-expanded', 'false'); }
  if (dialog.open && !talking) dialog.close();
  const key = ws.call ? String(ws.call.id) : '';
  if (key !== echoFor) {
    echoFor = key;
    $('keypad-echo').textContent = '';
    $('keypad-heard').textContent = '';
    $('heard-line').hidden = true;
  }
}

// Keys the customer presses on the agent's call (RFC 4733 from their line).
export function customerPressed(d) {
  if (!d.digit || !ws.call || String(d.call_id) !== String(ws.call.id)) return;
  $('keypad-heard').textContent += d.digit;
  $('heard-line').hidden = false;
}
onRender(renderKeypad);

$('btn-keypad').addEventListener('click', () => {
  const k = $('keypad-box');
  k.hidden = !k.hidden;
  $('btn-keypad').setAttribute('aria-expanded', String(!k.hidden));
});
for (const b of document.querySelectorAll('.digit')) {
  b.addEventListener('click', () => run(async () => {
    await callAction('dtmf', { digits: b.dataset.digit });
    $('keypad-echo').textContent += b.dataset.digit;
  }));
}
