// Browser flows of the account and expiry views (issue 12): API tokens created, listed and
// revoked from "My account"; the expiry reminders an officer sees on the expiring-certificates
// view; the request form's check of a pasted CSR's subject against the subscriber.
//
// run.mjs calls accountFlows(h) once with its helpers; the tests register with node:test in
// that order and share run.mjs's browser page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// h: { fx, api, login, checkPage, page: () => the current playwright page }
export function accountFlows(h) {
  const { fx, api, login, checkPage } = h;
  const BASE = fx.url;
  const state = {};

  // GET /api/v1/me with a bearer token: the HTTP status.
  async function meStatus(token) {
    const res = await fetch(BASE + '/api/v1/me', { headers: { Authorization: `Bearer ${token}` } });
    return res.status;
  }

  test('My account: a new token shown once, listed, then revoked after a confirmation', async () => {
    const page = h.page();
    await login('officer');
    await page.goto(BASE + '/account');
    await page.locator('[data-testid=tokens]').waitFor();
    const name = 'Hệ thống một cửa (e2e)';
    await page.fill('#token-name', name);
    await page.fill('#token-days', '7');
    await page.click('form:has(#token-name) button[type=submit]');
    const secret = (await page.textContent('[data-testid=new-token]')).trim();
    assert.match(secret, /^kyso_[A-Za-z0-9_-]{43}$/);
    assert.equal(await meStatus(secret), 200, 'the new token authenticates');
    const row = page.locator('[data-testid=tokens] tbody tr', { hasText: name });
    await row.waitFor();
    assert.match(await row.textContent(), /Đang dùng/);
    // The list never carries a secret or a hash.
    assert.doesNotMatch(await page.textContent('[data-testid=tokens]'), /kyso_/);
    await checkPage('officer-account-tokens', null, '[data-testid=tokens]');

    // Shown once: gone after a reload, while the list keeps the name.
    await page.reload();
    await row.waitFor();
    assert.equal(await page.locator('[data-testid=new-token]').count(), 0);

    await row.locator('button', { hasText: 'Thu hồi' }).click();
    const confirm = row.locator('button[id^=revoke-yes-]');
    await confirm.waitFor();
    assert.match(await row.textContent(), /không truy cập được nữa/);
    assert.equal(await meStatus(secret), 200, 'nothing is revoked before the confirmation');
    await confirm.click();
    await page.locator('.notice.success', { hasText: 'Đã thu hồi khóa truy cập' }).waitFor();
    await row.locator('.badge', { hasText: 'Đã thu hồi' }).waitFor();
    assert.equal(await meStatus(secret), 401, 'the revoked token stops authenticating at once');
    const mine = await api('GET', '/api/v1/auth/tokens', fx.tokens.officer);
    assert.ok(mine.items.some((t) => t.name === name && t.revoked));
  });

  test('the officer sees which expiry reminders were sent for an expiring certificate', async () => {
    const page = h.page();
    // run.sh issued a department seal expiring in 20 days; the server queues its 30-day reminder
    // and delivers it within a few seconds (--reminder-period 2 --outbox-period 1).
    let sent;
    for (let i = 0; i < 100 && !sent; i++) {
      const list = await api('GET', '/api/v1/reminders?state=sent&days=30', fx.tokens.officer);
      sent = list.items[0];
      if (!sent) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(sent, 'a 30-day reminder was sent');
    const other = await api('GET', '/api/v1/reminders', fx.tokens.officer_b);
    assert.equal(other.items.length, 0, "another province's officer sees none of it");
    await login('officer');
    await page.goto(BASE + '/certificates?expiring=30');
    const cell = page.locator(`[data-testid=reminders-${sent.certificate_id}]`);
    await cell.locator('li', { hasText: 'đã gửi' }).waitFor();
    assert.match(await cell.textContent(), /Nhắc trước 30 ngày/);
    assert.match(await cell.textContent(), /vt@2400100002\.gov\.vn/);
    await checkPage(
      'officer-expiring-reminders',
      null,
      `[data-testid=reminders-${sent.certificate_id}] li`,
    );
  });

  test("the request form checks a pasted CSR's subject against the subscriber", async () => {
    const page = h.page();
    const people = await api(
      'GET',
      `/api/v1/people?organization_id=${fx.unit}&personal_id=024090005678`,
      fx.tokens.officer,
    );
    const binh = people.items[0];
    assert.ok(binh, 'Trần Văn Bình is registered');
    await page.goto(BASE + `/requests/new?kind=new_individual&org=${fx.unit}`);
    await page.locator('#person').waitFor();
    await page.selectOption('#person', String(binh.id));
    await page.waitForFunction(
      () => document.querySelector('#field-full_name')?.value === 'Trần Văn Bình',
    );
    const check = page.locator('[data-testid=csr-check]');

    // His own CSR (run.sh: CN=Trần Văn Bình, UID=CCCD:024090005678).
    await page.fill('#field-csr', readFileSync(join(fx.work, 'new.csr'), 'utf8'));
    await check.waitFor();
    assert.equal(await check.locator('[data-result=ok]').count(), 2);
    assert.match(await check.textContent(), /Khớp với họ và tên/);

    // Someone else's: both lines say what differs.
    const key = join(fx.work, 'new.key');
    const otherCsr = execFileSync('openssl', [
      'req',
      '-new',
      '-key',
      key,
      '-utf8',
      '-subj',
      '/C=VN/O=Sở Y tế tỉnh Bắc Giang/CN=Lê Thị Đào/UID=CCCD:024190009876',
    ]).toString();
    await page.fill('#field-csr', otherCsr);
    await check.locator('[data-result=bad]').nth(1).waitFor();
    assert.equal(await check.locator('[data-result=ok]').count(), 0);
    assert.match(await check.textContent(), /Không khớp với họ và tên “Trần Văn Bình”/);
    assert.match(
      await check.textContent(),
      /UID CCCD:024190009876 không mang số CCCD 024090005678/,
    );
    await checkPage('officer-csr-check', null, '[data-testid=csr-check]');

    // Malformed PEM: a clear message, and the page keeps working.
    await page.fill(
      '#field-csr',
      '-----BEGIN CERTIFICATE REQUEST-----\nnot*base64\n-----END CERTIFICATE REQUEST-----',
    );
    await check.locator('[data-result=bad]', { hasText: 'không phải base64' }).waitFor();
    await page.fill(
      '#field-csr',
      '-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----',
    );
    await check.locator('[data-result=bad]', { hasText: 'PKCS#10' }).waitFor();
    await page.fill('#field-csr', readFileSync(join(fx.work, 'new.csr'), 'utf8'));
    await check.locator('[data-result=ok]').nth(1).waitFor();
    state.binh = binh;
  });

  test('the officer attaches a PDF to a draft, downloads it and removes it', async () => {
    const page = h.page();
    const draft = await api('POST', '/api/v1/requests', fx.tokens.officer, {
      kind: 'new_individual',
      organization_id: fx.unit,
      person_id: state.binh.id,
      form: {
        full_name: state.binh.full_name,
        personal_id: state.binh.personal_id,
        position: 'Chuyên viên',
        unit: 'Phòng Nghiệp vụ Y',
        email: 'binh@syt.bacgiang.gov.vn',
        mobile: '0987654321',
        province: 'Bắc Giang',
        csr: readFileSync(join(fx.work, 'new.csr'), 'utf8'),
      },
    });
    await page.goto(BASE + '/requests');
    await page.click(`a[href="/requests/${draft.id}/attachments"]`);
    await page.locator('[data-testid=attachments]').waitFor();
    const pdf = join(fx.work, 'signed.pdf'); // run.sh's signed PDF: a real PDF to attach
    await page.setInputFiles('#attach-file', pdf);
    await page.click('[data-testid=attachments] form button[type=submit]');
    const item = page.locator('[data-testid=attachments] li', { hasText: 'signed.pdf' });
    await item.waitFor();
    await checkPage('officer-attachments', null, '[data-testid=attachments] li');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      item.locator('button.link').click(),
    ]);
    const saved = join(fx.work, 'attachment-download.pdf');
    await download.saveAs(saved);
    assert.deepEqual(readFileSync(saved), readFileSync(pdf), 'the same bytes come back');
    // A text file is refused with the server's reason.
    const txt = join(fx.work, 'note.txt');
    writeFileSync(txt, 'not a PDF');
    await page.setInputFiles('#attach-file', txt);
    await page.click('[data-testid=attachments] form button[type=submit]');
    await page
      .locator('[data-testid=attachments] .notice.error', { hasText: 'PDF, PNG' })
      .waitFor();
    await item.locator('button.secondary').click();
    await page.locator('[data-testid=attachments]', { hasText: 'Chưa có tài liệu' }).waitFor();
    const list = await api('GET', `/api/v1/requests/${draft.id}/attachments`, fx.tokens.officer);
    assert.equal(list.items.length, 0);
  });
}
