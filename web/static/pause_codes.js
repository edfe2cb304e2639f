// The managers' page for what agents choose from in the workspace: pause
// codes (per campaign or for all, billable, time limit) and the external
// numbers of the transfer directory.
import { api, el, showError, wireLogout } from './common.js';

wireLogout();
const $ = (id) => document.getElementById(id);
const errBox = $('pc-error');
const campaignNames = new Map([...$('pc-campaign').options].filter((o) => o.value).map((o) => [Number(o.value), o.textContent]));
const campaignName = (id) => (id == null ? 'All campaigns' : campaignNames.get(id) || 'campaign ' + id);

function info(text) { const i = $('pc-info'); i.textContent = text; i.hidden = !text; }

async function act(fn) {
  showError(errBox, null);
  try { await fn(); } catch (e) { showError(errBox, e); }
}

// A row edits in place: its label, billable and limit become inputs.
function pauseRow(p) {
  const label = el('input', { value: p.label, maxlength: '64', size: '16', 'aria-label': 'Label of ' + p.code });
  const billable = el('input', { type: 'checkbox', 'aria-label': 'Billable ' + p.code });
  billable.checked = p.billable;
  const limit = el('input', { type: 'number', min: '1', max: '1440', size: '5', placeholder: 'none', 'aria-label': 'Limit of ' + p.code,
    value: p.limit_min == null ? '' : String(p.limit_min) });
  const save = el('button', { type: 'button', text: 'Save' });
  save.addEventListener('click', () => act(async () => {
    await api('PUT', '/pause-codes/' + p.id, { campaign_id: p.campaign_id, code: p.code, label: label.value,
      billable: billable.checked, limit_min: limit.value === '' ? null : Number(limit.value) });
    info('Saved ' + p.code + '.');
    await load();
  }));
  const del = el('button', { type: 'button', text: 'Remove' });
  del.addEventListener('click', () => act(async () => {
    if (!confirm('Remove pause code ' + p.code + ' (' + campaignName(p.campaign_id) + ')?')) return;
    await api('DELETE', '/pause-codes/' + p.id);
    info('Removed ' + p.code + '.');
    await load();
  }));
  return el('tr', { 'data-code': p.code }, el('td', { text: p.code }), el('td', {}, label), el('td', { text: campaignName(p.campaign_id) }),
    el('td', {}, billable), el('td', {}, limit), el('td', {}, save, ' ', del));
}

function numberRow(t) {
  const del = el('button', { type: 'button', text: 'Remove' });
  del.addEventListener('click', () => act(async () => {
    await api('DELETE', '/transfer-numbers/' + t.id);
    info('Removed ' + t.label + '.');
    await load();
  }));
  return el('tr', { 'data-number': t.number }, el('td', { text: t.label }), el('td', { text: t.number }),
    el('td', { text: campaignName(t.campaign_id) }), el('td', {}, del));
}

async function load() {
  const [pc, tn] = await Promise.all([api('GET', '/pause-codes'), api('GET', '/transfer-numbers')]);
  $('pc-rows').replaceChildren(...pc.pause_codes.map(pauseRow));
  $('tn-rows').replaceChildren(...tn.transfer_numbers.map(numberRow));
}

const campaignOf = (sel) => (sel.value === '' ? null : Number(sel.value));

$('pc-form').addEventListener('submit', (e) => {
  e.preventDefault();
  act(async () => {
    const p = await api('POST', '/pause-codes', { campaign_id: campaignOf($('pc-campaign')), code: $('pc-code').value.trim().toUpperCase(),
      label: $('pc-label').value, billable: $('pc-billable').checked,
      limit_min: $('pc-limit').value === '' ? null : Number($('pc-limit').value) });
    info('Added pause code ' + p.code + '.');
    $('pc-form').reset();
    await load();
  });
});

$('tn-form').addEventListener('submit', (e) => {
  e.preventDefault();
  act(async () => {
    const t = await api('POST', '/transfer-numbers', { campaign_id: campaignOf($('tn-campaign')), label: $('tn-label').value,
      number: $('tn-number').value });
    info('Added ' + t.label + ' (' + t.number + ').');
    $('tn-form').reset();
    await load();
  });
});

act(load);
