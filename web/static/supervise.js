// The wallboard: a campaign's live figures, agents by state and charts of
// the last hour, all updated from "stats" and "agent" events; the campaign's
// missed callbacks (give one to anyone, or cancel it) and callback requests.
import { api, connectEvents, el, clock, pct, showError, wireLogout } from './common.js';

wireLogout();
const $ = (id) => document.getElementById(id);
let stats = null, history = [], skew = 0, sortKey = 'name', sortDir = 1;
const agentState = new Map(); // agent id → {state, since, pause_code} from agent events (fresher than stats)
const campaign = () => Number($('campaign').value) || 0;

async function load() {
  if (!campaign()) return;
  try {
    stats = await api('GET', '/campaigns/' + campaign() + '/stats');
    history = stats.history || [];
    agentState.clear();
    render();
    drawCharts();
  } catch (e) { $('live').textContent = e.message; }
}

const set = (id, v) => { $(id).textContent = v; };
function render() {
  if (!stats) return;
  set('t-dial-level', (stats.dial_level || 0).toFixed(2));
  set('t-lines', stats.lines || 0);
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
  const d = (stats.today && stats.today.dispositions) || {};
  $('dispo-rows').replaceChildren(...Object.keys(d).sort((a, b) => d[b] - d[a]).map((k) => el('tr', {}, el('th', { text: k }), el('td', { text: d[k] }))));
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

function renderAgents() {
  const rows = agentsNow();
  rows.sort((a, b) => {
    const k = sortKey === 'since' ? (x) => -Date.parse(x.since) : (x) => x[sortKey];
    const va = k(a), vb = k(b);
    return (va < vb ? -1 : va > vb ? 1 : 0) * sortDir;
  });
  $('agents-rows').replaceChildren(...rows.map((a) => el('tr', { 'data-agent': a.agent_id, 'data-state': a.state },
    el('td', { text: a.name || String(a.agent_id) }),
    el('td', { class: 'state state-' + a.state, text: a.state + (a.state === 'PAUSED' && a.pause_code ? ' (' + a.pause_code + ')' : '') }),
    el('td', { class: 'since', 'data-since': a.since, text: clock((Date.now() + skew - Date.parse(a.since)) / 1000) }),
    el('td', { text: a.dispo ? clock(a.dispo) : '–' }))));
}

for (const b of document.querySelectorAll('button.sort')) {
  b.addEventListener('click', () => {
    if (sortKey === b.dataset.key) sortDir = -sortDir; else { sortKey = b.dataset.key; sortDir = 1; }
    renderAgents();
  });
}

setInterval(() => {
  for (const td of document.querySelectorAll('#agents-rows td.since')) {
    td.textContent = clock((Date.now() + skew - Date.parse(td.dataset.since)) / 1000);
  }
}, 500);

// Charts: inline SVG polylines over the last hour.
function line(svg, series, colors, maxY) {
  const ns = 'http://www.w3.org/2000/svg';
  svg.replaceChildren();
  const axis = document.createElementNS(ns, 'path');
  axis.setAttribute('d', 'M0,99 H300'); axis.setAttribute('class', 'axis');
  svg.append(axis);
  if (history.length < 1) return;
  const t0 = Date.parse(history[0].at), t1 = Math.max(Date.parse(history[history.length - 1].at), t0 + 1);
  series.forEach((fn, i) => {
    const pts = history.map((p) => {
      const x = 300 * (Date.parse(p.at) - t0) / (t1 - t0);
      const y = 98 - 96 * Math.min(fn(p) / maxY, 1);
      return x.toFixed(1) + ',' + y.toFixed(1);
    });
    const pl = document.createElementNS(ns, 'polyline');
    pl.setAttribute('points', pts.join(' '));
    pl.setAttribute('fill', 'none');
    pl.setAttribute('stroke', colors[i]);
    pl.setAttribute('stroke-width', '2');
    svg.append(pl);
  });
  const label = document.createElementNS(ns, 'text');
  label.setAttribute('x', '2'); label.setAttribute('y', '10'); label.setAttribute('class', 'chart-label');
  label.textContent = 'max ' + (maxY < 1 ? pct(maxY) : maxY.toFixed(1));
  svg.append(label);
}
function drawCharts() {
  const dl = Math.max(1, ...history.map((p) => p.dial_level || 0));
  line($('chart-dial'), [(p) => p.dial_level || 0], ['#1f6feb'], dl);
  const ab = Math.max(0.05, ...history.map((p) => p.abandon_rate || 0));
  line($('chart-abandon'), [(p) => p.abandon_rate || 0, () => (stats && stats.abandon_target) || 0.03], ['#e5534b', '#999'], ab);
  const st = ['READY', 'INCALL', 'DISPO', 'PAUSED'];
  const n = Math.max(1, ...history.map((p) => st.reduce((s, k) => s + ((p.agents || {})[k] || 0), 0)));
  line($('chart-agents'), st.map((k) => (p) => (p.agents || {})[k] || 0), ['#2da44e', '#1f6feb', '#bf8700', '#8c959f'], n);
}

let lastPoint = 0;
connectEvents((ev) => {
  if (ev.campaign_id !== campaign()) return;
  if (ev.type === 'stats') {
    stats = { ...ev.data, history: undefined };
    const now = Date.parse(ev.at);
    skew = now - Date.now();
    if (now - lastPoint >= 10000) {
      lastPoint = now;
      history.push({ at: ev.at, dial_level: ev.data.dial_level, abandon_rate: ev.data.window_abandon_rate, agents: ev.data.agents_by_state });
      while (history.length && now - Date.parse(history[0].at) > 3600e3) history.shift();
      drawCharts();
    }
    render();
  } else if (ev.type === 'agent') {
    const t = ev.data;
    agentState.set(t.agent_id, { state: t.state, since: t.at, pause_code: t.pause_code });
    if (stats && !(stats.agents || []).some((a) => a.agent_id === t.agent_id)) {
      stats.agents = [...(stats.agents || []), { agent_id: t.agent_id, name: t.name || String(t.agent_id), state: t.state, since: t.at }];
    }
    if (stats) renderAgents();
  }
}, () => { $('live').textContent = 'live'; $('live').dataset.live = 'yes'; load(); }, () => { $('live').textContent = 'reconnecting…'; $('live').dataset.live = 'no'; });
$('campaign').addEventListener('change', () => { load(); loadMissed(); });
load();

async function loadMissed() {
  if (!campaign()) return;
  const errBox = $('missed-error');
  try {
    const [r, q] = await Promise.all([api('GET', '/callbacks?status=missed&campaign_id=' + campaign()),
      api('GET', '/callback-requests?campaign_id=' + campaign())]);
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
    $('request-counts').textContent = ['pending', 'answered', 'unanswered', 'closed'].map((k) => k + ' ' + (q.counts[k] || 0)).join(' · ');
  } catch (e) { showError(errBox, e); }
}
loadMissed();
setInterval(loadMissed, 15000);
