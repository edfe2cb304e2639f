// The agents assigned to a campaign: only they may join it.
import { api, el } from './common.js';
import { $, campaignId, run, say } from './console.js';

const assignPath = () => '/campaigns/' + campaignId() + '/agents';

async function loadAssigned() {
  const r = await api('GET', assignPath());
  $('assign-rows').replaceChildren(...r.agents.map((a) => el('tr', { 'data-agent': a.username }, el('td', { text: a.username }),
    el('td', { text: new Date(a.assigned_at).toLocaleString() }),
    el('td', {}, el('button', { type: 'button', text: 'Unassign', 'aria-label': 'Unassign ' + a.username,
      onclick: () => run(async () => { await api('DELETE', assignPath() + '/' + a.agent_id); say('Unassigned ' + a.username + '.'); await loadAssigned(); }) })))));
}
async function loadAgents() {
  const r = await api('GET', '/users');
  $('a-agent').replaceChildren(...r.users.filter((u) => u.role === 'agent' && !u.disabled).map((u) => el('option', { value: u.username, text: u.username })));
}
$('assign-form').addEventListener('submit', (e) => {
  e.preventDefault();
  run(async () => {
    const name = $('a-agent').value;
    await api('POST', assignPath(), { usernames: [name] });
    say('Assigned ' + name + '.');
    await loadAssigned();
  });
});

run(async () => { await Promise.all([loadAssigned(), loadAgents()]); });
