// Shared helpers: the JSON API with the CSRF header, the live-event socket,
// and small formatting functions. Everything that shows data uses
// textContent, never innerHTML, so a lead's fields render as text.

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || '';

// tabId names this page load: an agent's seat belongs to one workspace, and
// another tab that takes it tells this one through a "seat" event.
export const tabId = (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2) + String(Date.now()));

// field, when the server names one, is the input the error is about (a
// campaign setting's key), for forms that show errors beside the field.
export class APIError extends Error {
  constructor(status, message, field) { super(message); this.status = status; this.field = field || ''; }
}

export async function api(method, path, body) {
  const opts = { method, headers: { 'X-CSRF-Token': csrf(), 'X-Pacer-Tab': tabId }, credentials: 'same-origin' };
  if (body instanceof FormData) {
    opts.body = body;
  } else if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const res = await fetch('/api/v1' + path, opts);
  if (res.status === 401) { location.href = '/login?next=' + encodeURIComponent(location.pathname); throw new APIError(401, 'log in first'); }
  if (res.status === 204) return null;
  const ct = res.headers.get('Content-Type') || '';
  const data = ct.includes('json') ? await res.json() : await res.text();
  if (!res.ok) throw new APIError(res.status, (data && data.error) || res.statusText, data && data.field);
  return data;
}

// connectEvents opens the live-event WebSocket and reconnects with backoff;
// onOpen runs on every (re)connect so the page can resync, onClose gets the
// CloseEvent (its reason says why the server closed).
export function connectEvents(onEvent, onOpen, onClose) {
  let delay = 500;
  const open = () => {
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/v1/events');
    ws.onopen = () => { delay = 500; onOpen && onOpen(); };
    ws.onmessage = (m) => { try { onEvent(JSON.parse(m.data)); } catch (e) { console.error(e); } };
    ws.onclose = (e) => {
      onClose && onClose(e);
      // 1008: this user has too many live connections; the reason says so.
      // Try again now and then, in case another tab has closed.
      if (e.code === 1008) { console.warn(e.reason); setTimeout(open, 30000); return; }
      setTimeout(open, delay); delay = Math.min(delay * 2, 10000);
    };
  };
  open();
}

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

export function clock(seconds) {
  seconds = Math.max(0, Math.floor(seconds));
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  const mm = h ? String(m).padStart(2, '0') : String(m);
  return (h ? h + ':' : '') + mm + ':' + String(s).padStart(2, '0');
}

export function pct(x) { return (100 * (x || 0)).toFixed(2) + '%'; }

export function showError(node, err) {
  if (!node) return;
  if (!err) { node.hidden = true; node.textContent = ''; return; }
  node.textContent = err.message || String(err);
  node.hidden = false;
}

export function wireLogout() {
  const b = document.getElementById('logout');
  if (b) b.addEventListener('click', async () => {
    try { await api('POST', '/logout'); } finally { location.href = '/login'; }
  });
}
