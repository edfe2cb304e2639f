// Do-not-call lists (global and per campaign) and their history. Changes
// are recorded as made from the console, with the reason given (a removal
// needs one).
import { api, el } from './common.js';
import { $, run, say } from './console.js';

let campaigns = [];
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

run(async () => { campaigns = (await api('GET', '/campaigns')).campaigns; await loadDNC(); });
