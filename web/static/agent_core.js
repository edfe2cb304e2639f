// The agent workspace's shared state: the agent and the call as the server
// last reported them, the server's clock, and the hooks the page's modules
// (agent_status, agent_lead, agent_dispo, agent_transfer) render and tick
// from. Every displayed time is computed from a start time the server sent
// and the server's clock, never by counting ticks.
import { api, showError } from './common.js';

export const $ = (id) => document.getElementById(id);
export const errBox = $('agent-error');

export const ws = {
  agent: { state: 'LOGGED_OUT' }, // GET /agent/state
  call: null,                     // GET /agent/call body, or null
  skew: 0,                        // server clock minus ours, ms
  replaced: false,                // another tab holds the seat
};

export const serverNow = () => Date.now() + ws.skew;
export const secondsSince = (t) => (t ? Math.max(0, (serverNow() - Date.parse(t)) / 1000) : 0);
// elapsed is the seconds since the server answered: what to add to a
// figure the server computed up to its "now".
export const elapsed = () => (ws.agent.now ? Math.max(0, (serverNow() - Date.parse(ws.agent.now)) / 1000) : 0);

export function setText(id, v) { $(id).textContent = v == null ? '' : String(v); }
export const fail = (msg) => showError(errBox, new Error(msg));
export const campaignId = () => Number($('campaign').value) || 0;

const renderers = [];
const tickers = [];
// onRender registers a function run after every refresh from the server.
export function onRender(fn) { renderers.push(fn); }
// onTick registers a function run four times a second (so a displayed
// second never lags by more than a quarter).
export function onTick(fn) { tickers.push(fn); }
setInterval(() => { for (const t of tickers) t(); }, 250);

export function render() {
  for (const r of renderers) {
    try { r(); } catch (e) { console.error(e); }
  }
  for (const t of tickers) t();
}

export async function refresh() {
  if (ws.replaced) return;
  try {
    const [st, c] = await Promise.all([api('GET', '/agent/state'), api('GET', '/agent/call')]);
    ws.agent = st;
    if (st.now) ws.skew = Date.parse(st.now) - Date.now();
    ws.call = c;
    render();
  } catch (e) { showError(errBox, e); }
}

// run does one of the agent's actions, shows its error, and refreshes.
export async function run(fn) {
  if (ws.replaced) return;
  showError(errBox, null);
  let out;
  try { out = await fn(); } catch (e) { showError(errBox, e); }
  await refresh();
  return out;
}

// callAction posts a control of the call on screen.
export const callAction = (name, body) => api('POST', '/agent/call/' + name, { call_id: ws.call ? ws.call.id : 0, ...body });

// typing says whether a key goes into a text field (hotkeys leave it alone).
export function typing(target) {
  if (!target || !target.tagName) return false;
  if (target.isContentEditable || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT') return true;
  if (target.tagName !== 'INPUT') return false;
  return !['radio', 'checkbox', 'button', 'submit'].includes((target.type || '').toLowerCase());
}

// alertCall sounds a short tone and, in a background tab, badges the title
// and the favicon (until the agent looks at the tab, or clearAlert).
export function alertCall(title = '● Call') {
  try {
    const ctx = new (window.AudioContext || window.webkitAudioContext)();
    const o = ctx.createOscillator(), g = ctx.createGain();
    o.frequency.value = 880; g.gain.value = 0.1;
    o.connect(g); g.connect(ctx.destination);
    o.start(); o.stop(ctx.currentTime + 0.25);
  } catch (e) { /* no audio: fine */ }
  if (document.hidden) {
    document.title = title + ' – Agent · Pacer';
    $('favicon').href = '/static/favicon-alert.svg';
  }
}
export function clearAlert() { document.title = 'Agent · Pacer'; $('favicon').href = '/static/favicon.svg'; }
document.addEventListener('visibilitychange', () => { if (!document.hidden) clearAlert(); });
