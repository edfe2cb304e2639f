// The manager console: campaigns, dispositions and their changes, lead list
// upload with live progress, DNC lists and their history, the agents assigned
// to each campaign, and users.
import { api, connectEvents, el, showError, wireLogout } from './common.js';

wireLogout();
const $ = (id) => document.getElementById(id);
const errBox = $('manage-error'), info = $('manage-info');
const say = (msg) => { info.textContent = msg; info.hidden = !msg; };
async function run(fn) {
  showError(errBox, null);
  say('');
  try { await fn(); } catch (e) { showError(errBox, e); }
}

let campaigns = [];
async function loadCampaigns() {
  const r = await api('GET', '/campaigns');
  campaigns = r.campaigns;
  $('campaign-rows').replaceChildren(...campaigns.map((c) => {
    const acts = el('td', {},
      el('button', { type: 'button', text: 'Edit', 'aria-label': 'Edit ' + c.name, onclick: () => edit(c) }),
      el('button', { type: 'button', text: 'Start', 'aria-label': 'Start ' + c.name, onclick: () => run(async () => { await api('POST', '/campaigns/' + c.id + '/start'); await loadCampaigns(); }) }),
      el('button', { type: 'button', text: 'Pause', 'aria-label': 'Pause ' + c.name, onclick: () => run(async () => { await api('POST', '/campaigns/' + c.id + '/pause'); await loadCampaigns(); }) }));
    return el('tr', { 'data-id': c.id }, el('td', { text: c.name }), el('td', { text: c.mode }), el('td', { class: 'status', text: c.status }), acts);
  }));
  const opts = () => campaigns.filter((c) => c.status !== 'archived').map((c) => el('option', { value: c.id, text: c.name }));
  for (const sel of ['u-campaign', 'x-campaign', 'a-campaign']) {
    const keep = $(sel).value;
    $(sel).replaceChildren(...opts());
    if (keep) $(sel).value = keep;
  }
  const keepD = $('d-scope').value;
  $('d-scope').replaceChildren(el('option', { value: '0', text: 'Global' }), ...opts());
  $('d-scope').value = keepD || '0';
}

function edit(c) {
  $('campaign-id').value = c.id;
  $('campaign-form-title').textContent = 'Edit ' + c.name;
  $('btn-save-campaign').textContent = 'Save campaign';
  $('c-name').value = c.name;
  $('c-mode').value = c.mode;
  for (const input of document.querySelectorAll('[data-setting]')) {
    const v = c[input.dataset.setting];
    input.value = v == null ? '' : (typeof v === 'object' ? Object.entries(v).map(([k, w]) => k + '=' + w).join(',') : String(v));
  }
  $('campaign-form').querySelector('details').open = true;
}
$('btn-new-campaign').addEventListener('click', () => {
  $('campaign-form').reset();
  $('campaign-id').value = '';
  $('campaign-form-title').textContent = 'New campaign';
  $('btn-save-campaign').textContent = 'Create campaign';
});
$('campaign-form').addEventListener('submit', (e) => {
  e.preventDefault();
  run(async () => {
    const id = $('campaign-id').value;
    const body = { name: $('c-name').value, mode: $('c-mode').value };
    for (const input of document.querySelectorAll('[data-setting]')) {
      if (input.value !== '' || id) body[input.dataset.setting] = input.value;
    }
    if (id) {
      const c = campaigns.find((x) => String(x.id) === id);
      for (const k of Object.keys(body)) {
        const cur = c[k] == null ? '' : (typeof c[k] === 'object' ? Object.entries(c[k]).map(([a, b]) => a + '=' + b).join(',') : String(c[k]));
        if (cur === String(body[k])) delete body[k];
      }
      await api('PATCH', '/campaigns/' + id, body);
      say('Saved campaign ' + $('c-name').value + '.');
    } else {
      const c = await api('POST', '/campaigns', body);
      say('Created campaign ' + c.name + '.');
      edit(c);
      $('campaign-form').querySelector('details').open = false;
    }
    await loadCampaigns();
    $('u-campaign').value = $('campaign-id').value;
  });
});

// Lead lists: upload, then follow "list" events for progress.
let watching = 0;
function showProgress(l) {
  if (l.list_id && !l.id) l.id = l.list_id;
  if (l.id !== watching) return;
  $('upload-status').hidden = false;
  const pctDone = l.status === 'importing' ? (l.bytes_total ? Math.min(99, Math.floor(100 * l.bytes_read / l.bytes_total)) : 50) : 100;
  $('upload-progress').value = pctDone;
  $('upload-progress').textContent = pctDone + '%';
  if (l.status === 'queued') {
    $('upload-progress').value = 0;
    $('upload-text').textContent = 'Queued behind other imports (place ' + l.queue_position + ')';
  } else if (l.status === 'importing') {
    $('upload-text').textContent = 'Importing: ' + l.rows_read + ' rows read (' + pctDone + '%)';
  } else if (l.status === 'ready') {
    $('upload-text').textContent = 'Done: ' + l.imported + ' imported, ' + l.duplicates + ' duplicates, ' + l.invalid + ' rejected, ' + l.dnc + ' on DNC';
    const a = $('upload-report');
    a.href = '/api/v1/lists/' + l.id + '/errors';
    a.hidden = (l.duplicates + l.invalid) === 0;
    loadLists();
  } else {
    $('upload-text').textContent = 'Failed: ' + l.error;
  }
}
$('upload-form').addEventListener('submit', (e) => {
  e.preventDefault();
  run(async () => {
    const f = $('u-file').files[0];
    if (!f) throw new Error('Choose a lead file.');
    const fd = new FormData();
    fd.append('file', f);
    fd.append('format', $('u-format').value);
    fd.append('mapping', $('u-mapping').value);
    $('upload-status').hidden = false;
    $('upload-report').hidden = true;
    $('upload-progress').value = 0;
    $('upload-text').textContent = 'Uploading ' + f.name + '…';
    const r = await api('POST', '/campaigns/' + $('u-campaign').value + '/lists', fd);
    watching = r.list_id;
    showProgress(await api('GET', '/lists/' + r.list_id));
  });
});
async function loadLists() {
  const id = $('u-campaign').value;
  if (!id) return;
  const r = await api('GET', '/campaigns/' + id + '/lists');
  $('list-rows').replaceChildren(...r.lists.map((l) => el('tr', {},
    el('td', { text: l.name }), el('td', { text: l.status === 'queued' ? 'queued (' + l.queue_position + ')' : l.status }), el('td', { text: l.rows_read }), el('td', { text: l.imported }),
    el('td', { text: l.duplicates }), el('td', { text: l.invalid }), el('td', { text: l.dnc }),
    el('td', {}, (l.invalid + l.duplicates) ? el('a', { href: '/api/v1/lists/' + l.id + '/errors', download: '', text: 'rejected rows' }) : ''))));
}
$('u-campaign').addEventListener('change', () => run(loadLists));

// Dispositions.
async function loadDispos() {
  const id = $('x-campaign').value;
  if (!id) return;
  const r = await api('GET', '/campaigns/' + id);
  dispos = r.dispositions;
  $('dispo-rows').replaceChildren(...r.dispositions.map((d) => el('tr', {
    onclick: () => { if (d.system) return; $('x-code').value = d.code; fillDispo(d); } },
  el('td', { text: d.code }), el('td', { text: d.label }), el('td', { text: d.category }), el('td', { text: d.final ? 'yes' : '' }),
  el('td', { text: d.recycle_after_s || '' }), el('td', { text: d.schedules_callback ? 'yes' : '' }), el('td', { text: d.system ? 'engine' : 'agent' }))));
  dncFinal();
  const ch = await api('GET', '/campaigns/' + id + '/disposition-changes?limit=50');
  const fields = ['label', 'category', 'final', 'recycle_after_s', 'schedules_callback'];
  $('dispo-changes').replaceChildren(...ch.changes.map((c) => el('tr', {},
    el('td', { text: new Date(c.at).toLocaleString() }), el('td', { text: c.by }), el('td', { text: c.code }),
    el('td', { text: c.before ? fields.filter((f) => c.before[f] !== c.after[f]).map((f) => f + ': ' + c.before[f] + ' → ' + c.after[f]).join('; ')
      : 'created: ' + fields.map((f) => f + ' ' + c.after[f]).join(', ') }))));
}
// The form shows what an existing code holds, so saving a new label keeps
// its category, finality and recycle time.
let dispos = [];
function fillDispo(d) {
  $('x-label').value = d.label; $('x-category').value = d.category;
  $('x-final').checked = d.final; $('x-recycle').value = d.recycle_after_s || 0; dncFinal();
}
$('x-code').addEventListener('change', () => {
  const d = dispos.find((x) => x.code === $('x-code').value.trim().toUpperCase());
  if (!d) return;
  if (d.system) { showError(errBox, new Error(d.code + ' is an engine code: it cannot be edited.')); return; }
  fillDispo(d);
});
// A dnc disposition puts the number on the DNC list and is always final.
function dncFinal() {
  const dnc = $('x-category').value === 'dnc';
  if (dnc) $('x-final').checked = true;
  $('x-final').disabled = dnc;
}
$('x-category').addEventListener('change', dncFinal);
$('x-campaign').addEventListener('change', () => run(loadDispos));
$('dispo-form').addEventListener('submit', (e) => {
  e.preventDefault();
  run(async () => {
    const code = $('x-code').value.toUpperCase();
    await api('PUT', '/campaigns/' + $('x-campaign').value + '/dispositions/' + encodeURIComponent(code), {
      label: $('x-label').value, category: $('x-category').value, final: $('x-final').checked,
      recycle_after_s: Number($('x-recycle').value) || 0, schedules_callback: $('x-category').value === 'callback' });
    say('Saved disposition ' + code + '.');
    await loadDispos();
  });
});

// DNC: changes are recorded as made from the console, with the reason
// given (a removal needs one).
const scope = () => Number($('d-scope').value);
async function loadDNC() {
  const r = await api('GET', '/dnc' + (scope() ? '?campaign_id=' + scope() : ''));
  $('dnc-rows').replaceChildren(...r.numbers.map((n) => el('li', { text: n.phone + ' (' + n.source + ')' })));
  await loadDNCHistory();
}
async function loadDNCHistory() {
  const q = $('d-find').value.trim() ? '?number=' + encodeURIComponent($('d-find').value.trim()) : '';
  $('dnc-export').href = '/api/v1/dnc/history.csv' + q;
  const r = await api('GET', '/dnc/history' + q);
  const listName = (id) => id ? ((campaigns.find((c) => c.id === id) || {}).name || 'campaign ' + id) : 'Global';
  $('dnc-history').replaceChildren(...r.events.map((e) => el('tr', {},
    el('td', { text: new Date(e.at).toLocaleString() }), el('td', { text: e.action }), el('td', { text: listName(e.campaign_id) }),
    el('td', { text: e.phone }), el('td', { text: e.how + (e.call_id ? ' (call ' + e.call_id + ')' : '') }), el('td', { text: e.by }),
    el('td', { text: e.reason }))));
}
const dncChange = async (method, verb) => {
  const r = await api(method, '/dnc', { campaign_id: scope(), phones: [$('d-number').value], reason: $('d-reason').value, via: 'console' });
  say(verb + ' ' + r.phones.join(', ') + '.');
  $('d-reason').value = '';
  await loadDNC();
};
$('d-scope').addEventListener('change', () => run(loadDNC));
$('dnc-form').addEventListener('submit', (e) => { e.preventDefault(); run(() => dncChange('POST', 'Added')); });
$('btn-dnc-remove').addEventListener('click', () => run(() => dncChange('DELETE', 'Removed')));
$('btn-dnc-import').addEventListener('click', () => run(async () => {
  const f = $('d-file').files[0];
  if (!f) throw new Error('Choose a file of numbers.');
  const fd = new FormData(); fd.append('file', f);
  if ($('d-reason').value) fd.append('reason', $('d-reason').value);
  const r = await api('POST', '/dnc/import' + (scope() ? '?campaign_id=' + scope() : ''), fd);
  say('Imported DNC numbers: ' + JSON.stringify(r)); await loadDNC();
}));
$('dnc-history-form').addEventListener('submit', (e) => { e.preventDefault(); run(loadDNCHistory); });

// Agents of a campaign.
const assignPath = () => '/campaigns/' + $('a-campaign').value + '/agents';
async function loadAssigned() {
  if (!$('a-campaign').value) return;
  const r = await api('GET', assignPath());
  $('assign-rows').replaceChildren(...r.agents.map((a) => el('tr', { 'data-agent': a.username }, el('td', { text: a.username }),
    el('td', { text: new Date(a.assigned_at).toLocaleString() }),
    el('td', {}, el('button', { type: 'button', text: 'Unassign', 'aria-label': 'Unassign ' + a.username,
      onclick: () => run(async () => { await api('DELETE', assignPath() + '/' + a.agent_id); say('Unassigned ' + a.username + '.'); await loadAssigned(); }) })))));
}
$('a-campaign').addEventListener('change', () => run(loadAssigned));
$('assign-form').addEventListener('submit', (e) => {
  e.preventDefault();
  run(async () => {
    const name = $('a-agent').value;
    await api('POST', assignPath(), { usernames: [name] });
    say('Assigned ' + name + '.');
    await loadAssigned();
  });
});

// Users.
async function loadUsers() {
  const r = await api('GET', '/users');
  $('a-agent').replaceChildren(...r.users.filter((u) => u.role === 'agent' && !u.disabled).map((u) => el('option', { value: u.username, text: u.username })));
  $('user-rows').replaceChildren(...r.users.map((u) => el('tr', {}, el('td', { text: u.username }), el('td', { text: u.role }),
    el('td', { text: u.disabled ? 'disabled' : 'active' }),
    el('td', {}, el('button', { type: 'button', text: u.disabled ? 'Enable' : 'Disable', 'aria-label': (u.disabled ? 'Enable ' : 'Disable ') + u.username,
      onclick: () => run(async () => { await api('POST', '/users/' + u.id + (u.disabled ? '/enable' : '/disable')); await loadUsers(); }) })))));
}
$('user-form').addEventListener('submit', (e) => {
  e.preventDefault();
  run(async () => {
    await api('POST', '/users', { username: $('n-username').value, role: $('n-role').value, password: $('n-password').value });
    say('Added user ' + $('n-username').value + '.');
    $('user-form').reset();
    await loadUsers();
  });
});

connectEvents((ev) => { if (ev.type === 'list') showProgress(ev.data); }, null, null);
run(async () => { await loadCampaigns(); await Promise.all([loadLists(), loadDispos(), loadDNC(), loadUsers(), loadAssigned()]); });
