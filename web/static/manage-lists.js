// A campaign's lead lists: each list's leads counted by where they stand,
// upload with live progress, recycle by disposition (with a count to
// confirm), download as CSV, and delete.
import { api, connectEvents, el } from './common.js';
import { $, campaignId, run, say, when } from './console.js';

const id = campaignId();
const classes = ['new', 'dialling', 'callable', 'retry_later', 'callback', 'finished', 'dnc'];
let lists = [];

async function loadLists() {
  lists = (await api('GET', '/campaigns/' + id + '/lists')).lists;
  $('list-rows').replaceChildren(...lists.map((l) => {
    const deleted = !!l.deleted_at;
    const status = deleted ? 'deleted ' + when(l.deleted_at) + (l.deleted_by ? ' by ' + l.deleted_by : '')
      : l.status === 'queued' ? 'queued (' + l.queue_position + ')' : l.status;
    const imp = l.status === 'ready' || l.status === 'failed'
      ? l.imported + ' of ' + l.rows_read + ' rows' + (l.invalid + l.duplicates ? ', ' + (l.invalid + l.duplicates) + ' rejected' : '') : '';
    const acts = el('td', { class: 'actions' });
    if (!deleted && l.status === 'ready') {
      acts.append(
        el('button', { type: 'button', text: 'Recycle', 'aria-label': 'Recycle ' + l.name, onclick: () => openRecycle(l) }),
        el('a', { href: '/api/v1/lists/' + l.id + '/leads.csv', download: '', text: 'Download', 'aria-label': 'Download ' + l.name }),
        el('button', { type: 'button', text: 'Delete', class: 'danger', 'aria-label': 'Delete ' + l.name, onclick: () => openDelete(l) }));
    }
    if (l.invalid + l.duplicates) acts.append(el('a', { href: '/api/v1/lists/' + l.id + '/errors', download: '', text: 'Rejected rows' }));
    return el('tr', { 'data-list': l.id, class: deleted ? 'deleted' : '' },
      el('td', { text: l.name, title: 'list ' + l.id + ', ' + l.format }),
      el('td', { text: when(l.created_at) }),
      el('td', { class: 'status', text: status }),
      ...classes.map((k) => el('td', { class: 'num count-' + k, text: deleted ? '' : l.counts[k] })),
      el('td', { class: 'num count-total', text: deleted ? '' : l.total }),
      el('td', { text: imp }),
      acts);
  }));
}

// Recycle: pick dispositions, count, then confirm with the count.
let recycling = null;
function recycleBody(dry) {
  const codes = [...document.querySelectorAll('#recycle-codes input:checked')].map((c) => c.value);
  return { dispositions: codes, reset_attempts: $('recycle-reset').checked, dry_run: dry };
}
async function openRecycle(l) {
  recycling = l;
  const r = await api('GET', '/campaigns/' + id);
  $('recycle-title').textContent = 'Recycle leads of ' + l.name;
  $('recycle-codes').replaceChildren(...r.dispositions.filter((d) => d.category !== 'dnc').map((d) => el('label', { class: 'check' },
    el('input', { type: 'checkbox', value: d.code, 'aria-label': d.code + ' ' + d.label }), ' ' + d.code + ' — ' + d.label)));
  $('recycle-count').textContent = '';
  $('recycle-error').hidden = true;
  $('btn-recycle-confirm').disabled = true;
  $('btn-recycle-confirm').textContent = 'Recycle';
  $('recycle-dialog').showModal();
}
const recycleFail = (e) => { $('recycle-error').textContent = e.message; $('recycle-error').hidden = false; };
function uncount() { $('btn-recycle-confirm').disabled = true; $('recycle-count').textContent = ''; }
$('recycle-codes').addEventListener('change', uncount);
$('recycle-reset').addEventListener('change', uncount);
$('btn-recycle-count').addEventListener('click', async () => {
  $('recycle-error').hidden = true;
  try {
    const p = await api('POST', '/lists/' + recycling.id + '/recycle', recycleBody(true));
    let t = p.matched + ' lead(s) match.';
    if (p.at_limit && !$('recycle-reset').checked) t += ' ' + p.at_limit + ' of them used every attempt and stay finished unless attempts are reset.';
    t += ' ' + p.callable + ' will be callable again.';
    $('recycle-count').textContent = t;
    $('btn-recycle-confirm').disabled = p.matched === 0;
    $('btn-recycle-confirm').textContent = 'Recycle ' + p.matched + ' lead(s)';
  } catch (e) { recycleFail(e); }
});
$('btn-recycle-confirm').addEventListener('click', async () => {
  try {
    const p = await api('POST', '/lists/' + recycling.id + '/recycle', recycleBody(false));
    $('recycle-dialog').close();
    say('Recycled ' + p.matched + ' lead(s) of ' + recycling.name + '; ' + p.callable + ' callable again.');
    await loadLists();
  } catch (e) { recycleFail(e); }
});
$('btn-recycle-cancel').addEventListener('click', () => $('recycle-dialog').close());

// Delete, after a confirmation naming the list and its leads.
let deleting = null;
function openDelete(l) {
  deleting = l;
  $('delete-text').textContent = 'Delete ' + l.name + ' and its ' + l.total + ' lead(s)?';
  $('delete-dialog').showModal();
}
$('btn-delete-confirm').addEventListener('click', () => {
  $('delete-dialog').close();
  run(async () => {
    const r = await api('DELETE', '/lists/' + deleting.id);
    say('Deleted ' + deleting.name + ': ' + r.deleted + ' lead(s) removed.');
    await loadLists();
  });
});
$('btn-delete-cancel').addEventListener('click', () => $('delete-dialog').close());

// Upload, then follow "list" events for progress.
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
    run(loadLists);
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
    const r = await api('POST', '/campaigns/' + id + '/lists', fd);
    watching = r.list_id;
    showProgress(await api('GET', '/lists/' + r.list_id));
  });
});

connectEvents((ev) => { if (ev.type === 'list') showProgress(ev.data); }, null, null);
run(loadLists);
