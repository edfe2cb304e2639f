// The console's campaign list: status, mode, dial method, lists and agents
// of each campaign, start and pause, and a quick "new campaign" (name and
// mode; the editor has every setting).
import { api, el } from './common.js';
import { $, run, say } from './console.js';

async function loadCampaigns() {
  const r = await api('GET', '/campaign-summaries');
  $('campaign-rows').replaceChildren(...r.campaigns.map((c) => {
    const act = (verb, path, done) => el('button', { type: 'button', text: verb, 'aria-label': verb + ' ' + c.name,
      onclick: () => run(async () => { await api('POST', '/campaigns/' + c.id + '/' + path); say(done + ' ' + c.name + '.'); await loadCampaigns(); }) });
    const acts = el('td', { class: 'actions' },
      c.status === 'active' ? act('Pause', 'pause', 'Paused') : act('Start', 'start', 'Started'),
      el('a', { href: '/manage/campaigns/' + c.id, text: 'Settings', 'aria-label': 'Settings of ' + c.name }),
      el('a', { href: '/manage/campaigns/' + c.id + '/lists', text: 'Lists', 'aria-label': 'Lists of ' + c.name }),
      el('a', { href: '/manage/campaigns/' + c.id + '/agents', text: 'Agents', 'aria-label': 'Agents of ' + c.name }));
    return el('tr', { 'data-id': c.id },
      el('td', {}, el('a', { href: '/manage/campaigns/' + c.id, text: c.name })),
      el('td', { class: 'status' }, el('span', { class: 'badge status-' + c.status, text: c.status })),
      el('td', { text: c.mode }),
      el('td', { text: c.simulated ? 'simulated carrier' : 'SIP trunk' }),
      el('td', { class: 'num', text: c.lists }),
      el('td', { class: 'num', text: c.agents }),
      acts);
  }));
}

$('campaign-form').addEventListener('submit', (e) => {
  e.preventDefault();
  run(async () => {
    const c = await api('POST', '/campaigns', { name: $('c-name').value, mode: $('c-mode').value });
    say('Created campaign ' + c.name + '. Open its settings to set caller ID, window and the rest.');
    $('campaign-form').reset();
    await loadCampaigns();
  });
});

run(loadCampaigns);
