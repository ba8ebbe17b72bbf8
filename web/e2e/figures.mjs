// Browser figures on a running kyso with the demo directory (`kyso init --demo`): time until the
// dashboard is usable (cold and warm cache) and the p95 of the main list pages, per role.
//   node e2e/figures.mjs http://127.0.0.1:8080 kyso-data/demo-accounts.txt [runs]
// SEARCH=text sets the certificate search by subject (default "Nguyễn"). At 900,000
// certificates: scripts/bench_portal.sh.
import { readFileSync } from 'node:fs';
import { launchBrowser } from './browser.mjs';

const [base, accountsFile, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 20);
const accounts = Object.fromEntries(
  readFileSync(accountsFile, 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.trim().split(/\s+/))
    .map(([role, username, password]) => [role, { username, password }]),
);
const { context, page, close } = await launchBrowser();
page.setDefaultTimeout(30000);
const out = {};

async function login(role) {
  await context.clearCookies();
  await page.goto(base + '/login');
  await page.fill('#username', accounts[role].username);
  await page.fill('#password', accounts[role].password);
  await page.click('form button[type=submit]');
  await page.waitForURL(/\/dashboard/);
}
const p95 = (xs) => [...xs].sort((a, b) => a - b)[Math.ceil(xs.length * 0.95) - 1];

async function dashboard(role) {
  await login(role);
  const cdp = await context.newCDPSession(page);
  const usable = async () => {
    await page.locator('[data-testid=certificate-cards]').waitFor();
    return page.evaluate(() => performance.getEntriesByName('kyso:dashboard-usable')[0]?.startTime);
  };
  await cdp.send('Network.clearBrowserCache');
  await page.goto(base + '/dashboard');
  out[`${role}_dashboard_cold_ms`] = Math.round(await usable());
  const warm = [];
  for (let i = 0; i < 5; i++) {
    await page.goto(base + '/dashboard');
    warm.push(await usable());
  }
  out[`${role}_dashboard_warm_ms`] = Math.round(warm.sort((a, b) => a - b)[2]);
}

async function list(role, name, path, ready) {
  const full = [];
  const inApp = [];
  for (let i = 0; i < runs; i++) {
    let t0 = Date.now();
    await page.goto(base + path);
    await page.locator(ready).first().waitFor();
    full.push(Date.now() - t0);
    await page.goto(base + '/dashboard');
    await page.locator('[data-testid=certificate-cards]').waitFor();
    t0 = Date.now();
    await page.evaluate((p) => {
      history.pushState({}, '', p);
      dispatchEvent(new PopStateEvent('popstate'));
    }, path);
    await page.locator(ready).first().waitFor();
    inApp.push(Date.now() - t0);
  }
  out[`${role}_${name}_p95_full_load_ms`] = p95(full);
  out[`${role}_${name}_p95_in_app_ms`] = p95(inApp);
}

await dashboard('ca_operator');
await list('ca_operator', 'certificates', '/certificates', '[data-testid=certificates]');
await list('ca_operator', 'requests', '/requests', '[data-testid=requests]');
// The one list whose cost grows with the table: a search by a part of the subject.
const search = process.env.SEARCH ?? 'Nguyễn';
await list(
  'ca_operator',
  'certificate_search',
  '/certificates?subject=' + encodeURIComponent(search),
  '[data-testid=certificates], main p',
);
await dashboard('agency_officer');
await list('agency_officer', 'staff', '/staff', '[data-testid=people], main p');
await list('agency_officer', 'requests', '/requests', '[data-testid=requests]');
await login('auditor');
await list('auditor', 'audit', '/audit', '[data-testid=audit]');
await close();
console.log(JSON.stringify(out, null, 2));
