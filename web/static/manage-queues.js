// Queues: the inbound queues, with every setting, the numbers that reach
// each, the agents who serve it and its recordings (welcome, comfort
// message, hold music). One form adds a queue or edits the one
// chosen; a refused setting's message is shown beside its field (the
// server names it). Numbers and members belong to a saved queue, so they
// show once the queue exists.
import { api, el } from './common.js';
import { $, fail, run, say } from './console.js';
import { recordings } from './recordings.js';

const days = [['sun', 'Sunday'], ['mon', 'Monday'], ['tue', 'Tuesday'], ['wed', 'Wednesday'], ['thu', 'Thursday'], ['fri', 'Friday'], ['sat', 'Saturday']];
const methodText = { longest_idle: 'Longest idle', fewest_calls: 'Fewest calls', rank: 'By rank', round_robin: 'Round robin', ring_all: 'Ring all' };
const actionText = {
  hangup: 'Message, then hang up', queue: 'Move to another queue', callback: 'Leave a callback request',
  wait: 'Keep waiting',
};

let queues = [], agents = [], editing = null; // editing: the queue shown in the form, or null when adding

// ---- Form parts built once ----

for (const [key, name] of days) {
  $('hours-rows').append(el('tr', { 'data-day': key }, el('th', { text: name }),
    el('td', {}, el('input', { type: 'time', id: 'h-' + key + '-open', 'aria-label': name + ' opens' })),
    el('td', {}, el('input', { type: 'time', id: 'h-' + key + '-close', 'aria-label': name + ' closes' }))));
}

for (const f of document.querySelectorAll('.field.fallback')) {
  const key = f.dataset.fallback;
  const action = el('select', { id: 'q-' + key });
  for (const a of ['hangup', 'queue', 'callback', ...(f.dataset.wait === 'yes' ? ['wait'] : [])]) {
    action.append(el('option', { value: a, text: actionText[a] + (a === 'hangup' ? ' (default)' : '') }));
  }
  const target = el('select', { id: 'q-' + key + '-target', 'aria-label': 'Queue to move callers to', hidden: '' });
  action.addEventListener('change', () => { target.hidden = action.value !== 'queue'; });
  f.append(action, el('span', { class: 'range' }, target), el('span', { class: 'field-error error', id: 'err-' + key, role: 'alert', hidden: '' }));
}

const hoursShown = () => { $('field-hours').hidden = $('q-always').checked; };
$('q-always').addEventListener('change', hoursShown);

// ---- The list ----

function hoursText(q) {
  if (q.open_always) return 'Always open';
  const open = days.filter(([k]) => q.hours[k]).map(([k, n]) => n.slice(0, 3) + ' ' + q.hours[k].open + '–' + q.hours[k].close);
  return (open.length ? open.join(', ') : 'Always open') + ' (' + q.time_zone + ')';
}

async function load() {
  const r = await api('GET', '/queues');
  queues = r.queues;
  agents = r.agents;
  if (!queues.length) {
    $('queue-rows').replaceChildren(el('tr', {}, el('td', { colspan: '9', text: 'No queues yet: add one below.' })));
  } else {
    $('queue-rows').replaceChildren(...queues.map((q) => el('tr', { 'data-queue': q.name },
      el('th', { text: q.name }),
      el('td', { class: 'numbers', text: q.numbers.join(', ') || 'none: no caller reaches it' }),
      el('td', { class: 'num', text: String(q.members.length) }),
      el('td', { class: 'num', text: String(q.priority) }),
      el('td', { text: Math.round(q.sl_target * 100) + '% within ' + q.sl_threshold_s + ' s' }),
      el('td', { text: q.ring_time_s + ' s' }),
      el('td', { text: methodText[q.method] || q.method }),
      el('td', { text: hoursText(q) }),
      el('td', { class: 'actions' },
        el('button', { type: 'button', text: 'Edit', 'aria-label': 'Edit queue ' + q.name, onclick: () => edit(q) }),
        ' ',
        el('button', { type: 'button', text: 'Remove', 'aria-label': 'Remove queue ' + q.name, onclick: () => askRemove(q) })))));
  }
  for (const f of document.querySelectorAll('.field.fallback')) {
    const target = $('q-' + f.dataset.fallback + '-target');
    const keep = target.value;
    target.replaceChildren(...queues.filter((q) => !editing || q.id !== editing.id).map((q) => el('option', { value: String(q.id), text: q.name })));
    if (!target.options.length) target.append(el('option', { value: '', text: 'no other queue yet' }));
    if (keep) target.value = keep;
  }
  if (editing) {
    editing = queues.find((q) => q.id === editing.id) || null;
    if (editing) showParts();
  }
}

// ---- The settings form ----

function clearErrors() {
  for (const n of document.querySelectorAll('#queue-editor .field-error')) { n.hidden = true; n.textContent = ''; }
  for (const n of document.querySelectorAll('#queue-editor .invalid')) n.classList.remove('invalid');
  $('queue-form-error').hidden = true;
}

// showError puts a refusal beside its field (the server names it), or
// under the form when it names none.
function showFieldError(err, fallbackBox) {
  const box = err.field && $('err-' + err.field);
  if (box) {
    box.textContent = err.message;
    box.hidden = false;
    let field = box.closest('.field');
    // An hours refusal names its day: mark that day's row, not the week.
    const day = err.field === 'hours' && days.find(([, name]) => err.message.startsWith(name));
    if (day) field = document.querySelector('#hours-rows tr[data-day="' + day[0] + '"]');
    if (field) field.classList.add('invalid');
    const input = field && field.querySelector('input, select');
    if (input) input.focus();
    return;
  }
  fallbackBox.textContent = err.message;
  fallbackBox.hidden = false;
}

function fill(q) {
  $('q-name').value = q ? q.name : '';
  $('q-priority').value = q ? q.priority : 0;
  $('q-method').value = q ? q.method : 'longest_idle';
  $('q-sl-target').value = q ? Math.round(q.sl_target * 100) : 80;
  $('q-sl-threshold').value = q ? q.sl_threshold_s : 20;
  $('q-ring').value = q ? q.ring_time_s : 30;
  $('q-dnd').value = q && q.reject_to_dnd ? 'true' : 'false';
  $('q-take').checked = q ? q.allow_take : false;
  $('q-widen').value = q ? q.widen_after_s : 0;
  $('q-sticky').value = q ? q.sticky_for_s : 0;
  $('q-cb-allow').checked = q ? q.allow_callback : false;
  $('q-cb-attempts').value = q ? q.callback_attempts : 3;
  $('q-cb-retry').value = q ? q.callback_retry_s : 300;
  $('q-cb-expire').value = q ? q.callback_expire_s : 28800;
  $('q-comfort').value = q ? q.comfort_every_s : 45;
  $('q-max-wait').value = q ? q.max_wait_s : 0;
  $('q-max-depth').value = q ? q.max_depth : 0;
  $('q-zone').value = q ? q.time_zone : 'UTC';
  $('q-always').checked = q ? q.open_always : true;
  for (const [k] of days) {
    const d = q && q.hours[k];
    $('h-' + k + '-open').value = d ? d.open.replace('24:00', '23:59') : '';
    $('h-' + k + '-close').value = d ? (d.close === '24:00' ? '23:59' : d.close) : '';
  }
  for (const key of ['overflow', 'after_hours', 'at_close', 'no_agents']) {
    const f = q ? q[key] : { action: 'hangup' };
    $('q-' + key).value = f.action;
    $('q-' + key + '-target').hidden = f.action !== 'queue';
    if (f.queue_id) $('q-' + key + '-target').value = String(f.queue_id);
  }
  hoursShown();
}

// clock23 reads a time input; 23:59 as a closing time means the end of the
// day (time inputs cannot say 24:00).
const closing = (v) => (v === '23:59' ? '24:00' : v);

function formBody() {
  const num = (id) => Number($(id).value);
  const body = {
    name: $('q-name').value.trim(),
    priority: num('q-priority'),
    method: $('q-method').value,
    sl_target: num('q-sl-target') / 100,
    sl_threshold_s: num('q-sl-threshold'),
    ring_time_s: num('q-ring'),
    reject_to_dnd: $('q-dnd').value === 'true',
    allow_take: $('q-take').checked,
    widen_after_s: num('q-widen'),
    sticky_for_s: num('q-sticky'),
    allow_callback: $('q-cb-allow').checked,
    callback_attempts: num('q-cb-attempts'),
    callback_retry_s: num('q-cb-retry'),
    callback_expire_s: num('q-cb-expire'),
    comfort_every_s: num('q-comfort'),
    max_wait_s: num('q-max-wait'),
    max_depth: num('q-max-depth'),
    time_zone: $('q-zone').value.trim(),
    open_always: $('q-always').checked,
    hours: {},
  };
  for (const [k] of days) {
    const open = $('h-' + k + '-open').value, close = closing($('h-' + k + '-close').value);
    if (open || close) body.hours[k] = { open, close };
  }
  for (const key of ['overflow', 'after_hours', 'at_close', 'no_agents']) {
    const action = $('q-' + key).value;
    body[key] = { action };
    if (action === 'queue') body[key].queue_id = Number($('q-' + key + '-target').value) || 0;
  }
  return body;
}

function edit(q) {
  editing = q;
  clearErrors();
  fill(q);
  $('queue-form-title').textContent = 'Edit queue ' + q.name;
  $('btn-queue-save').textContent = 'Save queue';
  $('btn-queue-cancel').hidden = false;
  showParts();
  load().catch(() => {});
  $('queue-editor').scrollIntoView({ block: 'start' });
  $('q-name').focus();
}

function startNew() {
  editing = null;
  clearErrors();
  fill(null);
  $('queue-form-title').textContent = 'New queue';
  $('btn-queue-save').textContent = 'Add queue';
  $('btn-queue-cancel').hidden = true;
  $('queue-parts').hidden = true;
  recordingsOf = null;
  $('q-name').focus();
}

$('btn-new-queue').addEventListener('click', startNew);
$('btn-queue-cancel').addEventListener('click', startNew);

$('queue-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  clearErrors();
  say('');
  const body = formBody();
  try {
    if (editing) {
      const q = await api('PATCH', '/queues/' + editing.id, body);
      say('Saved queue ' + q.name + '.');
      editing = q;
    } else {
      const q = await api('POST', '/queues', body);
      say('Added queue ' + q.name + '. Now give it a number and members.');
      editing = q;
      $('queue-form-title').textContent = 'Edit queue ' + q.name;
      $('btn-queue-save').textContent = 'Save queue';
      $('btn-queue-cancel').hidden = false;
    }
    await load();
    showParts();
  } catch (err) {
    showFieldError(err, $('queue-form-error'));
  }
});

// ---- Numbers, members and recordings of the queue being edited ----

const loadRecordings = recordings({ welcome: 'Welcome message', comfort: 'Comfort message', hold_music: 'Hold music' },
  () => '/queues/' + editing.id);
let recordingsOf = null; // the queue whose recordings are shown

function showParts() {
  const q = editing;
  $('queue-parts').hidden = false;
  if (!q.numbers.length) $('number-list').replaceChildren(el('li', { class: 'muted', text: 'No number yet: no caller can reach this queue.' }));
  else $('number-list').replaceChildren(...q.numbers.map((n) => el('li', { 'data-number': n }, el('span', { class: 'number', text: n }), ' ',
    el('button', { type: 'button', text: 'Remove', 'aria-label': 'Remove number ' + n, onclick: () => removeNumber(n) }))));
  if (!q.members.length) {
    $('member-rows').replaceChildren(el('tr', {}, el('td', { colspan: '4', text: 'No members yet: nobody takes this queue\'s calls.' })));
  } else {
    $('member-rows').replaceChildren(...q.members.map((m) => {
      const name = m.name || ('Agent ' + m.agent_id);
      const level = el('input', { type: 'number', min: '1', max: '9', step: '1', value: String(m.level), 'aria-label': 'Level of ' + name });
      const rank = el('input', { type: 'number', min: '0', max: '9999', step: '1', value: String(m.rank), 'aria-label': 'Rank of ' + name });
      const err = el('span', { class: 'field-error error', role: 'alert', hidden: '' });
      return el('tr', { 'data-agent': String(m.agent_id) }, el('td', { text: name }), el('td', {}, level), el('td', {}, rank),
        el('td', { class: 'actions' },
          el('button', { type: 'button', text: 'Save', 'aria-label': 'Save level and rank of ' + name, onclick: () => setMember(m.agent_id, level.value, rank.value, err) }),
          ' ',
          el('button', { type: 'button', text: 'Remove', 'aria-label': 'Remove ' + name + ' from the queue', onclick: () => removeMember(m.agent_id, name) }),
          err));
    }));
  }
  const members = new Set(q.members.map((m) => m.agent_id));
  const free = agents.filter((a) => !members.has(a.agent_id));
  $('m-agent').replaceChildren(...free.map((a) => el('option', { value: String(a.agent_id), text: a.name })));
  if (!free.length) $('m-agent').append(el('option', { value: '', text: 'every agent is a member' }));
  $('btn-member-add').disabled = !free.length;
  if (recordingsOf !== q.id) {
    recordingsOf = q.id;
    // Not run(): that clears the message line, and "Added queue …" must
    // stay for the manager to read.
    loadRecordings().catch(fail);
  }
}

$('number-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const box = $('err-number');
  box.hidden = true;
  const number = $('n-number').value.trim();
  try {
    const r = await api('POST', '/queues/' + editing.id + '/numbers', { number });
    say('Calls to ' + r.number + ' now reach ' + editing.name + '.');
    $('n-number').value = '';
    await load();
  } catch (err) {
    box.textContent = err.message;
    box.hidden = false;
  }
});

async function removeNumber(n) {
  await run(async () => {
    await api('DELETE', '/queues/' + editing.id + '/numbers/' + encodeURIComponent(n));
    say('Calls to ' + n + ' no longer reach ' + editing.name + '.');
    await load();
  });
}

async function setMember(agent, level, rank, box) {
  box.hidden = true;
  try {
    await api('PUT', '/queues/' + editing.id + '/members/' + agent, { level: Number(level), rank: Number(rank) });
    say('Saved.');
    await load();
  } catch (err) {
    box.textContent = err.message;
    box.hidden = false;
  }
}

$('member-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const agent = $('m-agent').value;
  if (!agent) return;
  const name = $('m-agent').selectedOptions[0].textContent;
  const box = $('err-member');
  box.hidden = true;
  try {
    await api('PUT', '/queues/' + editing.id + '/members/' + agent, { level: Number($('m-level').value), rank: Number($('m-rank').value) });
    say(name + ' now serves ' + editing.name + '.');
    await load();
  } catch (err) {
    box.textContent = err.message;
    box.hidden = false;
  }
});

async function removeMember(agent, name) {
  await run(async () => {
    await api('DELETE', '/queues/' + editing.id + '/members/' + agent);
    say(name + ' no longer serves ' + editing.name + '.');
    await load();
  });
}

// ---- Removing a queue ----

let removing = null;
function askRemove(q) {
  removing = q;
  $('remove-title').textContent = 'Remove queue ' + q.name + '?';
  $('remove-error').hidden = true;
  $('btn-remove-confirm').disabled = false;
  $('remove-dialog').showModal();
}
$('btn-remove-confirm').addEventListener('click', async () => {
  try {
    await api('DELETE', '/queues/' + removing.id);
    $('remove-dialog').close();
    say('Removed queue ' + removing.name + '.');
    if (editing && editing.id === removing.id) startNew();
    await load();
  } catch (err) {
    $('remove-error').textContent = err.message;
    $('remove-error').hidden = false;
    $('btn-remove-confirm').disabled = true;
  }
});
$('btn-remove-cancel').addEventListener('click', () => $('remove-dialog').close());

fill(null);
run(load);
