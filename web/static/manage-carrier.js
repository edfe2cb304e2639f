// A campaign's carrier and recordings, on its settings page: the trunks it
// dials through in priority order (add, move up and down, take off, then
// save the order), and its information message and hold music (upload a
// WAV, see its length, listen to what callers will hear, remove).
import { api, el } from './common.js';
import { $, campaignId, say } from './console.js';
import { recordings, showErr } from './recordings.js';

const id = campaignId();
let all = [];     // every trunk
let chosen = [];  // names, in priority order, as edited (saved by Save trunks)

function paintTrunks() {
  $('no-trunks').hidden = chosen.length > 0;
  $('campaign-trunks').replaceChildren(...chosen.map((name, i) => {
    const t = all.find((x) => x.name === name);
    const move = (d) => { [chosen[i], chosen[i + d]] = [chosen[i + d], chosen[i]]; paintTrunks(); };
    const up = el('button', { type: 'button', text: '↑', 'aria-label': 'Move ' + name + ' up', onclick: () => move(-1) });
    const down = el('button', { type: 'button', text: '↓', 'aria-label': 'Move ' + name + ' down', onclick: () => move(1) });
    up.disabled = i === 0;
    down.disabled = i === chosen.length - 1;
    return el('li', { 'data-trunk': name },
      el('span', { class: 'trunk-name', text: name }),
      el('span', { class: 'hint', text: t ? t.uri + ' · ' + t.max_channels + ' channels · ' + t.cps + ' calls/s' + (t.enabled ? '' : ' · disabled') : '' }),
      up, down,
      el('button', { type: 'button', text: 'Take off', 'aria-label': 'Take ' + name + ' off this campaign',
        onclick: () => { chosen.splice(i, 1); paintTrunks(); } }));
  }));
  const free = all.filter((t) => !chosen.includes(t.name));
  $('add-trunk').replaceChildren(...(free.length ? free.map((t) => el('option', { value: t.name, text: t.name })) : [el('option', { value: '', text: 'no other trunk' })]));
  $('btn-add-trunk').disabled = free.length === 0;
}

async function loadTrunks() {
  all = (await api('GET', '/trunks')).trunks;
  chosen = (await api('GET', '/campaigns/' + id + '/trunks')).trunks.map((t) => t.name);
  paintTrunks();
}

$('btn-add-trunk').addEventListener('click', () => {
  const name = $('add-trunk').value;
  if (name) { chosen.push(name); paintTrunks(); }
});
$('btn-save-trunks').addEventListener('click', async () => {
  showErr($('trunks-error'), null);
  say('');
  try {
    const r = await api('PUT', '/campaigns/' + id + '/trunks', { trunks: chosen });
    chosen = r.trunks.map((t) => t.name);
    paintTrunks();
    say(chosen.length ? 'Trunks saved: ' + chosen.join(', ') + '.' : 'Trunks saved: none, the simulated carrier.');
  } catch (e) { showErr($('trunks-error'), e); }
});

const loadRecordings = recordings({ info_message: 'Information message', hold_music: 'Hold music' }, () => '/campaigns/' + id);

(async () => {
  try { await loadTrunks(); } catch (e) { showErr($('trunks-error'), e); }
  try { await loadRecordings(); } catch (e) { showErr($('error-info_message'), e); }
})();
