// The portal's browser tests: playwright-core driving Debian's /usr/bin/chromium (never a
// downloaded browser) against the `kyso serve` that e2e/run.sh started, with the fixture it
// wrote. node:test runs the flows in order; they share one browser and the data they create.
//
//   node --test e2e/run.mjs   (FIXTURE=<work>/fixture.json, SCREENSHOTS=<dir>)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import http from 'node:http';
import { launchBrowser } from './browser.mjs';
import { accountFlows } from './account_flows.mjs';

const fx = JSON.parse(readFileSync(process.env.FIXTURE ?? '', 'utf8'));
const BASE = fx.url;
const W = fx.work;
const SHOTS = process.env.SCREENSHOTS ?? join(W, 'screenshots');
mkdirSync(SHOTS, { recursive: true });
const axeSource = readFileSync(
  new URL('../node_modules/axe-core/axe.min.js', import.meta.url),
  'utf8',
);
const figures = {};
const state = {};

let context;
let page;
const cspViolations = [];
let closeBrowser;

before(async () => {
  ({
    context,
    page,
    close: closeBrowser,
  } = await launchBrowser({
    acceptDownloads: true,
    locale: 'vi-VN',
    timezoneId: 'Asia/Ho_Chi_Minh',
  }));
  page.setDefaultTimeout(15000);
  page.on('console', (msg) => {
    if (/Content Security Policy|Refused to/i.test(msg.text())) cspViolations.push(msg.text());
  });
});

after(async () => {
  await closeBrowser?.();
  writeFileSync(join(SHOTS, 'figures.json'), JSON.stringify(figures, null, 2) + '\n');
  console.log('figures', JSON.stringify(figures));
});

// --- helpers ------------------------------------------------------------------------------------

async function api(method, path, token, body) {
  const res = await fetch(BASE + path, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// The department seal's detached CMS over the request's canonical document, as a .p7s file.
async function signedP7s(requestId) {
  const res = await fetch(`${BASE}/api/v1/requests/${requestId}/document`, {
    headers: { Authorization: `Bearer ${fx.tokens.officer}` },
  });
  const doc = join(W, `doc-${requestId}.json`);
  writeFileSync(doc, Buffer.from(await res.arrayBuffer()));
  const out = join(W, `sig-${requestId}.p7s`);
  execFileSync('openssl', [
    'cms',
    '-sign',
    '-binary',
    '-cades',
    '-md',
    'sha256',
    '-in',
    doc,
    '-signer',
    join(W, 'seal.pem'),
    '-inkey',
    join(W, 'seal.key'),
    '-outform',
    'DER',
    '-out',
    out,
  ]);
  return out;
}

async function logout() {
  await context.clearCookies();
  await page.goto(BASE + '/verify');
  await page.evaluate(() => sessionStorage.clear());
}

async function login(who, password = fx.password) {
  await logout();
  await page.goto(BASE + '/login');
  await page.fill('#username', fx.users[who] ?? who);
  await page.fill('#password', password);
  await page.click('form button[type=submit]');
  await page.waitForURL(/\/dashboard/);
  await page.locator('h1').waitFor();
}

// The handler's three steps on the open request page, each checked by the state it reaches.
async function reviewApproveExecute() {
  for (const [action, after] of [
    ['Tiếp nhận xem xét', 'Đang xem xét'],
    ['Phê duyệt', 'Đã phê duyệt'],
    ['Thực hiện', 'Đã thực hiện'],
  ]) {
    await page.click(`button:text-is("${action}")`);
    await page.locator(`[data-testid=state]:text-is("${after}")`).waitFor();
  }
}

async function setLanguage(lang) {
  await page.click(`.lang button[lang=${lang}]`);
  await page.waitForFunction((l) => document.documentElement.lang === l, lang);
}

// axe-core against WCAG 2.1 A/AA; returns the serious and critical violations.
async function axe() {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () =>
    axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    }),
  );
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.nodes
          .map((n) => n.target.join(' '))
          .slice(0, 3)
          .join(', ')}`,
    );
}

// Vietnamese diacritics draw real glyphs: each letter's pixels differ from the missing-glyph
// box (.notdef, "tofu") of the font the page uses.
async function tofuLetters() {
  return page.evaluate(() => {
    const font = getComputedStyle(document.querySelector('h1') ?? document.body).font;
    const canvas = document.createElement('canvas');
    canvas.width = 64;
    canvas.height = 64;
    const ctx = canvas.getContext('2d');
    const draw = (s) => {
      ctx.clearRect(0, 0, 64, 64);
      ctx.font = font.replace(/\d+(\.\d+)?px/, '40px');
      ctx.fillText(s, 4, 48);
      return Array.from(ctx.getImageData(0, 0, 64, 64).data).join(',');
    };
    const tofu = draw('\u{10FFFD}');
    const letters = 'ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹĐ';
    return [...letters].filter((c) => draw(c) === tofu || draw(c) === draw(''));
  });
}

const PAGES_CHECKED = [];
// axe (both languages), screenshots at desktop and phone sizes, the diacritics check.
async function checkPage(name, path, ready = 'h1') {
  for (const lang of ['vi', 'en']) {
    if (path) await page.goto(BASE + path);
    await page.locator(ready).first().waitFor();
    await setLanguage(lang);
    const violations = await axe();
    assert.deepEqual(violations, [], `${name} (${lang}): axe serious/critical violations`);
    if (lang === 'vi') {
      assert.deepEqual(await tofuLetters(), [], `${name}: Vietnamese letters without glyphs`);
      for (const [w, h] of [
        [1366, 768],
        [390, 844],
      ]) {
        await page.setViewportSize({ width: w, height: h });
        await page.screenshot({ path: join(SHOTS, `${name}-${w}x${h}.png`), fullPage: true });
      }
      await page.setViewportSize({ width: 1366, height: 768 });
    }
  }
  await setLanguage('vi');
  PAGES_CHECKED.push(name);
}

function rawGet(path) {
  const { hostname, port } = new URL(BASE);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

// --- public pages -------------------------------------------------------------------------------

test('the portal is served at / with its security headers and cache rules', async () => {
  const res = await fetch(BASE + '/', { headers: { 'Accept-Encoding': 'gzip' } });
  assert.equal(res.status, 200);
  const csp = res.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  const html = await res.text();
  const asset = html.match(/src="(\/assets\/[^"]+\.js)"/)?.[1];
  assert.ok(asset, 'index.html names a hashed script');
  const js = await fetch(BASE + asset, { headers: { 'Accept-Encoding': 'gzip' } });
  assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(js.headers.get('content-encoding'), 'gzip');
  assert.match(js.headers.get('content-type') ?? '', /javascript/);
  const deep = await fetch(BASE + '/requests/123');
  assert.equal(deep.status, 200, 'a client route falls back to index.html');
  const apiMissing = await fetch(BASE + '/api/v1/nope');
  assert.equal(apiMissing.status, 404);
  assert.equal((await apiMissing.json()).error.code, 'http.not_found');
  // Sent as is (fetch would normalize the dots away): refused, nothing outside the root.
  for (const raw of [
    '/%2e%2e/%2e%2e/etc/passwd',
    '/assets/../../../etc/passwd',
    '/..%2f..%2fetc%2fpasswd',
  ]) {
    const answer = await rawGet(raw);
    assert.equal(answer.status, 400, raw);
    assert.doesNotMatch(answer.body, /root:/, raw);
  }
});

test('first load: JS+CSS compressed bytes, keyboard order and visible focus on the login page', async () => {
  await page.goto(BASE + '/login');
  await page.locator('#username').waitFor();
  const bytes = await page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .filter((e) => /\.(js|css)$/.test(new URL(e.name).pathname))
      .reduce((sum, e) => sum + e.transferSize - 0 * e.encodedBodySize, 0),
  );
  const encoded = await page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .filter((e) => /\.(js|css)$/.test(new URL(e.name).pathname))
      .reduce((sum, e) => sum + e.encodedBodySize, 0),
  );
  figures.first_load_js_css_encoded_bytes = encoded;
  figures.first_load_js_css_transfer_bytes = bytes;
  assert.ok(encoded > 0 && encoded <= 200 * 1024, `first load ${encoded} bytes`);

  await page.goto(BASE + '/login');
  await page.locator('#username').waitFor();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.className), 'skip-link');
  const focusStyle = await page.evaluate(() => {
    const s = getComputedStyle(document.activeElement);
    return { outline: s.outlineStyle, left: document.activeElement.getBoundingClientRect().left };
  });
  assert.notEqual(focusStyle.outline, 'none', 'focus is visible');
  assert.ok(focusStyle.left >= 0, 'the skip link shows when focused');
  let reached = false;
  for (let i = 0; i < 15 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement?.id === 'username');
  }
  assert.ok(reached, 'Tab reaches the username field');
  await page.keyboard.type(fx.users.auditor);
  await page.keyboard.press('Tab');
  await page.keyboard.type(fx.password);
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/dashboard/);
  await logout();
});

test('public verification: VALID for a kyso-signed PDF, INVALID with one byte flipped', async () => {
  await page.goto(BASE + '/verify');
  await page.setInputFiles('#verify-file', join(W, 'signed.pdf'));
  await page.click('form button[type=submit]');
  await page.locator('[data-testid=verdict]').waitFor();
  assert.equal((await page.textContent('[data-testid=verdict]')).trim(), 'Hợp lệ');
  await checkPage('verify-valid', null, '[data-testid=verdict]');
  await page.goto(BASE + '/verify');
  await page.setInputFiles('#verify-file', join(W, 'tampered.pdf'));
  await page.click('form button[type=submit]');
  await page.locator('[data-testid=verdict]').waitFor();
  assert.equal((await page.textContent('[data-testid=verdict]')).trim(), 'Không hợp lệ');
});

test('public pages pass axe in both languages', async () => {
  await checkPage('login', '/login');
  await checkPage('downloads', '/downloads', 'table');
  await checkPage('not-found', '/khong-co-trang-nay');
  await page.goto(BASE + '/downloads');
  const crt = await page.getAttribute('a[href$=".crt"]', 'href');
  const res = await fetch(BASE + crt);
  assert.equal(res.status, 200, 'the CA certificate downloads');
});

// --- the officer: import staff, Mẫu 01, signed submission ---------------------------------------

test('officer imports staff from CSV with a dry run, per-row errors and then the import', async () => {
  await login('officer');
  await checkPage('officer-dashboard', '/dashboard', '[data-testid=certificate-cards]');
  await page.goto(BASE + `/staff?org=${fx.unit}`);
  await page.setInputFiles('#csv', join(W, 'staff-bad.csv'));
  await page.click('button:text-is("Kiểm tra thử")');
  await page.locator('[data-testid=import-report] table').waitFor();
  assert.match(await page.textContent('[data-testid=import-report]'), /form\.|person\.|bad/);
  await page.setInputFiles('#csv', join(W, 'staff.csv'));
  await page.click('button:text-is("Kiểm tra thử")');
  await page.locator('[data-testid=import-report]').waitFor();
  assert.match(await page.textContent('[data-testid=import-report]'), /2 dòng, 0 lỗi/);
  await page.click('button:has-text("Nhập dữ liệu")');
  await page.locator('text=Đã nhập 2 cán bộ').waitFor();
  await page.locator('[data-testid=people] >> text=Trần Văn Bình').waitFor();
  // Retiring a person with no certificate records the change and opens no draft.
  await page.click('button[aria-label="Thay đổi cho Lê Thị Đào"]');
  await page.check('input[type=radio][value=status]');
  await page.fill('[id^=reason-]', 'Nghỉ hưu theo chế độ');
  await page.click('button:text-is("Ghi nhận thay đổi")');
  await page.locator('[data-testid=opened]:has-text("Không có chứng thư số nào")').waitFor();
  await checkPage('officer-staff', null, '[data-testid=people]');
});

test('officer creates Mẫu 01 with validation as you type and submits it with an uploaded .p7s', async () => {
  const people = await api(
    'GET',
    `/api/v1/people?organization_id=${fx.unit}&personal_id=024090005678`,
    fx.tokens.officer,
  );
  const binh = people.items.find((p) => p.personal_id === '024090005678');
  assert.ok(binh, 'the imported person is registered');
  state.binh = binh.id;
  await page.goto(BASE + `/requests/new?kind=new_individual&org=${fx.unit}`);
  await page.locator('#person').waitFor();
  await page.selectOption('#person', String(binh.id));
  await page.locator('#field-full_name').waitFor();
  await page.waitForFunction(
    () => document.querySelector('#field-full_name')?.value === 'Trần Văn Bình',
  );
  await page.fill('#field-personal_id', '02409000');
  await page.locator('#err-personal_id').waitFor();
  assert.match(await page.textContent('#err-personal_id'), /12 chữ số/);
  await page.fill('#field-personal_id', '024090005678');
  await page.locator('#err-personal_id').waitFor({ state: 'detached' });
  await page.fill('#field-unit', 'Phòng Nghiệp vụ Y');
  await page.fill('#field-province', 'Bắc Giang');
  await page.fill('#field-csr', readFileSync(join(W, 'new.csr'), 'utf8'));
  await checkPage('officer-new-request', null, '#field-csr');
  await page.click('form.request-form button[type=submit]');
  await page.waitForURL(/\/requests\/\d+/);
  state.newRequest = Number(page.url().match(/requests\/(\d+)/)[1]);
  await page.setInputFiles('#p7s', await signedP7s(state.newRequest));
  await page.click('section[aria-labelledby=submit-title] button[type=submit]');
  await page.locator('[data-testid=state]:has-text("Đã gửi")').waitFor();
  await checkPage('officer-request', null, '[data-testid=state]');
  await checkPage('officer-requests', '/requests', '[data-testid=requests]');
  await checkPage('officer-certificates', '/certificates', 'h1');
  await checkPage('officer-account', '/account', 'h1');
});

// Issue 12, the second way: the department's seal held on the server (run.sh: kyso sign key
// add --allow vanthu.syt) signs the request's document (POST /api/v1/sign/file), chosen and
// submitted with the keyboard.
test('officer creates Mẫu 01 and submits it signed with the server-held key of the department', async () => {
  const keys = await api('GET', '/api/v1/sign/keys', fx.tokens.officer);
  assert.deepEqual(
    keys.items.map((k) => k.id),
    ['syt-seal'],
  );
  const other = await api('GET', '/api/v1/sign/keys', fx.tokens.officer_b);
  assert.deepEqual(other.items, [], "another body's officer has no key to choose");
  const csr = join(W, 'duong.csr');
  execFileSync(
    'openssl',
    [
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(W, 'duong.key'),
      '-utf8',
      '-subj',
      '/C=VN/L=Bắc Giang/O=Sở Y tế tỉnh Bắc Giang/CN=Nguyễn Thị Ánh Dương/UID=CCCD:024190001234',
      '-out',
      csr,
    ],
    { stdio: 'ignore' },
  );
  await page.goto(BASE + `/requests/new?kind=new_individual&org=${fx.unit}`);
  await page.locator('#person').waitFor();
  await page.selectOption('#person', String(fx.sub_person));
  await page.waitForFunction(
    () => document.querySelector('#field-full_name')?.value === 'Nguyễn Thị Ánh Dương',
  );
  await page.fill('#field-personal_id', '024190001234');
  await page.fill('#field-unit', 'Phòng Nghiệp vụ Y');
  await page.fill('#field-province', 'Bắc Giang');
  await page.fill('#field-csr', readFileSync(csr, 'utf8'));
  await page.click('form.request-form button[type=submit]');
  await page.waitForURL(/\/requests\/\d+/);
  const id = Number(page.url().match(/requests\/(\d+)/)[1]);
  // Keyboard only: the second way of signing, then the key, then submit.
  const serverWay = page.locator(
    'label:has-text("Ký bằng khóa của cơ quan lưu trên máy chủ") input',
  );
  await serverWay.waitFor();
  assert.equal(await page.locator('#signing-key').count(), 0, 'no key select before it is chosen');
  await page.focus('input[name=signer] >> nth=0');
  await page.keyboard.press('ArrowDown');
  assert.ok(await serverWay.isChecked(), 'arrow keys choose the server-held key');
  await page.locator('#signing-key').waitFor();
  assert.equal(await page.locator('#p7s').count(), 0, 'no file input for the server-held key');
  assert.equal(
    await page.locator('label[for=signing-key]').textContent(),
    'Khóa ký số của cơ quan',
  );
  assert.equal(await page.inputValue('#signing-key'), 'syt-seal');
  assert.match(
    (await page.textContent('#signing-key option:checked')).trim(),
    /^syt-seal — Sở Y tế tỉnh Bắc Giang, chứng thư số hết hạn ngày \d{2}\/\d{2}\/\d{4}$/,
  );
  await checkPage('officer-request-server-key', null, '#signing-key');
  await page.locator('label:has-text("Ký bằng khóa của cơ quan lưu trên máy chủ") input').check();
  await page.focus('#signing-key');
  await page.keyboard.press('Tab');
  assert.equal(
    await page.evaluate(() => document.activeElement?.getAttribute('type')),
    'submit',
    'Tab goes from the key to the submit button',
  );
  await page.keyboard.press('Enter');
  await page.locator('[data-testid=state]:has-text("Đã gửi")').waitFor();
  const submitted = await api('GET', `/api/v1/requests/${id}`, fx.tokens.officer);
  assert.equal(submitted.state, 'submitted');
  assert.match(submitted.signer, /CN=Sở Y tế tỉnh Bắc Giang/);
  // The same route's signature judged by openssl cms -verify over the exact document bytes,
  // chained to the instance's root.
  const doc = join(W, `doc-${id}.json`);
  const docRes = await fetch(`${BASE}/api/v1/requests/${id}/document`, {
    headers: { Authorization: `Bearer ${fx.tokens.officer}` },
  });
  writeFileSync(doc, Buffer.from(await docRes.arrayBuffer()));
  const form = new FormData();
  form.append('file', new Blob([readFileSync(doc)]), `doc-${id}.json`);
  form.append('key', 'syt-seal');
  const signed = await fetch(`${BASE}/api/v1/sign/file`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${fx.tokens.officer}` },
    body: form,
  });
  assert.equal(signed.status, 200);
  assert.equal(signed.headers.get('content-type'), 'application/pkcs7-signature');
  const p7s = join(W, `server-${id}.p7s`);
  writeFileSync(p7s, Buffer.from(await signed.arrayBuffer()));
  const verified = execFileSync(
    'openssl',
    [
      'cms',
      '-verify',
      '-binary',
      '-inform',
      'DER',
      '-in',
      p7s,
      '-content',
      doc,
      '-CAfile',
      join(fx.data, 'certs/root.pem'),
      '-out',
      '/dev/null',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' },
  );
  assert.equal(verified, '');
});

test('the CA operator reviews, approves and executes from the national queue', async () => {
  await login('operator');
  await checkPage('operator-queue', '/requests?mine=1', '[data-testid=requests]');
  await page.click(`[data-testid=requests] a:text-is("${state.newRequest}")`);
  await reviewApproveExecute();
  const request = await api('GET', `/api/v1/requests/${state.newRequest}`, fx.tokens.operator);
  assert.ok(request.result_certificate_id, 'a certificate was issued');
  state.certificate = request.result_certificate_id;
  await checkPage('operator-dashboard', '/dashboard', '[data-testid=certificate-cards]');
  await checkPage('operator-status', '/status', '[data-testid=status-cas]');
  assert.match(await page.textContent('[data-testid=status-cas]'), /Còn hiệu lực/);
  await checkPage('operator-delegations', '/delegations', '[data-testid=delegations] tbody tr');
  await checkPage(
    'operator-certificates',
    '/certificates?subject=Tr%E1%BA%A7n',
    '[data-testid=certificates]',
  );
});

test('the subscriber downloads the certificate and openssl verify accepts it', async () => {
  const account = await api('POST', '/api/v1/accounts', fx.tokens.admin ?? (await adminToken()), {
    username: 'binh.tran',
    role: 'subscriber',
    organization_id: fx.unit,
    person_id: state.binh,
    password: fx.password,
  });
  assert.ok(account.id);
  await login('binh.tran');
  await page.goto(BASE + '/certificates');
  await page.locator('[data-testid=certificates]').waitFor();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.click('button:text-is("PEM")'),
  ]);
  const pem = join(W, 'downloaded.pem');
  await download.saveAs(pem);
  const out = execFileSync('openssl', [
    'verify',
    '-CAfile',
    join(fx.data, 'certs/root.pem'),
    '-untrusted',
    join(fx.data, 'certs/issuing.pem'),
    pem,
  ]).toString();
  assert.match(out, /OK/);
  const [chain] = await Promise.all([
    page.waitForEvent('download'),
    page.click('button:text-is("Chuỗi chứng thực")'),
  ]);
  await chain.saveAs(join(W, 'chain.pem'));
  assert.equal(
    (readFileSync(join(W, 'chain.pem'), 'utf8').match(/BEGIN CERTIFICATE/g) ?? []).length,
    3,
  );
  await checkPage('subscriber-certificates', null, '[data-testid=certificates]');
  await checkPage('subscriber-dashboard', '/dashboard', '[data-testid=certificate-cards]');
});

async function adminToken() {
  if (fx.tokens.admin) return fx.tokens.admin;
  const login = await fetch(BASE + '/api/v1/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: fx.admin_password }),
  });
  const cookie = login.headers.get('set-cookie').split(';')[0];
  const { csrf_token } = await login.json();
  const res = await fetch(BASE + '/api/v1/auth/tokens', {
    method: 'POST',
    headers: { Cookie: cookie, 'X-CSRF-Token': csrf_token, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'e2e-admin', days: 1 }),
  });
  fx.tokens.admin = (await res.json()).token;
  return fx.tokens.admin;
}

// --- delegation: a renewal handled by the provincial office -------------------------------------

test('a delegate officer handles a renewal in the delegated queue', async () => {
  const renewal = await api('POST', '/api/v1/requests', fx.tokens.officer, {
    kind: 'renewal',
    organization_id: fx.unit,
    person_id: state.binh,
    certificate_id: state.certificate,
    form: { reason: 'Hết thời hạn sử dụng' },
  });
  const p7s = readFileSync(await signedP7s(renewal.id)).toString('base64');
  await api('POST', `/api/v1/requests/${renewal.id}/submit`, fx.tokens.officer, {
    version: renewal.version,
    signature: p7s,
  });
  await login('delegate');
  await checkPage('delegate-queue', '/requests?mine=1', '[data-testid=requests]');
  await page.click(`[data-testid=requests] a:text-is("${renewal.id}")`);
  await page.locator('[data-testid=state]').waitFor();
  await reviewApproveExecute();
  const done = await api('GET', `/api/v1/requests/${renewal.id}`, fx.tokens.officer);
  assert.equal(done.state, 'executed');
  state.renewed = done.result_certificate_id ?? state.certificate;
});

// --- revocation ---------------------------------------------------------------------------------

test('the officer requests revocation, the operator executes it, openssl ocsp says revoked', async () => {
  await login('officer');
  await page.goto(
    BASE +
      `/requests/new?kind=revocation&org=${fx.unit}&person=${state.binh}&certificate=${state.renewed}`,
  );
  await page.locator('#field-reason').waitFor();
  await page.waitForFunction(() => document.querySelectorAll('#certificate option').length > 1);
  await page.selectOption('#certificate', String(state.renewed));
  await page.selectOption('#field-reason', 'keyCompromise');
  await page.fill('#field-explanation', 'Mất thiết bị lưu khóa bí mật');
  await page.click('form.request-form button[type=submit]');
  await page.waitForURL(/\/requests\/\d+/);
  const id = Number(page.url().match(/requests\/(\d+)/)[1]);
  await page.setInputFiles('#p7s', await signedP7s(id));
  await page.click('section[aria-labelledby=submit-title] button[type=submit]');
  await page.locator('[data-testid=state]:has-text("Đã gửi")').waitFor();
  await login('operator');
  await page.goto(BASE + `/requests/${id}`);
  await reviewApproveExecute();
  const cert = await api(
    'GET',
    `/api/v1/registry/certificates/${state.renewed}`,
    fx.tokens.operator,
  );
  const ocsp = execFileSync(
    'openssl',
    [
      'ocsp',
      '-issuer',
      join(fx.data, 'certs/issuing.pem'),
      '-serial',
      `0x${cert.serial}`,
      '-url',
      `${BASE}/ocsp`,
      '-CAfile',
      join(fx.data, 'certs/root.pem'),
      '-verify_other',
      join(fx.data, 'certs/issuing.pem'),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  ).toString();
  assert.match(ocsp, /: revoked/);
  state.revocationRequest = id;
});

// --- scope: another body's officer --------------------------------------------------------------

test("another body's officer gets no access, in the UI and by direct fetch from the page", async () => {
  await login('officer_b');
  await page.goto(BASE + `/requests/${state.newRequest}`);
  const alert = page.locator('[role=alert]');
  await alert.waitFor();
  assert.match(await alert.textContent(), /ngoài phạm vi/);
  const status = await page.evaluate(
    async (id) => (await fetch(`/api/v1/requests/${id}`)).status,
    state.newRequest,
  );
  assert.equal(status, 403);
  const cert = await page.evaluate(
    async (id) => (await fetch(`/api/v1/registry/certificates/${id}`)).status,
    state.certificate,
  );
  assert.equal(cert, 403);
  await page.goto(BASE + '/requests');
  await page.locator('h1').waitFor();
  assert.equal(
    await page.locator(`[data-testid=requests] a:text-is("${state.newRequest}")`).count(),
    0,
  );
  await page.goto(BASE + '/audit');
  await page.locator('h1:has-text("Không có quyền truy cập")').waitFor();
  await checkPage('forbidden', null);
});

test('the API routes the portal added: summary by scope, audit check for auditors, kinds', async () => {
  const all = await api('GET', '/api/v1/reports/summary', fx.tokens.operator);
  const other = await api('GET', '/api/v1/reports/summary', fx.tokens.officer_b);
  const mine = await api('GET', '/api/v1/reports/summary', fx.tokens.officer);
  assert.ok(all.requests_by_state.executed >= 3, 'the operator counts every executed request');
  assert.equal(other.requests_by_state.executed, 0, "another body's officer counts none of them");
  assert.ok(mine.requests_by_state.executed >= 3);
  assert.equal(all.months.length, 12);
  assert.ok(all.months.at(-1).issued >= 2 && all.months.at(-1).revoked >= 1);
  const denied = await fetch(BASE + '/api/v1/audit/verify', {
    headers: { Authorization: `Bearer ${fx.tokens.operator}` },
  });
  assert.equal(denied.status, 403);
  const check = await api('GET', '/api/v1/audit/verify', fx.tokens.auditor);
  assert.equal(check.ok, true);
  const anonymous = await fetch(BASE + '/api/v1/request-kinds');
  assert.equal(anonymous.status, 401);
  const kinds = await api('GET', '/api/v1/request-kinds', fx.tokens.subscriber);
  assert.equal(kinds.items.length, 9);
  assert.ok(
    kinds.items[0].fields.some((f) => f.name === 'personal_id' && f.check === 'personal_id'),
  );
  const found = await api(
    'GET',
    '/api/v1/certificates?subject=Tr%E1%BA%A7n+V%C4%83n',
    fx.tokens.operator,
  );
  assert.ok(found.items.length >= 1 && found.items.every((c) => c.subject.includes('Trần Văn')));
});

// --- auditor ------------------------------------------------------------------------------------

test('the auditor reads the log and checks the chain', async () => {
  await login('auditor');
  await page.goto(BASE + '/audit');
  await page.locator('[data-testid=audit] tbody tr').first().waitFor();
  await page.click('button:text-is("Kiểm tra toàn vẹn nhật ký")');
  await page.locator('[data-testid=audit-check]').waitFor();
  assert.match(await page.textContent('[data-testid=audit-check]'), /toàn vẹn: \d+ bản ghi/);
  await checkPage('auditor-audit', null, '[data-testid=audit]');
});

test('the administrator sees accounts and roles', async () => {
  await login('admin', fx.admin_password);
  await checkPage('admin-accounts', '/accounts', '[data-testid=accounts] tbody tr');
  assert.match(await page.textContent('[data-testid=accounts]'), /vanthu\.syt/);
  await checkPage('admin-staff', '/staff', 'h1');
});

accountFlows({ fx, api, login, checkPage, page: () => page });

// --- figures ------------------------------------------------------------------------------------

test('figures: dashboard usable cold and warm, p95 of the main list pages', async () => {
  await login('operator');
  const cdp = await context.newCDPSession(page);
  const usable = async () => {
    await page.locator('[data-testid=certificate-cards]').waitFor();
    return page.evaluate(
      () => performance.getEntriesByName('kyso:dashboard-usable')[0]?.startTime ?? -1,
    );
  };
  await cdp.send('Network.clearBrowserCache');
  await page.goto(BASE + '/dashboard');
  figures.dashboard_usable_cold_ms = Math.round(await usable());
  const warm = [];
  for (let i = 0; i < 5; i++) {
    await page.goto(BASE + '/dashboard');
    warm.push(await usable());
  }
  figures.dashboard_usable_warm_ms = Math.round(warm.sort((a, b) => a - b)[2]);
  // Each main list page 10 times: a full load (the SPA from the warm cache, /me, the list) and
  // an in-app navigation from the dashboard (the router, the list request, the render).
  for (const [name, path, ready] of [
    ['certificates', '/certificates', '[data-testid=certificates]'],
    ['requests', '/requests', '[data-testid=requests]'],
    ['staff', `/staff?org=${fx.unit}`, '[data-testid=people]'],
    ['audit', '/audit', '[data-testid=audit]'],
  ]) {
    if (name === 'audit') await login('auditor');
    if (name === 'staff') await login('officer');
    const full = [];
    const inApp = [];
    for (let i = 0; i < 10; i++) {
      let t0 = Date.now();
      await page.goto(BASE + path);
      await page.locator(ready).waitFor();
      full.push(Date.now() - t0);
      await page.goto(BASE + '/dashboard');
      await page.locator('[data-testid=certificate-cards]').waitFor();
      t0 = Date.now();
      await page.evaluate((p) => {
        history.pushState({}, '', p);
        dispatchEvent(new PopStateEvent('popstate'));
      }, path);
      await page.locator(ready).waitFor();
      inApp.push(Date.now() - t0);
    }
    const p95 = (xs) => xs.sort((a, b) => a - b)[Math.ceil(xs.length * 0.95) - 1];
    figures[`p95_${name}_full_load_ms`] = p95(full);
    figures[`p95_${name}_in_app_ms`] = p95(inApp);
  }
  figures.pages_checked = PAGES_CHECKED.length;
  assert.deepEqual(cspViolations, [], 'no Content-Security-Policy violation on any page');
});
