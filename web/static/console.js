// What every page of the manager console shares: the message lines under
// the console's navigation, and run(), which shows an action's error there.
import { showError, wireLogout } from './common.js';

wireLogout();
export const $ = (id) => document.getElementById(id);
const errBox = $('manage-error'), info = $('manage-info');

export const say = (msg) => { info.textContent = msg; info.hidden = !msg; };
export const fail = (e) => showError(errBox, e);

export async function run(fn) {
  showError(errBox, null);
  say('');
  try { await fn(); } catch (e) { showError(errBox, e); }
}

// campaignId is the campaign a campaign page is about (0 on others).
export const campaignId = () => Number(document.querySelector('[data-campaign]')?.dataset.campaign || 0);

export const when = (t) => (t ? new Date(t).toLocaleString() : '');
