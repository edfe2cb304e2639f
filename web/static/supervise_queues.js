// The queues' part of the wallboard: per queue the callers waiting, the
// longest wait (ticking between refreshes), members READY (from the
// router), and today's figures from the queue event log: offered,
// answered, abandoned (with the callers), service level by both formulas,
// average speed of answer, today and per 30 minutes; per campaign the
// blending reserve. Polled every 2 s; a figure without data shows "—".
import { api, el, clock } from './common.js';

const $ = (id) => document.getElementById(id);
const POLL_MS = 2000;
const dash = '—';
let skew = 0; // server clock − ours
let board = null;

const slText = (x) => (x === null || x === undefined ? dash : (100 * x).toFixed(1) + '%');
// On a tile a level reads in whole percent, rounded down so that one under
// its target never shows as the target.
const slTile = (x) => (x === null || x === undefined ? dash : Math.floor(100 * x + 1e-9) + '%');
const asaText = (x) => (x === null || x === undefined ? dash : clock(x));
const time = (t, zone) => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', timeZone: zone });
const slClass = (x, target) => (x === null || x === undefined ? 'nodata' : x >= target ? 'good' : 'over');

function longestWait(q) {
  if (!q.live || !q.live.oldest_entered) return q.live ? 0 : null;
  return (Date.now() + skew - Date.parse(q.live.oldest_entered)) / 1000;
}

function tile(label, value, note, attrs = {}) {
  return el('div', { class: 'tile', ...attrs }, el('span', { text: label }), el('strong', { text: value }), el('small', { text: note }));
}

function card(q) {
  const t = q.today, live = q.live;
  const target = Math.round(q.sl_target * 100) + '% in ' + q.sl_threshold_s + ' s';
  const lw = longestWait(q);
  const tiles = el('div', { class: 'tiles queue-tiles' },
    tile('Waiting', live ? String(live.waiting) : dash, live && live.ringing ? live.ringing + ' ringing an agent' : 'callers in the queue', { 'data-fig': 'waiting' }),
    tile('Callbacks', live ? String(live.callbacks) : dash, live ? (live.callbacks_due === live.callbacks ? 'keeping their places'
      : live.callbacks_due + ' due now, the rest waiting for their time') : 'no router on this node', { 'data-fig': 'callbacks' }),
    tile('Longest wait', lw === null ? dash : clock(lw), 'now', { 'data-fig': 'longest', class: 'tile' + (lw > q.sl_threshold_s ? ' late' : '') }),
    tile('Agents ready', live ? String(live.available) : dash, live ? 'of ' + live.logged_in + ' logged in (' + live.members + ' members)' : 'no router on this node', { 'data-fig': 'available' }),
    tile('Offered', String(t.offered), 'today', { 'data-fig': 'offered' }),
    tile('Answered', String(t.answered), t.answered_within + ' within ' + q.sl_threshold_s + ' s', { 'data-fig': 'answered' }),
    tile('Abandoned', String(t.abandoned), t.abandoned_after + ' after ' + q.sl_threshold_s + ' s', { 'data-fig': 'abandoned' }),
    tile('SL of answered', slTile(t.sl_answered), 'target ' + target, { 'data-fig': 'sl-answered', class: 'tile sl-' + slClass(t.sl_answered, q.sl_target) }),
    tile('SL of offered', slTile(t.sl_offered), 'target ' + target, { 'data-fig': 'sl-offered', class: 'tile sl-' + slClass(t.sl_offered, q.sl_target) }),
    tile('ASA', asaText(t.asa_s), 'avg speed of answer', { 'data-fig': 'asa' }));
  const ivRows = q.intervals.filter((iv) => iv.figures.offered > 0).reverse().map((iv) => {
    const f = iv.figures;
    return el('tr', {}, el('th', { text: time(iv.start, q.time_zone) + '–' + time(iv.end, q.time_zone) }),
      el('td', { class: 'num', text: String(f.offered) }), el('td', { class: 'num', text: String(f.answered) }),
      el('td', { class: 'num', text: String(f.abandoned) }),
      el('td', { class: 'num sl-' + slClass(f.sl_answered, q.sl_target), text: slText(f.sl_answered) }),
      el('td', { class: 'num sl-' + slClass(f.sl_offered, q.sl_target), text: slText(f.sl_offered) }),
      el('td', { class: 'num', text: asaText(f.asa_s) }));
  });
  const intervals = el('details', { class: 'queue-intervals', 'data-part': 'intervals' }, el('summary', { text: 'Per 30 minutes (' + ivRows.length + ' with calls)' }),
    el('table', {}, el('thead', {}, el('tr', {}, ...['Interval', 'Offered', 'Answered', 'Abandoned', 'SL of answered', 'SL of offered', 'ASA'].map((h, i) => el('th', { class: i ? 'num' : '', text: h })))),
      el('tbody', {}, ...(ivRows.length ? ivRows : [el('tr', {}, el('td', { colspan: '7', text: 'No calls yet today.' }))]))));
  const abRows = [...t.abandons].reverse().map((a) => el('tr', {}, el('td', { text: time(a.at, q.time_zone) }),
    el('td', { class: 'caller', text: a.from || 'unknown' }), el('td', { text: a.did }), el('td', { class: 'num', text: clock(a.wait_s) })));
  const abandons = el('details', { class: 'queue-abandons', 'data-part': 'abandons' }, el('summary', { text: 'Abandoned callers (' + t.abandons.length + ')' }),
    el('table', {}, el('thead', {}, el('tr', {}, el('th', { text: 'Hung up at' }), el('th', { text: 'Caller' }), el('th', { text: 'Dialled' }), el('th', { class: 'num', text: 'Waited' }))),
      el('tbody', {}, ...(abRows.length ? abRows : [el('tr', {}, el('td', { colspan: '4', text: 'Nobody hung up waiting today.' }))]))));
  return el('article', { class: 'queue-card', 'data-queue': q.name }, el('h3', { text: q.name }), tiles, el('div', { class: 'queue-lists' }, intervals, abandons));
}

function render() {
  const cards = $('queue-cards');
  // Keep which lists are open across refreshes.
  const open = new Set([...cards.querySelectorAll('details[open]')].map((d) => d.closest('[data-queue]').dataset.queue + '/' + d.dataset.part));
  cards.replaceChildren(...board.queues.map(card));
  for (const d of cards.querySelectorAll('details')) if (open.has(d.closest('[data-queue]').dataset.queue + '/' + d.dataset.part)) d.open = true;
  $('queues').hidden = board.queues.length === 0;
  const zones = [...new Set(board.queues.map((q) => q.time_zone))];
  $('queues-day').textContent = 'today from midnight ' + zones.join(', ') + ' · updated ' + new Date(Date.parse(board.now)).toLocaleTimeString();
  $('reserve-part').hidden = !board.live;
  $('reserve-rows').replaceChildren(...board.campaigns.map((c) => el('tr', { 'data-campaign': String(c.campaign_id) },
    el('th', { text: c.name }), el('td', { class: 'num reserve', text: String(c.reserve) + (c.stop ? ' · dialling stopped' : '') }),
    el('td', { class: 'num', text: String(c.waiting) }))));
  if (!board.campaigns.length) {
    const none = board.nodes_unreached > 0 ? 'No campaign known: the node running them did not answer.' : 'No active campaign.';
    $('reserve-rows').replaceChildren(el('tr', {}, el('td', { colspan: '3', text: none })));
  }
}

async function poll() {
  try {
    board = await api('GET', '/wallboard/queues');
    skew = Date.parse(board.now) - Date.now();
    const partial = board.nodes_unreached > 0;
    $('queues-error').textContent = partial ? 'Live figures leave out ' + board.nodes_unreached +
      ' node' + (board.nodes_unreached === 1 ? '' : 's') + ' that did not answer: the callers waiting there are not counted.' : '';
    $('queues-error').hidden = !partial;
    render();
  } catch (e) {
    $('queues-error').textContent = 'Queue figures: ' + e.message;
    $('queues-error').hidden = false;
  }
}

function tick() {
  if (!board) return;
  for (const q of board.queues) {
    const lw = longestWait(q);
    const node = document.querySelector('[data-queue="' + CSS.escape(q.name) + '"] [data-fig="longest"]');
    if (!node || lw === null) continue;
    node.querySelector('strong').textContent = clock(lw);
    node.classList.toggle('late', lw > q.sl_threshold_s);
  }
}

export function startQueues() {
  poll();
  setInterval(poll, POLL_MS);
  setInterval(tick, 500);
}

// startReserve shows one campaign's blending reserve on its wallboard: the
// READY agents pacing leaves for inbound, and the callers waiting for its
// agents (hidden when the campaign does not run here or serves no queue).
export function startReserve(campaign) {
  const show = async () => {
    try {
      const r = await api('GET', '/wallboard/queues');
      const c = r.campaigns.find((x) => x.campaign_id === campaign);
      $('tile-reserve').hidden = !c || !r.queues.length;
      if (!c) return;
      $('t-reserve').textContent = String(c.reserve);
      $('t-reserve-note').textContent = c.waiting + ' caller' + (c.waiting === 1 ? '' : 's') + ' waiting for its agents' + (c.stop ? ' · dialling stopped' : '');
    } catch (e) { $('tile-reserve').hidden = true; }
  };
  show();
  setInterval(show, POLL_MS);
}
