// Logs in through links whose ?next= tries to leave the site and checks that
// Chromium stays on the server's origin (no request to another host is even
// attempted; any such request is aborted here, so nothing leaves the
// machine). Run by cmd/pacer's TestBrowserLoginStaysOnSite with:
//   BASE_URL   the server, e.g. http://127.0.0.1:8080
//   CHROMIUM   the browser binary (default /usr/bin/chromium)
//   USER_NAME, PASSWORD, HOME_PATH   a login and the page it lands on
// Prints one JSON line and exits non-zero on a failure.
import assert from 'node:assert/strict';
import { base, browser, run, btn } from './lib.mjs';

const origin = new URL(base).origin;
const nasty = ['/%09/evil.example', '/%0a/evil.example', '//evil.example', '/%5Cevil.example', '/%5C%5Cevil.example',
  'https://evil.example', '%2F%09%2Fevil.example', '/%2F%2Fevil.example', '/.//evil.example', '/%2e//evil.example'];

const { ctx, page } = await browser({ extraArgs: ['--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'] });
const offsite = [];
let sawOffsite = () => {};
await ctx.route('**/*', (route) => {
  const u = new URL(route.request().url());
  if (u.origin === origin) return route.continue();
  offsite.push(u.href);
  sawOffsite();
  return route.abort();
});
const out = { cases: 0 };
await run(out, async () => {
  for (const next of nasty) {
    await page.goto(base + '/login?next=' + next);
    await page.getByLabel('Username').fill(process.env.USER_NAME);
    await page.getByLabel('Password').fill(process.env.PASSWORD);
    const left = new Promise((resolve) => { sawOffsite = resolve; });
    await btn(page, 'Log in').click();
    // Either the browser lands at home, or it tried to leave.
    await Promise.race([page.waitForURL(base + process.env.HOME_PATH), left]);
    assert.deepEqual(offsite, [], `next=${next} sent the browser to another site`);
    assert.equal(new URL(page.url()).origin, origin, `next=${next}`);
    out.cases++;
  }
});
