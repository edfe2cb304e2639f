// The admins' jobs page: River's jobs by kind and state, a filtered list
// newest first, and Retry and Cancel for one job.
import { api, el, showError, wireLogout } from './common.js';

wireLogout();
const $ = (id) => document.getElementById(id);
const errBox = $('jobs-error');
const states = ['running', 'available', 'scheduled', 'retryable', 'pending', 'completed', 'cancelled', 'discarded'];
const finished = new Set(['completed', 'cancelled', 'discarded']);
let next = '';

function filterQuery(cursor) {
  const q = new URLSearchParams();
  if ($('filter-kind').value) q.set('kind', $('filter-kind').value);
  if ($('filter-state').value) q.set('state', $('filter-state').value);
  if (cursor) q.set('cursor', cursor);
  return '/jobs?' + q.toString();
}

function renderCounts(counts) {
  const kinds = [...new Set(counts.map((c) => c.kind))].sort();
  const n = (k, s) => (counts.find((c) => c.kind === k && c.state === s) || {}).count || 0;
  $('counts-head').replaceChildren(el('tr', {}, el('th', { text: 'Kind' }), ...states.map((s) => el('th', { text: s }))));
  $('counts-rows').replaceChildren(...kinds.map((k) => el('tr', { 'data-kind': k }, el('th', { text: k }),
    ...states.map((s) => el('td', { text: String(n(k, s)) })))));
  const sel = $('filter-kind'), cur = sel.value;
  sel.replaceChildren(el('option', { value: '', text: 'any' }), ...kinds.map((k) => el('option', { value: k, text: k })));
  sel.value = cur;
}

function row(j) {
  const act = (label, path, enabled) => {
    const b = el('button', { type: 'button', text: label });
    b.disabled = !enabled;
    b.addEventListener('click', async () => {
      showError(errBox, null);
      try {
        const r = await api('POST', '/jobs/' + j.id + '/' + path);
        $('jobs-info').textContent = label + ': job ' + r.id + ' is ' + r.state;
        $('jobs-info').hidden = false;
      } catch (e) { showError(errBox, e); }
      load();
    });
    return b;
  };
  const errs = j.errors || [];
  return el('tr', { 'data-id': j.id, 'data-state': j.state },
    el('td', { text: String(j.id) }), el('td', { text: j.kind }), el('td', { class: 'state', text: j.state }),
    el('td', { text: j.attempt + '/' + j.max_attempts }), el('td', { text: new Date(j.scheduled_at).toLocaleString() }),
    el('td', { class: 'args', text: JSON.stringify(j.args) }), el('td', { text: errs.length ? errs[errs.length - 1] : '' }),
    el('td', {}, act('Retry', 'retry', j.state !== 'running'), ' ', act('Cancel', 'cancel', !finished.has(j.state))));
}

async function load(more) {
  showError(errBox, null);
  try {
    const r = await api('GET', filterQuery(more ? next : ''));
    renderCounts(r.counts);
    const rows = r.jobs.map(row);
    if (more) $('job-rows').append(...rows); else $('job-rows').replaceChildren(...rows);
    next = r.next || '';
    $('btn-more').hidden = !next;
  } catch (e) { showError(errBox, e); }
}

$('filter-state').append(...states.map((s) => el('option', { value: s, text: s })));
$('jobs-filter').addEventListener('submit', (e) => { e.preventDefault(); load(); });
$('btn-more').addEventListener('click', () => load(true));
load();
