// A campaign's dispositions and the log of their changes. Engine codes are
// shown but cannot be edited.
import { api, el } from './common.js';
import { $, campaignId, fail, run, say } from './console.js';

const id = campaignId();
let dispos = [];

async function loadDispos() {
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
function fillDispo(d) {
  $('x-label').value = d.label; $('x-category').value = d.category;
  $('x-final').checked = d.final; $('x-recycle').value = d.recycle_after_s || 0; dncFinal();
}
$('x-code').addEventListener('change', () => {
  const d = dispos.find((x) => x.code === $('x-code').value.trim().toUpperCase());
  if (!d) return;
  if (d.system) { fail(new Error(d.code + ' is an engine code: it cannot be edited.')); return; }
  fillDispo(d);
});
// A dnc disposition puts the number on the DNC list and is always final.
function dncFinal() {
  const dnc = $('x-category').value === 'dnc';
  if (dnc) $('x-final').checked = true;
  $('x-final').disabled = dnc;
}
$('x-category').addEventListener('change', dncFinal);
$('dispo-form').addEventListener('submit', (e) => {
  e.preventDefault();
  run(async () => {
    const code = $('x-code').value.toUpperCase();
    await api('PUT', '/campaigns/' + id + '/dispositions/' + encodeURIComponent(code), {
      label: $('x-label').value, category: $('x-category').value, final: $('x-final').checked,
      recycle_after_s: Number($('x-recycle').value) || 0, schedules_callback: $('x-category').value === 'callback' });
    say('Saved disposition ' + code + '.');
    await loadDispos();
  });
});

run(loadDispos);
