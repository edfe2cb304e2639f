// The reports page: pick a report, a campaign (or all), a date range and a
// time zone; Show puts its first rows in a table, Download CSV fetches the
// whole report from the same API as CSV.
import { api, el, showError, wireLogout } from './common.js';

wireLogout();
const $ = (id) => document.getElementById(id);
const errBox = $('report-error');
const shown = 500; // rows in the table; the CSV has them all
let reports = [];

const isoDay = (d) => d.getFullYear() + '-' + String(d.getMonth() + 1).padStart(2, '0') + '-' +
  String(d.getDate()).padStart(2, '0');

function query(format) {
  const q = new URLSearchParams({ from: $('report-from').value, to: $('report-to').value, format });
  if ($('report-campaign').value) q.set('campaign', $('report-campaign').value);
  if ($('report-tz').value.trim()) q.set('tz', $('report-tz').value.trim());
  if (format === 'json') q.set('limit', String(shown));
  return '/reports/' + encodeURIComponent($('report-name').value) + '?' + q.toString();
}

function updateCSV() { $('report-csv').href = '/api/v1' + query('csv'); }

function cell(v) {
  if (v === null || v === undefined) return '';
  return String(v);
}

async function show() {
  showError(errBox, null);
  $('report-show').disabled = true;
  try {
    const r = await api('GET', query('json'));
    $('report-title').textContent = r.title + ' · ' + r.from + ' to ' + r.to + ' (' + r.tz + ')';
    $('report-note').textContent = r.note;
    $('report-head').replaceChildren(el('tr', {}, ...r.columns.map((c) => el('th', { scope: 'col', text: c.label }))));
    $('report-rows').replaceChildren(...r.rows.map((row) => el('tr', {},
      ...r.columns.map((c) => el('td', { 'data-col': c.key, text: cell(row[c.key]) })))));
    $('report-count').textContent = r.rows.length === 0 ? 'No rows in this range.'
      : r.rows.length >= shown ? 'The first ' + shown + ' rows; Download CSV has them all.'
        : r.rows.length + (r.rows.length === 1 ? ' row.' : ' rows.');
    $('report-result').hidden = false;
    $('report-result').dataset.report = r.report;
  } catch (e) {
    $('report-result').hidden = true;
    showError(errBox, e);
  } finally {
    $('report-show').disabled = false;
  }
}

async function init() {
  try {
    const [list, camps] = await Promise.all([api('GET', '/reports'), api('GET', '/campaigns')]);
    reports = list.reports;
    $('report-name').replaceChildren(...reports.map((r) => el('option', { value: r.name, text: r.title })));
    $('report-campaign').append(...camps.campaigns.filter((c) => c.status !== 'archived')
      .map((c) => el('option', { value: String(c.id), text: c.name })));
    $('report-tz').value = list.default_tz;
    const today = new Date();
    $('report-to').value = isoDay(today);
    $('report-from').value = isoDay(new Date(today.getFullYear(), today.getMonth(), today.getDate() - 6));
    updateCSV();
  } catch (e) { showError(errBox, e); }
}

$('report-form').addEventListener('input', updateCSV);
$('report-form').addEventListener('change', updateCSV);
$('report-form').addEventListener('submit', (e) => { e.preventDefault(); show(); });
// A bad range answers 400 with a reason; show it rather than download it.
$('report-csv').addEventListener('click', async (e) => {
  updateCSV();
  showError(errBox, null);
  if (!$('report-form').reportValidity()) { e.preventDefault(); return; }
  if ($('report-to').value < $('report-from').value) {
    e.preventDefault();
    showError(errBox, new Error('To is before From.'));
  }
});
init();
