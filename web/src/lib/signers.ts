// How a submission gets its signature: the managing agency's detached CMS (DER) over the
// request's canonical document (GET /api/v1/requests/{id}/document, exact bytes).
//
// The seam for the three ways of issue 12:
//   uploadP7s   a .p7s made by any tool (openssl cms -sign -binary -outform DER, a token's
//               software) — always offered;
//   serverKey   a key the clerk's body registered on the server (`kyso sign key add`): the
//               server makes a detached CAdES signature over the document (POST
//               /api/v1/sign/file) — offered when GET /api/v1/sign/keys lists a key the caller
//               may use (the server decides: it refuses any other key with
//               sign.key_not_authorized);
//   localAgent  the local signing agent of a later issue: not offered until it exists.
import type { MessageKey } from '../i18n';
import { api, unwrap } from '../api/client';
import type { paths } from '../api/schema';

type KeysAnswer =
  paths['/api/v1/sign/keys']['get']['responses']['200']['content']['application/json'];
export type SigningKey = NonNullable<KeysAnswer['items']>[number];

export interface SignInput {
  requestId: number;
  document: Uint8Array; // the exact bytes to sign
  file?: File | null; // uploadP7s: the chosen .p7s
  keyId?: string; // serverKey: the chosen server-held key
}

export interface SubmissionSigner {
  readonly id: 'uploadP7s' | 'serverKey' | 'localAgent';
  readonly label: MessageKey;
  readonly needsFile: boolean;
  readonly needsKey: boolean;
  // `keys`: the server-held keys the caller may sign with.
  available(keys: readonly SigningKey[]): boolean;
  sign(input: SignInput): Promise<Uint8Array>; // DER CMS
}

export class MissingSignatureFile extends Error {}
export class MissingSigningKey extends Error {}

export const uploadP7s: SubmissionSigner = {
  id: 'uploadP7s',
  label: 'req.signer.uploadP7s',
  needsFile: true,
  needsKey: false,
  available: () => true,
  async sign({ file }) {
    if (!file) throw new MissingSignatureFile();
    return new Uint8Array(await file.arrayBuffer());
  },
};

// The request's document as the file the server signs; its name names the answer (.p7s).
export function documentFileName(requestId: number): string {
  return `yeu-cau-${requestId}.json`;
}

export const serverKey: SubmissionSigner = {
  id: 'serverKey',
  label: 'req.signer.serverKey',
  needsFile: false,
  needsKey: true,
  available: (keys) => keys.length > 0,
  async sign({ requestId, document, keyId }) {
    if (!keyId) throw new MissingSigningKey();
    const form = new FormData();
    // A copy: a Blob part must own an ArrayBuffer, not a view into a larger one.
    form.append(
      'file',
      new Blob([document.slice()], { type: 'application/json' }),
      documentFileName(requestId),
    );
    form.append('key', keyId);
    const der = unwrap(
      await api.POST('/api/v1/sign/file', {
        // openapi-fetch sends a FormData body as is (the browser sets the boundary).
        body: form as never,
        parseAs: 'arrayBuffer',
      }),
    );
    return new Uint8Array(der);
  },
};

export const signers: readonly SubmissionSigner[] = [uploadP7s, serverKey];

export function availableSigners(keys: readonly SigningKey[]): SubmissionSigner[] {
  return signers.filter((s) => s.available(keys));
}

// The keys the caller may sign with; none when the server cannot say (signing not configured,
// 503 sign.unavailable): then only the upload is offered.
export async function loadSigningKeys(): Promise<SigningKey[]> {
  try {
    return unwrap(await api.GET('/api/v1/sign/keys')).items ?? [];
  } catch {
    return [];
  }
}

export function toBase64(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}
