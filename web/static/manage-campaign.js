// The campaign editor: every setting, grouped, with its label, unit and the
// range the server checks (from /campaign-fields, so no limit is written
// here twice); a refused value's message is shown beside its field.
import { api, el } from './common.js';
import { $, campaignId, run, say } from './console.js';

const groups = [
  ['general', 'General'], ['dialling', 'Dialling'], ['compliance', 'Compliance'],
  ['retries', 'Retries and limits'], ['agents', 'Agents and callbacks'], ['script', 'Script'], ['cost', 'Cost'],
];
const id = campaignId();
let fields = [], current = null;

// A "%" setting is stored as a fraction (0.03) and shown as a percentage.
const scale = (f) => (f.unit === '%' ? 100 : 1);
const shown = (f, v) => Number((v * scale(f)).toPrecision(12));
const unitText = (f) => (f.unit === 's' ? 'seconds' : f.unit === 'ms' ? 'milliseconds' : f.unit);

// human is a number of seconds the way people say it (259200 s: 3 d).
function human(s) {
  for (const [n, u] of [[86400, ' d'], [3600, ' h'], [60, ' min']]) if (s >= n && s % n === 0) return s / n + u;
  return s + ' s';
}

function rangeText(f) {
  const parts = [];
  const u = f.unit === '%' ? '%' : f.unit === 'ms' ? ' ms' : '';
  const v = (x) => (f.unit === 's' ? human(x) : shown(f, x) + u);
  if (f.min != null && f.max != null) parts.push('allowed ' + (f.min_exclusive ? 'above ' : '') + v(f.min) + ' to ' + v(f.max));
  else if (f.min != null) parts.push('at least ' + v(f.min));
  if (f.kind === 'text' && f.max_length) parts.push('up to ' + f.max_length + ' characters');
  if (f.kind === 'time') parts.push('HH:MM');
  if (f.law) parts.push(f.law);
  return parts.join('; ');
}

function toText(f, v) {
  if (v == null) return '';
  if (f.kind === 'states') return Object.entries(v).map(([k, w]) => k + '=' + w).join(',');
  if ((f.kind === 'number' || f.kind === 'integer') && f.unit === '%') return String(shown(f, v));
  return String(v);
}

function input(f) {
  const attrs = { id: 'set-' + f.key, 'data-setting': f.key, 'aria-describedby': 'range-' + f.key + ' err-' + f.key };
  if (f.kind === 'choice' || f.kind === 'boolean') {
    // A new campaign leaves what the manager does not pick to the server's default.
    const blank = id ? [] : [el('option', { value: '', text: '(default)' })];
    return el('select', attrs, ...blank, ...f.choices.map((c) => el('option', { value: c, text: c })));
  }
  if (f.kind === 'text' && f.max_length > 200) return el('textarea', { ...attrs, rows: f.key === 'script' ? 8 : 3, maxlength: f.max_length });
  if (f.kind === 'integer' || f.kind === 'number') {
    const a = { ...attrs, type: 'number', step: f.kind === 'integer' ? '1' : 'any', inputmode: 'decimal' };
    if (f.min != null) a.min = shown(f, f.min);
    if (f.max != null) a.max = shown(f, f.max);
    return el('input', a);
  }
  if (f.kind === 'phone') return el('input', { ...attrs, type: 'tel', placeholder: '+12025550143' });
  if (!id) attrs.placeholder = 'default';
  if (f.kind === 'time') return el('input', { ...attrs, placeholder: 'HH:MM', pattern: '[0-9]{1,2}:[0-9]{2}' });
  const a = { ...attrs };
  if (f.max_length) a.maxlength = f.max_length;
  if (f.kind === 'states') a.placeholder = 'FL=08:00-20:00,TX=09:00-20:00';
  return el('input', a);
}

function build() {
  // A section list that stays on screen, so a manager can jump to a group
  // instead of scrolling the whole form.
  const jump = el('nav', { class: 'section-nav', 'aria-label': 'Settings sections' },
    ...groups.filter(([g]) => fields.some((f) => f.group === g))
      .map(([g, title]) => el('a', { href: '#group-' + g, text: title })));
  $('settings-groups').replaceChildren(jump, ...groups.map(([g, title]) => {
    const fs = fields.filter((f) => f.group === g);
    return el('fieldset', { class: 'settings-group', id: 'group-' + g }, el('legend', { text: title }),
      ...fs.map((f) => el('div', { class: 'field', id: 'field-' + f.key },
        el('label', { for: 'set-' + f.key, text: f.label + (f.unit ? ' (' + unitText(f) + ')' : '') }),
        input(f),
        el('small', { class: 'range', id: 'range-' + f.key, text: rangeText(f) }),
        el('small', { class: 'help', text: f.help }),
        el('span', { class: 'field-error error', id: 'err-' + f.key, role: 'alert', hidden: '' }))));
  }));
}

function fill(c) {
  current = c;
  for (const f of fields) $('set-' + f.key).value = toText(f, c[f.key]);
  if ($('campaign-name')) $('campaign-name').textContent = c.name;
  if ($('campaign-status')) { $('campaign-status').textContent = c.status; $('campaign-status').className = 'badge status-' + c.status; }
  $('settings-form').dataset.loaded = 'true';
}

function clearErrors() {
  for (const n of document.querySelectorAll('.field-error')) { n.hidden = true; n.textContent = ''; }
  for (const n of document.querySelectorAll('.field.invalid')) n.classList.remove('invalid');
  $('settings-summary').hidden = true;
}

// fieldMessage puts the server's refusal in the field's own terms: without
// the setting's key (the field is labelled) and, for a percentage, in
// percent as the manager typed it (the server speaks in fractions).
function fieldMessage(f, msg) {
  let m = msg.replace(new RegExp('^' + f.key + ':?\\s*'), '');
  if (f.unit === '%') m = m.replace(/\b\d*\.?\d+\b/g, (x) => shown(f, Number(x)) + '%');
  return m;
}

function showFieldError(e) {
  const f = fields.find((x) => x.key === e.field);
  if (!f) { $('settings-summary').textContent = e.message; $('settings-summary').hidden = false; return; }
  const box = $('err-' + f.key);
  box.textContent = fieldMessage(f, e.message);
  box.hidden = false;
  $('field-' + f.key).classList.add('invalid');
  $('set-' + f.key).setAttribute('aria-invalid', 'true');
  $('settings-summary').textContent = 'Not saved: ' + f.label + ' (' + groups.find(([g]) => g === f.group)[1] + ') was refused.';
  $('settings-summary').hidden = false;
  $('set-' + f.key).focus();
}

function body() {
  const out = {};
  for (const f of fields) {
    let v = $('set-' + f.key).value;
    if (current && toText(f, current[f.key]) === v) continue;
    if (!current && v === '') continue;
    if (f.unit === '%' && v !== '' && !Number.isNaN(Number(v))) v = String(Number((Number(v) / 100).toPrecision(12)));
    out[f.key] = v;
  }
  return out;
}

$('settings-form').addEventListener('submit', (e) => {
  e.preventDefault();
  clearErrors();
  run(async () => {
    for (const n of document.querySelectorAll('[aria-invalid]')) n.removeAttribute('aria-invalid');
    const b = body();
    try {
      if (id) {
        if (!Object.keys(b).length) { say('Nothing changed.'); return; }
        fill(await api('PATCH', '/campaigns/' + id, b));
        say('Saved campaign ' + current.name + '.');
      } else {
        const c = await api('POST', '/campaigns', b);
        location.assign('/manage/campaigns/' + c.id + '?created=1');
      }
    } catch (err) {
      if (err.status === 400 || err.status === 409) { showFieldError(err); return; }
      throw err;
    }
  });
});

run(async () => {
  fields = (await api('GET', '/campaign-fields')).fields;
  build();
  if (id) {
    fill((await api('GET', '/campaigns/' + id)).campaign);
    if (new URLSearchParams(location.search).get('created')) say('Created campaign ' + current.name + '.');
  } else {
    $('set-name').required = true;
  }
});
