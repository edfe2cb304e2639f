import { showError } from './common.js';

const form = document.getElementById('login-form');

// sameSite is next as a path on this site, or '' (the server checks it too):
// resolved the way the browser would navigate, it must stay on this origin.
function sameSite(next) {
  if (!next || next === '/login') return '';
  try {
    const u = new URL(next, location.origin);
    return u.origin === location.origin && next.startsWith('/') && !next.startsWith('//') ? u.pathname + u.search + u.hash : '';
  } catch { return ''; }
}
const err = document.getElementById('login-error');
form.addEventListener('submit', async (e) => {
  e.preventDefault();
  showError(err, null);
  const body = { username: form.username.value.trim(), password: form.password.value };
  if (!body.username || !body.password) { showError(err, new Error('Enter your username and password.')); return; }
  try {
    const res = await fetch('/api/v1/login', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body), credentials: 'same-origin' });
    const data = await res.json();
    if (!res.ok) throw new Error(data.error || res.statusText);
    location.href = sameSite(form.dataset.next) || data.home;
  } catch (x) {
    showError(err, x);
    form.password.value = '';
    form.password.focus();
  }
});
