// The lead panel: who the lead is (id, attempts, the time where they are),
// their details, previous calls and notes, and an edit form whose changes
// the server logs field by field with who and when (PATCH /agent/lead).
import { api, el, showError } from './common.js';
import { $, ws, setText, onRender, onTick, serverNow, refresh } from './agent_core.js';

const me = document.querySelector('.who')?.textContent.split(' ')[0] || '';
let shownLead = 0;

// leadTime is a callback's due time on the lead's clock.
export const leadTime = (cb) => cb.due_at_local.slice(0, 16).replace('T', ' ') + ' ' + cb.lead_zone;

// localClock is the time now in one of the lead's zones, from the offset
// the server gave for it.
function localClock(z) {
  const d = new Date(serverNow() + z.offset_s * 1000);
  const p = (n) => String(n).padStart(2, '0');
  return p(d.getUTCHours()) + ':' + p(d.getUTCMinutes()) + ' ' + z.abbrev;
}

function tickLocal() {
  const zones = (ws.call && ws.call.lead_local) || [];
  if (!zones.length) { setText('lead-local', ws.call ? 'unknown' : ''); return; }
  const text = zones.map(localClock).join(' – ');
  const title = zones.map((z) => z.zone).join(', ');
  if ($('lead-local').textContent !== text) setText('lead-local', text);
  $('lead-local').title = title;
}
onTick(tickLocal);

function renderLead() {
  const call = ws.call, panel = $('lead-panel'), script = $('script-panel');
  if (!call) { panel.hidden = true; script.hidden = true; shownLead = 0; closeEdit(); return; }
  const l = call.lead || {};
  panel.hidden = false;
  if (l.id !== shownLead) {
    // Another lead: nothing typed for the last one stays.
    closeEdit();
    $('lead-saved').hidden = true;
    shownLead = l.id;
    loadEdits();
  }
  setText('lead-name', [l.first_name, l.last_name].filter(Boolean).join(' ') || (call.inbound && !l.id ? 'Unknown caller' : '(no name)'));
  setText('lead-id', l.id ? '#' + l.id : '');
  // attempts counts the tries finished before this one.
  setText('lead-attempts', l.attempts == null ? '' : l.attempts + ' before this call');
  setText('lead-phone', l.phone || call.number);
  setText('lead-address', [[l.address1, l.address2, l.address3].filter(Boolean).join(' '),
    [l.city, l.state, l.postal_code, l.country].filter(Boolean).join(' ')].filter(Boolean).join(', '));
  setText('lead-email', l.email);
  $('lead-custom').replaceChildren(...Object.entries(l.custom || {}).map(([k, v]) => el('div', {}, el('dt', { text: k }), el('dd', { text: v }))));
  // The lead's history includes this call once it ended: it is not a previous one.
  $('lead-previous').replaceChildren(...(call.previous_calls || []).filter((h) => h.id !== call.id).map((h) =>
    el('tr', {}, el('td', { text: new Date(h.dialed_at).toLocaleString() }), el('td', { text: h.outcome }), el('td', { text: h.disposition }))));
  $('lead-notes').replaceChildren(...(call.notes || []).map((n) => el('li', { text: new Date(n.at).toLocaleString() + ': ' + n.text })));
  const cb = call.callback;
  $('callback-info').hidden = !cb;
  if (cb) {
    setText('callback-due', new Date(cb.due_at).toLocaleString() + ' (lead\'s time ' + leadTime(cb) + ')');
    setText('callback-notes', cb.notes || '(no notes)');
  }
  $('btn-edit-lead').disabled = !l.id || !call.lead.campaign_id;
  // A caller with no lead yet has no fields: their placeholders stay empty
  // (until the agent attaches or makes the lead) rather than showing braces.
  const text = (call.script || '').replace(/\{(\w+)\}/g, (m, k) => k === 'agent' ? me : (l[k] != null ? l[k] : (l.id ? m : '')));
  script.hidden = !text;
  setText('script-text', text);
}
onRender(renderLead);

const fieldInputs = () => [...document.querySelectorAll('#lead-edit-form [data-field]')];

function openEdit() {
  const l = (ws.call && ws.call.lead) || {};
  for (const input of fieldInputs()) {
    const f = input.dataset.field;
    input.value = f.startsWith('custom.') ? '' : (l[f] || '');
  }
  $('le-custom').replaceChildren(...Object.entries(l.custom || {}).flatMap(([k, v]) => {
    const id = 'le-custom-' + k.replace(/[^A-Za-z0-9_-]/g, '_');
    return [el('label', { for: id, text: k }), el('input', { id, 'data-custom': k, value: v, maxlength: '200' })];
  }));
  $('le-new-key').value = ''; $('le-new-value').value = '';
  $('lead-edit-form').hidden = false;
  $('btn-edit-lead').setAttribute('aria-expanded', 'true');
  $('le-first_name').focus();
}

function closeEdit() {
  $('lead-edit-form').hidden = true;
  $('btn-edit-lead').setAttribute('aria-expanded', 'false');
}

$('btn-edit-lead').addEventListener('click', () => ($('lead-edit-form').hidden ? openEdit() : closeEdit()));
$('btn-cancel-lead').addEventListener('click', closeEdit);

// The changes: only fields whose value differs from the lead on screen.
function changes() {
  const l = (ws.call && ws.call.lead) || {};
  const out = {};
  for (const input of fieldInputs()) {
    if (input.value !== (l[input.dataset.field] || '')) out[input.dataset.field] = input.value.trim();
  }
  for (const input of document.querySelectorAll('#le-custom [data-custom]')) {
    const k = input.dataset.custom;
    if (input.value !== ((l.custom || {})[k] || '')) out['custom.' + k] = input.value.trim();
  }
  const key = $('le-new-key').value.trim();
  if (key) out['custom.' + key] = $('le-new-value').value.trim();
  return out;
}

$('lead-edit-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const fields = changes();
  const saved = $('lead-saved');
  if (!Object.keys(fields).length) { closeEdit(); return; }
  showError($('agent-error'), null);
  try {
    const r = await api('PATCH', '/agent/lead', { lead_id: ws.call.lead.id, fields });
    saved.textContent = r.edits.length ? 'Saved ' + r.edits.map((x) => x.field.replace('custom.', '')).join(', ') + '.' : 'Nothing changed.';
    saved.hidden = false;
    closeEdit();
    await refresh();
    loadEdits();
  } catch (err) { showError($('agent-error'), err); }
});

// loadEdits shows what agents changed on this lead, newest last.
async function loadEdits() {
  const id = shownLead;
  if (!id) return;
  try {
    const r = await api('GET', '/agent/leads/' + id + '/edits');
    if (id !== shownLead) return;
    $('lead-edits-box').hidden = !r.edits.length;
    $('lead-edits').replaceChildren(...r.edits.map((x) => el('li', { text: new Date(x.at).toLocaleString() + ' ' +
      x.field.replace('custom.', '') + ': "' + x.before + '" → "' + x.after + '"' })));
  } catch (err) { /* the lead left the screen meanwhile */ }
}
