// Trunks: the SIP carriers campaigns dial through. The list shows each
// trunk's limits, how it transfers to a number (bridged or REFER), whether a password is set (the API never returns it) and
// the campaigns using it; one form adds a trunk or edits the one chosen;
// removal asks first, and a trunk still in use is refused with the
// campaigns named.
import { api, el } from './common.js';
import { $, run, say } from './console.js';

let editing = null; // the trunk being edited, or null when adding

async function loadTrunks() {
  const r = await api('GET', '/trunks');
  if (r.trunks.length === 0) {
    $('trunk-rows').replaceChildren(el('tr', {}, el('td', { colspan: '11', text: 'No trunks yet: every campaign dials the simulated carrier.' })));
    return;
  }
  $('trunk-rows').replaceChildren(...r.trunks.map((t) => el('tr', { 'data-trunk': t.name },
    el('td', { text: t.name }),
    el('td', { class: 'uri', text: t.uri }),
    el('td', { text: String(t.max_channels) }),
    el('td', { text: String(t.cps) }),
    el('td', { text: t.caller_id_header === 'pai' ? 'P-Asserted-Identity' : 'From' }),
    el('td', { class: 'transfer', text: t.transfer_method === 'refer' ? 'REFER' : 'Bridged' }),
    el('td', { text: t.username || '—' }),
    el('td', { class: 'password', text: t.password_set ? 'set' : 'none' }),
    el('td', { text: t.enabled ? 'yes' : 'no' }),
    el('td', { class: 'campaigns', text: t.campaigns.length ? t.campaigns.join(', ') : '—' }),
    el('td', { class: 'actions' },
      el('button', { type: 'button', text: 'Edit', 'aria-label': 'Edit trunk ' + t.name, onclick: () => edit(t) }),
      el('button', { type: 'button', text: 'Remove', 'aria-label': 'Remove trunk ' + t.name, onclick: () => askRemove(t) })))));
}

function edit(t) {
  editing = t;
  $('trunk-form-title').textContent = 'Edit trunk ' + t.name;
  $('t-name').value = t.name;
  $('t-uri').value = t.uri;
  $('t-username').value = t.username;
  $('t-password').value = '';
  $('t-password').placeholder = t.password_set ? 'set; leave empty to keep it' : 'none';
  $('t-clear-password').checked = false;
  $('t-clear-label').hidden = !t.password_set;
  $('t-channels').value = t.max_channels;
  $('t-cps').value = t.cps;
  $('t-header').value = t.caller_id_header;
  $('t-transfer').value = t.transfer_method;
  $('t-enabled').checked = t.enabled;
  $('btn-trunk-save').textContent = 'Save trunk';
  $('btn-trunk-cancel').hidden = false;
  $('trunk-form-error').hidden = true;
  $('t-name').focus();
}

function resetForm() {
  editing = null;
  $('trunk-form').reset();
  $('trunk-form-title').textContent = 'New trunk';
  $('t-password').placeholder = '';
  $('t-clear-label').hidden = true;
  $('btn-trunk-save').textContent = 'Add trunk';
  $('btn-trunk-cancel').hidden = true;
  $('trunk-form-error').hidden = true;
}

function formBody() {
  const body = {
    name: $('t-name').value.trim(),
    uri: $('t-uri').value.trim(),
    username: $('t-username').value,
    max_channels: Number($('t-channels').value),
    cps: Number($('t-cps').value),
    caller_id_header: $('t-header').value,
    transfer_method: $('t-transfer').value,
    enabled: $('t-enabled').checked,
  };
  if ($('t-password').value !== '') body.password = $('t-password').value;
  else if (editing && $('t-clear-password').checked) body.password = '';
  return body;
}

$('trunk-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('trunk-form-error').hidden = true;
  say('');
  try {
    const body = formBody();
    if (editing) {
      await api('PATCH', '/trunks/' + editing.id, body);
      say('Saved trunk ' + body.name + '.');
    } else {
      await api('POST', '/trunks', body);
      say('Added trunk ' + body.name + '.');
    }
    resetForm();
    await loadTrunks();
  } catch (err) {
    $('trunk-form-error').textContent = err.message;
    $('trunk-form-error').hidden = false;
  }
});
$('btn-trunk-cancel').addEventListener('click', resetForm);

let removing = null;
function askRemove(t) {
  removing = t;
  $('remove-title').textContent = 'Remove trunk ' + t.name + '?';
  $('remove-error').hidden = true;
  $('btn-remove-confirm').disabled = false;
  $('remove-dialog').showModal();
}
$('btn-remove-confirm').addEventListener('click', async () => {
  try {
    await api('DELETE', '/trunks/' + removing.id);
    $('remove-dialog').close();
    say('Removed trunk ' + removing.name + '.');
    if (editing && editing.id === removing.id) resetForm();
    await loadTrunks();
  } catch (err) {
    $('remove-error').textContent = err.message;
    $('remove-error').hidden = false;
    $('btn-remove-confirm').disabled = true;
  }
});
$('btn-remove-cancel').addEventListener('click', () => $('remove-dialog').close());

run(loadTrunks);
