// Users: role, last login, an agent's campaigns (ticked: assigned), password
// reset (typed twice, or generated and shown once), disable and enable,
// and new users; an agent's SIP phone (registered, fixed URI or none) and
// the dialog that sets its fixed URI or SIP password.
import { api, el } from './common.js';
import { $, run, say, when } from './console.js';

let campaigns = [];

// phoneText says where Pacer calls an agent's phone.
function phoneText(p) {
  if (!p || p.status === 'none') return p && p.sip_password_set ? 'None (SIP password set, not registered)' : 'None';
  if (p.status === 'registered') return 'Registered: ' + p.contact + ', until ' + when(p.contact_expires);
  return 'Fixed: ' + p.contact;
}

async function loadUsers() {
  const [r, ph] = await Promise.all([api('GET', '/users'), api('GET', '/phones')]);
  const phones = new Map(ph.phones.map((p) => [p.user_id, p]));
  const open = campaigns.filter((c) => c.status !== 'archived');
  $('user-rows').replaceChildren(...r.users.map((u) => {
    const camps = el('td', { class: 'campaign-checks' });
    if (u.role === 'agent') {
      for (const c of open) {
        const box = el('input', { type: 'checkbox', 'aria-label': u.username + ' works ' + c.name });
        box.checked = u.campaigns.includes(c.id);
        box.addEventListener('change', () => run(async () => {
          if (box.checked) {
            await api('POST', '/campaigns/' + c.id + '/agents', { usernames: [u.username] });
            say('Assigned ' + u.username + ' to ' + c.name + '.');
          } else {
            await api('DELETE', '/campaigns/' + c.id + '/agents/' + u.id);
            say('Took ' + u.username + ' off ' + c.name + '.');
          }
        }));
        camps.append(el('label', { class: 'check' }, box, ' ' + c.name));
      }
    } else {
      camps.textContent = 'all (' + u.role + ')';
    }
    return el('tr', { 'data-user': u.username },
      el('td', { text: u.username + (u.display_name ? ' (' + u.display_name + ')' : '') }),
      el('td', { text: u.role }),
      el('td', { text: u.disabled ? 'disabled' : 'active' }),
      el('td', { class: 'last-login', text: u.last_login_at ? when(u.last_login_at) : 'never' }),
      camps,
      el('td', { class: 'phone', text: u.role === 'agent' ? phoneText(phones.get(u.id)) : '' }),
      el('td', { class: 'actions' },
        ...(u.role === 'agent' ? [el('button', { type: 'button', text: 'Phone', 'aria-label': 'SIP phone of ' + u.username,
          onclick: () => run(() => openPhone(u)) })] : []),
        el('button', { type: 'button', text: 'Reset password', 'aria-label': 'Reset password of ' + u.username, onclick: () => openPassword(u) }),
        el('button', { type: 'button', text: u.disabled ? 'Enable' : 'Disable', 'aria-label': (u.disabled ? 'Enable ' : 'Disable ') + u.username,
          onclick: () => run(async () => { await api('POST', '/users/' + u.id + (u.disabled ? '/enable' : '/disable')); await loadUsers(); }) })));
  }));
}

let resetting = null;
function openPassword(u) {
  resetting = u;
  $('password-title').textContent = 'Reset password of ' + u.username;
  $('p-new').value = ''; $('p-again').value = '';
  $('password-error').hidden = true;
  $('password-shown').hidden = true;
  $('password-dialog').showModal();
}
const passwordFail = (msg) => { $('password-error').textContent = msg; $('password-error').hidden = false; };
async function resetPassword(body) {
  $('password-error').hidden = true;
  try {
    const r = await api('POST', '/users/' + resetting.id + '/password', body);
    if (r.password) {
      $('password-generated').textContent = r.password;
      $('password-shown').hidden = false;
    } else {
      $('password-dialog').close();
    }
    say('New password set for ' + resetting.username + '; their sessions were ended.');
  } catch (e) { passwordFail(e.message); }
}
$('btn-password-set').addEventListener('click', () => {
  if ($('p-new').value !== $('p-again').value) { passwordFail('The two passwords differ.'); return; }
  resetPassword({ password: $('p-new').value });
});
$('btn-password-generate').addEventListener('click', () => resetPassword({ generate: true }));
$('btn-password-close').addEventListener('click', () => $('password-dialog').close());

let phoning = null;
async function showPhone() {
  const p = await api('GET', '/users/' + phoning.id + '/phone');
  $('phone-now').textContent = 'Now: ' + phoneText(p) + (p.sip_password_set ? '; SIP password set' : '; no SIP password');
  $('ph-uri').value = p.fixed_uri || '';
}
async function openPhone(u) {
  phoning = u;
  $('phone-title').textContent = 'SIP phone of ' + u.username;
  $('phone-sip-user').textContent = u.username;
  $('ph-pass').value = '';
  $('phone-error').hidden = true;
  $('phone-pass-shown').hidden = true;
  await showPhone();
  $('phone-dialog').showModal();
}
async function phoneChange(method, path, body, done) {
  $('phone-error').hidden = true;
  $('phone-pass-shown').hidden = true;
  try {
    const r = await api(method, '/users/' + phoning.id + '/phone/' + path, body);
    if (r.password) {
      $('phone-pass-generated').textContent = r.password;
      $('phone-pass-shown').hidden = false;
    }
    say(done);
    await showPhone();
    await loadUsers();
  } catch (e) { $('phone-error').textContent = e.message; $('phone-error').hidden = false; }
}
$('btn-phone-uri-set').addEventListener('click', () => phoneChange('PUT', 'uri', { uri: $('ph-uri').value }, 'Saved the phone URI of ' + phoning.username + '.'));
$('btn-phone-uri-clear').addEventListener('click', () => phoneChange('DELETE', 'uri', undefined, 'Removed the phone URI of ' + phoning.username + '.'));
$('btn-phone-pass-set').addEventListener('click', () => phoneChange('PUT', 'sip-password', { password: $('ph-pass').value },
  'Set the SIP password of ' + phoning.username + '.'));
$('btn-phone-pass-generate').addEventListener('click', () => phoneChange('PUT', 'sip-password', { generate: true },
  'Generated a SIP password for ' + phoning.username + '.'));
$('btn-phone-pass-clear').addEventListener('click', () => phoneChange('DELETE', 'sip-password', undefined,
  'Removed the SIP password of ' + phoning.username + '; their phone can no longer register.'));
$('btn-phone-close').addEventListener('click', () => $('phone-dialog').close());

$('user-form').addEventListener('submit', (e) => {
  e.preventDefault();
  run(async () => {
    await api('POST', '/users', { username: $('n-username').value, role: $('n-role').value, password: $('n-password').value });
    say('Added user ' + $('n-username').value + '.');
    $('user-form').reset();
    await loadUsers();
  });
});

run(async () => { campaigns = (await api('GET', '/campaigns')).campaigns; await loadUsers(); });
