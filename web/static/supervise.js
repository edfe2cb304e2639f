// The wallboard. /supervise is the overview of every campaign (agents by
// state, lines, dial level, rates against target, hopper, alerts);
// /supervise?campaign=ID is one campaign: its alerts, live figures, agent
// rows (force pause / force logout, audited), charts over a chosen range,
// dispositions by label, the audit of supervisor actions, missed callbacks.
// The overview also shows the inbound queues (supervise_queues.js).
// Both follow the "stats" and "agent" events; alerts come computed from the
// server.
import { api, connectEvents, el, clock, pct, showError, wireLogout } from './common.js';
import { startQueues, startReserve } from './supervise_queues.js';

wireLogout();
const $ = (id) => document.getElementById(id);
const campaign = Number(new URLSearchParams(location.search).get('campaign')) || 0;
const set = (id, v) => { $(id).textContent = v; };
const level = (x) => (x ? x.toFixed(2) : '–');

// ---- Rows that stay put ----
// The boards refresh on every event. Replacing a row would drop a click in
// progress (a press and release must land on the same element), so rows
// are kept by key and only what changed in them is replaced; links and
// buttons keep their element and take the new attributes and text.

function patchNode(o, f) {
  for (const a of [...o.attributes]) if (!f.hasAttribute(a.name)) o.removeAttribute(a.name);
  for (const a of [...f.attributes]) if (o.getAttribute(a.name) !== a.value) o.setAttribute(a.name, a.value);
  if (o.children.length === 0 && f.children.length === 0) {
    if (o.textContent !== f.textContent) o.textContent = f.textContent;
    return;
  }
  const oc = [...o.children], fc = [...f.children];
  if (oc.length !== fc.length) { o.replaceChildren(...f.childNodes); return; }
  oc.forEach((c, i) => {
    if (c.isEqualNode(fc[i])) return;
    if (c.tagName === fc[i].tagName && (c.matches('a, button') || c.querySelector('a, button'))) patchNode(c, fc[i]);
    else c.replaceWith(fc[i]);
  });
}

function patchRows(tbody, fresh, key) {
  const have = new Map([...tbody.children].filter((tr) => tr.dataset[key] !== undefined).map((tr) => [tr.dataset[key], tr]));
  const out = fresh.map((f) => {
    const o = have.get(f.dataset[key]);
    if (!o) return f;
    patchNode(o, f);
    return o;
  });
  out.forEach((tr, i) => { if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] || null); });
  while (tbody.children.length > out.length) tbody.lastElementChild.remove();
}

// ---- Overview ----

const overview = new Map(); // campaign id → stats

function alertList(alerts, compact) {
  const items = (alerts || []).map((a) => el('li', { class: 'alert alert-' + a.level, 'data-kind': a.kind, text: a.message }));
  if (!items.length) return el(compact ? 'span' : 'li', { class: 'muted', text: 'No alerts' });
  return compact ? el('ul', { class: 'alerts-compact' }, ...items) : items;
}

function pacingText(st) {
  if (!st.running) return 'not running';
  const p = st.pacing;
  if (p && p.learning) return st.mode + ' – learning (' + p.dials + '/' + p.need_dials + ' dials, ' + p.talks + '/' + p.need_talks + ' talks)';
  return st.mode;
}

function overviewRow(st) {
  const by = st.agents_by_state || {};
  const over = (st.window_abandon_rate || 0) > (st.abandon_target || 1);
  return el('tr', { 'data-campaign': st.campaign_id, 'data-running': st.running ? 'yes' : 'no' },
    el('th', {}, el('a', { href: '/supervise?campaign=' + st.campaign_id, text: st.name })),
    el('td', { text: st.status + (st.running ? '' : ' (no loop here)') }),
    el('td', { class: 'num', text: [by.READY || 0, (by.INCALL || 0) + (by.RINGING || 0) + (by.DIALING || 0), by.DISPO || 0, (by.PAUSED || 0) + (by.DND || 0)].join(' / ') }),
    el('td', { class: 'num', text: String(st.lines || 0) }),
    el('td', { class: 'num', text: level(st.dial_level) }),
    el('td', { class: 'num', text: pct(st.today_answer_rate) }),
    el('td', { class: 'num' + (over ? ' over' : ''), text: pct(st.window_abandon_rate) + ' / ' + pct(st.abandon_target) }),
    el('td', { class: 'num', text: String(st.hopper_depth) }),
    el('td', { text: pacingText(st) }),
    el('td', {}, alertList(st.alerts, true)));
}

function renderOverview() {
  const rows = [...overview.values()].sort((a, b) => (b.running - a.running) || a.name.localeCompare(b.name));
  if (!rows.length) { $('overview-rows').replaceChildren(el('tr', {}, el('td', { colspan: '10', text: 'No campaigns.' }))); return; }
  patchRows($('overview-rows'), rows.map(overviewRow), 'campaign');
}

async function loadOverview() {
  try {
    const r = await api('GET', '/wallboard');
    overview.clear();
    for (const st of r.campaigns) overview.set(st.campaign_id, st);
    renderOverview();
  } catch (e) { $('live').textContent = e.message; }
}

// ---- One campaign ----

let stats = null, skew = 0, sortKey = 'name', sortDir = 1, chartRange = '1h', points = [];
const agentState = new Map(); // agent id → {state, since, pause_code} from agent events (fresher than stats)

async function load() {
  try {
    stats = await api('GET', '/campaigns/' + campaign + '/stats');
    agentState.clear();
    render();
  } catch (e) { $('live').textContent = e.message; }
}

function render() {
  if (!stats) return;
  set('title', 'Wallboard – ' + stats.name);
  document.title = stats.name + ' – Wallboard';
  set('t-dial-level', level(stats.dial_level));
  set('t-lines', stats.lines || 0);
  set('t-ready', 'dialling or ringing · ' + (stats.ready_agents || 0) + ' READY');
  set('t-waiting', stats.waiting || 0);
  set('t-connected', stats.connected_calls || 0);
  set('t-answer', pct(stats.today_answer_rate));
  set('t-abandon-today', pct(stats.today_abandon_rate));
  set('t-abandon-window', pct(stats.window_abandon_rate));
  set('t-target', 'target ' + pct(stats.abandon_target) + (stats.rules === 'uk' ? ' per 24 h' : ' over 30 days'));
  $('t-abandon-window').classList.toggle('over', (stats.window_abandon_rate || 0) > (stats.abandon_target || 1));
  set('t-hopper', stats.hopper_depth);
  set('t-dispo', clock((stats.today && stats.today.avg_dispo_s) || 0));
  set('t-dials', (stats.today && stats.today.dials) || 0);
  set('wrapup-limit', stats.wrapup_limit_s ? clock(stats.wrapup_limit_s) : 'none');
  const note = $('pacing-note');
  const p = stats.pacing;
  note.hidden = !(p && p.learning);
  if (p && p.learning) {
    note.textContent = 'Predictive pacing is still learning this campaign (' + p.dials + ' of ' + p.need_dials + ' dials, ' + p.talks + ' of ' + p.need_talks +
      ' talks seen): it paces from conservative defaults blended with the campaign\'s history and calls so far, with a wider safety margin that narrows as it learns.';
  }
  const alerts = alertList(stats.alerts, false);
  $('alert-list').replaceChildren(...(Array.isArray(alerts) ? alerts : [alerts]));
  const d = (stats.today && stats.today.dispositions) || {};
  const labels = stats.disposition_labels || {};
  $('dispo-rows').replaceChildren(...Object.keys(d).sort((a, b) => d[b] - d[a]).map((k) => el('tr', { 'data-code': k },
    el('th', { text: labels[k] || k }), el('td', { class: 'muted', text: k }), el('td', { class: 'num', text: d[k] }))));
  if (!Object.keys(d).length) $('dispo-rows').replaceChildren(el('tr', {}, el('td', { colspan: '3', text: 'None yet today.' })));
  renderAgents();
}

function agentsNow() {
  const perAgent = (stats.today && stats.today.agent_dispo_s) || {};
  return (stats.agents || []).map((a) => {
    // An agent event newer than the last stats snapshot wins.
    const live = agentState.get(a.agent_id);
    const fresh = live && Date.parse(live.since) >= Date.parse(a.since);
    return { ...a, ...(fresh ? live : {}), dispo: perAgent[a.agent_id] || 0 };
  }).filter((a) => a.state !== 'LOGGED_OUT');
}

function stateText(a) {
  let t = a.state;
  if (a.state === 'PAUSED' && a.pause_code) t += ' (' + a.pause_code + ')';
  if (a.state === 'DND') t = 'DND (do not disturb)';
  if (a.pause_pending) t += ' · pause after call';
  return t;
}

function renderAgents() {
  const rows = agentsNow();
  rows.sort((a, b) => {
    const k = sortKey === 'since' ? (x) => -Date.parse(x.since) : (x) => x[sortKey];
    const va = k(a), vb = k(b);
    return (va < vb ? -1 : va > vb ? 1 : 0) * sortDir;
  });
  patchRows($('agents-rows'), rows.map((a) => {
    const name = a.name || String(a.agent_id);
    // A kept button reads the agent from its row, which is kept up to date.
    const act = (label, kind) => {
      const b = el('button', { type: 'button', text: label, 'data-action': kind });
      b.addEventListener('click', () => {
        const tr = b.closest('tr');
        confirmForce(kind, Number(tr.dataset.agent), tr.dataset.name, tr.dataset.state);
      });
      return b;
    };
    const canPause = a.state !== 'PAUSED' && !a.pause_pending && a.state !== 'RINGING';
    const pauseBtn = act('Force pause', 'pause');
    pauseBtn.disabled = !canPause;
    const logoutBtn = act('Force logout', 'logout');
    logoutBtn.disabled = !(a.state === 'READY' || a.state === 'PAUSED' || a.state === 'DND');
    if (logoutBtn.disabled) logoutBtn.title = 'Only READY, PAUSED or DND agents: force a pause first, it is taken after the call';
    return el('tr', { 'data-agent': a.agent_id, 'data-name': name, 'data-state': a.state, class: a.overrun ? 'overrun overrun-' + a.overrun : '' },
      el('td', { text: name }),
      el('td', { class: 'state state-' + a.state, text: stateText(a) }),
      el('td', { class: 'since', 'data-since': a.since, text: clock((Date.now() + skew - Date.parse(a.since)) / 1000) + (a.overrun ? ' · over ' + (a.overrun === 'wrapup' ? 'wrap-up' : 'pause') + ' limit' : '') }),
      el('td', { class: 'num calls', text: String(a.calls || 0) }),
      el('td', { class: 'num talk', text: clock(a.talk_s || 0) }),
      el('td', { class: 'num sales', text: String(a.sales || 0) }),
      el('td', { class: 'lead', title: a.lead_id ? 'lead ' + a.lead_id : '', text: a.number || '–' }),
      el('td', { class: 'num', text: a.dispo ? clock(a.dispo) : '–' }),
      el('td', { class: 'actions' }, pauseBtn, ' ', logoutBtn));
  }), 'agent');
}

for (const b of document.querySelectorAll('button.sort')) {
  b.addEventListener('click', () => {
    if (sortKey === b.dataset.key) sortDir = -sortDir; else { sortKey = b.dataset.key; sortDir = 1; }
    renderAgents();
  });
}

setInterval(() => {
  for (const td of document.querySelectorAll('#agents-rows td.since')) {
    const over = td.textContent.includes(' · over ') ? td.textContent.slice(td.textContent.indexOf(' · over ')) : '';
    td.textContent = clock((Date.now() + skew - Date.parse(td.dataset.since)) / 1000) + over;
  }
}, 500);

// Force pause / force logout: a confirm dialog asks for the reason.
let pending = null;
function confirmForce(kind, agent, name, state) {
  pending = { kind, agent };
  set('force-title', kind === 'pause' ? 'Force pause' : 'Force logout');
  set('force-text', kind === 'pause'
    ? (state === 'READY' || state === 'DND' ? name + ' is ' + state + ' and will be PAUSED (code SUPERVISOR) at once.' : name + ' is ' + state + ': the pause is taken after this call, when its disposition is saved.')
    : name + ' is ' + state + ' and will be logged out of this campaign.');
  set('force-confirm', kind === 'pause' ? 'Force pause' : 'Force logout');
  $('force-reason').value = '';
  $('force-dialog').showModal();
}
$('force-dialog').addEventListener('close', async () => {
  const p = pending;
  pending = null;
  if (!p || $('force-dialog').returnValue !== 'confirm') return;
  const errBox = $('action-error');
  showError(errBox, null);
  $('action-info').hidden = true;
  try {
    const r = await api('POST', '/campaigns/' + campaign + '/agents/' + p.agent + '/force-' + p.kind, { reason: $('force-reason').value });
    $('action-info').textContent = r.outcome === 'pause_after_call' ? 'Pause requested: taken after the call.' : (r.outcome === 'paused' ? 'Agent paused.' : 'Agent logged out.');
    $('action-info').hidden = false;
  } catch (e) { showError(errBox, e); }
  loadAudit();
  load();
});

async function loadAudit() {
  try {
    const r = await api('GET', '/campaigns/' + campaign + '/supervisor-actions?limit=20');
    $('audit-rows').replaceChildren(...r.actions.map((a) => el('tr', { 'data-action': a.action },
      el('td', { text: new Date(a.at).toLocaleString() }), el('td', { text: a.actor_name }),
      el('td', { text: agentName(a.agent_id) }), el('td', { text: a.action.replace('_', ' ') }),
      el('td', { text: a.agent_state }), el('td', { text: a.outcome.replaceAll('_', ' ') }), el('td', { text: a.reason }))));
    if (!r.actions.length) $('audit-rows').replaceChildren(el('tr', {}, el('td', { colspan: '7', text: 'None.' })));
  } catch (e) { showError($('action-error'), e); }
}
function agentName(id) {
  const a = ((stats && stats.agents) || []).find((x) => x.agent_id === id);
  return (a && a.name) || String(id);
}

// ---- Charts: SVG with axes, units and legends over the chosen range ----

const NS = 'http://www.w3.org/2000/svg';
const W = 320, H = 130, L = 34, R = 6, T = 6, B = 18; // plot margins
function svgEl(tag, attrs, text) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
  if (text !== undefined) n.textContent = text;
  return n;
}
const hhmm = (t) => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

function chart(svg, legend, series, maxY, fmtY, from, to) {
  svg.replaceChildren();
  const x = (t) => L + (W - L - R) * (t - from) / Math.max(to - from, 1);
  const y = (v) => H - B - (H - B - T) * Math.min(v / maxY, 1);
  svg.append(svgEl('path', { d: `M${L},${T} V${H - B} H${W - R}`, class: 'axis' }));
  for (const f of [0, 0.5, 1]) {
    svg.append(svgEl('path', { d: `M${L - 3},${y(maxY * f)} H${W - R}`, class: f ? 'grid' : 'axis' }));
    svg.append(svgEl('text', { x: L - 5, y: y(maxY * f) + 3, class: 'tick', 'text-anchor': 'end' }, fmtY(maxY * f)));
  }
  for (const f of [0, 0.5, 1]) {
    const t = from + (to - from) * f;
    svg.append(svgEl('text', { x: x(t), y: H - 5, class: 'tick', 'text-anchor': f === 0 ? 'start' : f === 1 ? 'end' : 'middle' }, hhmm(t)));
  }
  legend.replaceChildren(...series.map((s) => el('li', { 'data-color': s.color }, el('span', { class: 'swatch swatch-' + s.color }), s.name)));
  if (!points.length) {
    svg.append(svgEl('text', { x: (L + W) / 2, y: H / 2, class: 'tick', 'text-anchor': 'middle' }, 'no samples in this range yet'));
    return;
  }
  for (const s of series) {
    const pts = points.map((p) => x(Date.parse(p.at)).toFixed(1) + ',' + y(s.fn(p)).toFixed(1));
    svg.append(svgEl('polyline', { points: pts.join(' '), class: 'series series-' + s.color + (s.dashed ? ' dashed' : '') }));
  }
}

let chartFrom = 0, chartTo = 0;
async function loadCharts() {
  try {
    const r = await api('GET', '/campaigns/' + campaign + '/stats/history?range=' + chartRange);
    if (r.range !== chartRange) return; // the range was switched meanwhile
    points = r.points;
    chartFrom = Date.parse(r.from);
    chartTo = Date.parse(r.to);
    set('chart-range', hhmm(chartFrom) + ' – ' + hhmm(chartTo) + ' · ' + points.length + ' points');
    $('chart-range').dataset.range = r.range;
    drawCharts();
  } catch (e) { set('chart-range', e.message); }
}
function drawCharts() {
  const from = chartFrom, to = chartTo;
  const dl = Math.max(1, ...points.map((p) => p.dial_level));
  chart($('chart-dial'), $('legend-dial'), [{ name: 'dial level (lines / READY agent)', color: 'blue', fn: (p) => p.dial_level }],
    Math.ceil(dl), (v) => v.toFixed(1), from, to);
  const target = (stats && stats.abandon_target) || 0.03;
  const ab = Math.max(0.05, target * 1.5, ...points.map((p) => Math.max(p.abandon_rate, p.answer_rate)));
  chart($('chart-abandon'), $('legend-abandon'), [
    { name: 'abandon rate (legal window)', color: 'red', fn: (p) => p.abandon_rate },
    { name: 'target ' + pct(target), color: 'grey', dashed: true, fn: () => target },
    { name: 'answer rate today', color: 'green', fn: (p) => p.answer_rate }], ab, (v) => (100 * v).toFixed(v < 0.1 ? 1 : 0) + '%', from, to);
  const n = Math.max(1, ...points.map((p) => p.ready + p.incall + p.dispo + p.paused));
  chart($('chart-agents'), $('legend-agents'), [
    { name: 'READY', color: 'green', fn: (p) => p.ready }, { name: 'in call', color: 'blue', fn: (p) => p.incall },
    { name: 'wrap-up', color: 'amber', fn: (p) => p.dispo }, { name: 'PAUSED (with DND)', color: 'grey', fn: (p) => p.paused }],
  Math.ceil(n), (v) => (Number.isInteger(v) ? String(v) : v.toFixed(1)), from, to);
}
for (const b of document.querySelectorAll('.range button')) {
  b.addEventListener('click', () => {
    chartRange = b.dataset.range;
    for (const o of document.querySelectorAll('.range button')) o.setAttribute('aria-pressed', String(o === b));
    loadCharts();
  });
}

async function loadMissed() {
  const errBox = $('missed-error');
  try {
    const [r, q] = await Promise.all([api('GET', '/callbacks?status=missed&campaign_id=' + campaign),
      api('GET', '/callback-requests?campaign_id=' + campaign)]);
    $('missed-rows').replaceChildren(...r.callbacks.map((c) => {
      const act = (label, fn) => {
        const b = el('button', { type: 'button', text: label });
        b.addEventListener('click', async () => {
          showError(errBox, null);
          try { await fn(); } catch (e) { showError(errBox, e); }
          loadMissed();
        });
        return b;
      };
      const soon = () => new Date(Date.now() + 60000).toISOString();
      return el('tr', { 'data-id': c.id, 'data-status': c.status },
        el('td', { text: new Date(c.due_at).toLocaleString() }), el('td', { text: c.due_at_local.slice(0, 16).replace('T', ' ') + ' ' + c.lead_zone }),
        el('td', { text: String(c.agent_id || '') }), el('td', { text: c.name }), el('td', { text: c.phone }), el('td', { text: c.notes }),
        el('td', {}, act('Give to anyone', () => api('POST', '/callbacks/' + c.id + '/reschedule', { callback_at: soon(), callback_scope: 'anyone' })),
          ' ', act('Cancel', () => api('POST', '/callbacks/' + c.id + '/cancel', { reason: 'cancelled by a supervisor' }))));
    }));
    if (!r.callbacks.length) $('missed-rows').replaceChildren(el('tr', {}, el('td', { colspan: '7', text: 'No missed callbacks.' })));
    $('request-counts').textContent = ['pending', 'dialling', 'answered', 'unanswered', 'closed'].map((k) => k + ' ' + (q.counts[k] || 0)).join(' · ');
  } catch (e) { showError(errBox, e); }
}

// ---- Wiring ----

const onOpen = () => { $('live').textContent = 'live'; $('live').dataset.live = 'yes'; if (campaign) load(); else loadOverview(); };
const onClose = () => { $('live').textContent = 'reconnecting…'; $('live').dataset.live = 'no'; };

if (!campaign) {
  $('overview').hidden = false;
  connectEvents((ev) => {
    if (ev.type !== 'stats') return;
    overview.set(ev.campaign_id, { ...ev.data, history: undefined });
    renderOverview();
  }, onOpen, onClose);
  loadOverview();
  startQueues();
} else {
  $('overview').hidden = true;
  $('campaign-view').hidden = false;
  $('back').hidden = false;
  connectEvents((ev) => {
    if (ev.campaign_id !== campaign) return;
    if (ev.type === 'stats') {
      stats = { ...ev.data, history: undefined };
      skew = Date.parse(ev.at) - Date.now();
      render();
    } else if (ev.type === 'agent') {
      const t = ev.data;
      // A change within one state (a pause asked for during a call, or
      // taken back) keeps the time the agent entered it.
      const prev = agentState.get(t.agent_id) || (stats && (stats.agents || []).find((a) => a.agent_id === t.agent_id));
      const since = t.from === t.state && prev && prev.state === t.state ? prev.since : t.at;
      agentState.set(t.agent_id, { state: t.state, since, pause_code: t.pause_code });
      if (stats && !(stats.agents || []).some((a) => a.agent_id === t.agent_id)) {
        stats.agents = [...(stats.agents || []), { agent_id: t.agent_id, name: t.name || String(t.agent_id), state: t.state, since: t.at }];
      }
      if (stats) renderAgents();
    }
  }, onOpen, onClose);
  load();
  loadAudit();
  loadCharts();
  loadMissed();
  startReserve(campaign);
  setInterval(loadCharts, 10000);
  setInterval(loadMissed, 15000);
}
