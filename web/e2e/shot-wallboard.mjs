// Takes the README's wallboard screenshot from a running server:
//   node web/e2e/shot-wallboard.mjs http://127.0.0.1:8080 web/e2e/wallboard.png
import { chromium } from 'playwright-core';

const [base, out] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  await page.goto(base + '/login');
  await page.getByLabel('Username').fill('supervisor');
  await page.getByLabel('Password').fill('supervisor');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL('**/supervise');
  await page.waitForTimeout(4000);
  await page.screenshot({ path: out });
} finally {
  await browser.close();
}
