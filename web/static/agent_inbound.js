// Inbound calls in the workspace: the offer ringing the agent (the number
// dialled and its queue, the caller and who they are, their wait, Accept /
// Reject and the ring time counting down, with a tab alert in the
// background), do-not-disturb, and the caller's lead during the call (the
// one whose number it is, one of several the agent picks, or one made from
// the call).
import { api, el, clock } from './common.js';
import { $, ws, setText, run, onRender, onTick, secondsSince, serverNow, callAction, alertCall, clearAlert } from './agent_core.js';
import { showTab } from './agent_lists.js';

const offer = () => (ws.agent.state === 'RINGING' && ws.agent.inbound) || null;
let offerKey = '';

function renderOffer() {
  const o = offer(), box = $('offer');
  document.body.dataset.offer = o ? 'yes' : 'no';
  if (!o) {
    if (offerKey) {
      offerKey = '';
      if (document.hidden && !ws.call) clearAlert();
    }
    box.hidden = true;
    return;
  }
  const key = ws.agent.since + ':' + o.from;
  box.hidden = false;
  if (key === offerKey) return;
  offerKey = key;
  // A callback request: nobody is on the line; accepting dials them.
  const cb = !!o.request_id;
  document.body.dataset.offerKind = cb ? 'callback' : 'call';
  setText('offer-title', cb ? 'Callback request' : 'Incoming call');
  $('offer-to').hidden = cb;
  setText('offer-did', o.did);
  setText('offer-queue', o.queue);
  setText('offer-from', o.from);
  setText('offer-wait-label', cb ? 'Asked to be called back · waiting' : 'Waiting');
  setText('btn-accept', cb ? 'Call back now' : 'Accept');
  const leads = o.leads || [];
  setText('offer-name', cb ? o.name || 'Caller' : leads.length === 1 ? leads[0].name || '(lead #' + leads[0].lead_id + ', no name)'
    : leads.length ? leads.length + ' leads have this number' : 'Unknown caller');
  $('offer-leads').hidden = leads.length < 2;
  $('offer-lead-options').replaceChildren(...(leads.length < 2 ? [] : leads.map((l, i) => {
    const id = 'offer-lead-' + l.lead_id;
    return el('div', {}, el('input', { type: 'radio', name: 'offer-lead', id, value: l.lead_id, ...(i === 0 ? { checked: '' } : {}) }),
      el('label', { for: id, text: (l.name || '(no name)') + ' · lead #' + l.lead_id }));
  })));
  const what = cb ? 'the callback' : 'the call';
  setText('offer-reject-hint', o.reject_to_dnd ? 'Reject passes ' + what + ' to the next agent and puts you in Do not disturb.'
    : 'Reject passes ' + what + ' to the next agent; you stay ready.');
  $('btn-accept').disabled = false;
  $('btn-reject').disabled = false;
  alertCall(cb ? '● Callback request' : '● Incoming call');
  $('btn-accept').focus();
}
onRender(renderOffer);

function tickOffer() {
  const o = offer();
  if (!o) return;
  const left = Math.max(0, (o.ring_s || 0) - secondsSince(ws.agent.since));
  setText('offer-countdown', clock(Math.ceil(left)));
  $('offer').classList.toggle('urgent', left <= 5);
  setText('offer-wait', clock(Math.max(0, (serverNow() - Date.parse(o.entered)) / 1000)));
}
onTick(tickOffer);

async function answer(action) {
  const o = offer();
  if (!o) return;
  $('btn-accept').disabled = true;
  $('btn-reject').disabled = true;
  const picked = document.querySelector('input[name="offer-lead"]:checked');
  const body = action === 'accept' && picked ? { lead_id: Number(picked.value) } : {};
  await run(async () => {
    try {
      await callAction(action, body);
      // The call (or the callback being dialled) is on the Call tab.
      if (action === 'accept') showTab('call');
    } catch (e) {
      // The caller hung up as the agent accepted: say so plainly.
      if (e.status === 409 && /caller hung up/i.test(e.message)) throw new Error('The caller hung up. You are READY again.');
      throw e;
    }
  });
}
$('btn-accept').addEventListener('click', () => answer('accept'));
$('btn-reject').addEventListener('click', () => answer('reject'));

// Do not disturb: from READY or PAUSED, and back.
function renderDND() {
  const s = ws.agent.state || 'LOGGED_OUT', on = s === 'DND', b = $('btn-dnd');
  b.textContent = on ? 'End do not disturb' : 'Do not disturb';
  b.setAttribute('aria-pressed', String(on));
  b.disabled = !(on || s === 'READY' || s === 'PAUSED');
}
onRender(renderDND);
$('btn-dnd').addEventListener('click', () => run(() => api('POST', '/agent/dnd', { on: ws.agent.state !== 'DND' })));

// The caller's lead during an inbound call and its disposition.
let leadsFor = '';
function renderInboundLead() {
  const call = ws.call, box = $('inbound-box');
  const inb = call && call.inbound;
  box.hidden = !inb;
  if (!inb) { leadsFor = ''; return; }
  setText('inbound-from', inb.from);
  const attached = inb.attached_lead_id || 0;
  const lead = call.lead || {};
  setText('inbound-attached', attached ? '· lead #' + attached + ' ' + [lead.first_name, lead.last_name].filter(Boolean).join(' ') : '');
  const leads = inb.leads || [];
  // Several leads: the agent attaches the one calling (and may change
  // their mind); none: they make one from the call.
  const others = leads.filter((l) => l.lead_id !== attached);
  $('inbound-choose').hidden = others.length === 0 || (attached && leads.length < 2);
  setText('inbound-choose-text', attached ? 'Not them? This number is also:' : leads.length > 1
    ? 'This number is several leads: attach the one calling.' : 'Attach the caller\'s lead:');
  $('inbound-create').hidden = !!attached || leads.length > 0;
  const key = call.id + ':' + attached + ':' + leads.map((l) => l.lead_id).join(',');
  if (key === leadsFor) return;
  leadsFor = key;
  $('inbound-lead-options').replaceChildren(...others.map((l) => {
    const b = el('button', { type: 'button', text: 'Attach ' + (l.name || '(no name)') + ' · lead #' + l.lead_id, 'data-lead': l.lead_id });
    b.addEventListener('click', () => run(() => api('POST', '/agent/inbound/lead', { lead_id: l.lead_id })));
    return b;
  }));
}
onRender(renderInboundLead);
$('inbound-create').addEventListener('submit', (e) => {
  e.preventDefault();
  run(() => api('POST', '/agent/inbound/lead', { first_name: $('inbound-first').value.trim(), last_name: $('inbound-last').value.trim() }))
    .then(() => { $('inbound-first').value = ''; $('inbound-last').value = ''; });
});
