import { browser, login, btn, closeAll } from './lib.mjs';
const out = process.env.SHOTS, agent = process.env.AGENT;
const { page } = await browser({ viewport: { width: 1440, height: 900 } });
try {
  await login(page, agent, 'agent', '/agent');
  await page.waitForTimeout(1500);
  const opts = await page.$$eval('#campaign option', os => os.map(o => o.textContent));
  console.log('options', JSON.stringify(opts));
  const i = opts.findIndex(o => o.includes('Real'));
  await page.selectOption('#campaign', { index: i });
  await btn(page, 'Ready').click();
  await page.waitForTimeout(2500);
  await page.screenshot({ path: out + '/' + agent + '-1.png', fullPage: true });
  await page.waitForTimeout(Number(process.env.WAIT || 0));
  if (process.env.READY2) { await btn(page, 'Ready').click(); await page.waitForTimeout(2500); }
  await page.screenshot({ path: out + '/' + agent + '-2.png', fullPage: true });
} finally { await closeAll(); }
