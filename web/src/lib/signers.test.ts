// @vitest-environment node
// The submission signers against a fake server: which ways are offered for which keys, and what
// serverKey sends to POST /api/v1/sign/file (node's own fetch, FormData and Request, so the
// multipart body is read back as the server would parse it).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

type Signers = typeof import('./signers');
const key = {
  id: 'bacgiang-stc',
  subject: 'CN=Sở Tài chính,O=UBND tỉnh Bắc Giang,C=VN',
  serial: '0A',
  not_after: '2029-01-01T00:00:00Z',
  organization_id: 12,
  organization_name: 'Sở Tài chính',
};
const der = new Uint8Array([0x30, 0x82, 0x01, 0x02, 0x06, 0x09]);

let requests: Request[];
let answer: () => Response;
let signers: Signers;

beforeEach(async () => {
  requests = [];
  answer = () => new Response(der, { headers: { 'Content-Type': 'application/pkcs7-signature' } });
  const storage = new Map([['kyso.csrf', 'csrf-1']]);
  vi.stubGlobal('sessionStorage', { getItem: (k: string) => storage.get(k) ?? null });
  // As in the page, a path resolves against the portal's origin.
  vi.stubGlobal(
    'Request',
    class extends Request {
      constructor(input: RequestInfo | URL, init?: RequestInit) {
        super(typeof input === 'string' ? new URL(input, 'https://kyso.test') : input, init);
      }
    },
  );
  vi.stubGlobal('fetch', async (request: Request) => {
    requests.push(request.clone());
    return answer();
  });
  // The API client takes fetch when it is created: a fresh module graph per test.
  vi.resetModules();
  signers = await import('./signers');
});
afterEach(() => vi.unstubAllGlobals());

describe('availableSigners', () => {
  it('offers the server-held key only when the caller has one', () => {
    expect(signers.availableSigners([]).map((s) => s.id)).toEqual(['uploadP7s']);
    expect(signers.availableSigners([key]).map((s) => s.id)).toEqual(['uploadP7s', 'serverKey']);
  });
});

describe('serverKey', () => {
  it('posts the exact document bytes and the key, with the CSRF token, and returns the DER', async () => {
    const document = new TextEncoder().encode('{"kind":"new_individual","đơn":"Mẫu 01"}');
    const out = await signers.serverKey.sign({ requestId: 12, document, keyId: key.id });
    expect(out).toEqual(der);
    expect(requests).toHaveLength(1);
    const sent = requests[0]!;
    expect(sent.method).toBe('POST');
    expect(sent.url).toBe('https://kyso.test/api/v1/sign/file');
    expect(sent.headers.get('X-CSRF-Token')).toBe('csrf-1');
    expect(sent.headers.get('Content-Type')).toMatch(/^multipart\/form-data; boundary=/);
    const form = await sent.formData();
    expect(form.get('key')).toBe('bacgiang-stc');
    const file = form.get('file') as File;
    expect(file.name).toBe('yeu-cau-12.json');
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(document);
  });

  it("turns the server's refusal into an ApiError with its id", async () => {
    answer = () =>
      new Response(
        JSON.stringify({ error: { code: 'sign.key_not_authorized', message: 'not the clerk' } }),
        { status: 403, headers: { 'Content-Type': 'application/json' } },
      );
    const { ApiError } = await import('../api/client');
    const failure = signers.serverKey.sign({
      requestId: 12,
      document: new Uint8Array([1]),
      keyId: key.id,
    });
    await expect(failure).rejects.toBeInstanceOf(ApiError);
    await expect(failure).rejects.toMatchObject({ status: 403, code: 'sign.key_not_authorized' });
  });

  it('asks for a key before calling the server', async () => {
    await expect(
      signers.serverKey.sign({ requestId: 12, document: new Uint8Array([1]) }),
    ).rejects.toBeInstanceOf(signers.MissingSigningKey);
    expect(requests).toHaveLength(0);
  });
});

describe('loadSigningKeys', () => {
  it("lists the caller's keys, and none when signing is not configured", async () => {
    answer = () => Response.json({ items: [key] });
    expect(await signers.loadSigningKeys()).toEqual([key]);
    answer = () =>
      Response.json({ error: { code: 'sign.unavailable', message: 'off' } }, { status: 503 });
    expect(await signers.loadSigningKeys()).toEqual([]);
  });
});
