// How a submission gets its signature: the managing agency's detached CMS (DER) over the
// request's canonical document (GET /api/v1/requests/{id}/document, exact bytes).
//
// The seam for the three ways of issue 12:
//   uploadP7s   a .p7s made by any tool (openssl cms -sign -binary -outform DER, a token's
//               software) — always offered;
//   serverKey   a key the clerk registered on the server (`kyso sign key add`): offered once
//               the server has a route that signs a request document with an authorized key
//               (per-key authorization is being added to the signing routes);
//   localAgent  the local signing agent of a later issue: not offered until it exists.
import type { MessageKey } from '../i18n';

export interface SignInput {
  requestId: number;
  document: Uint8Array; // the exact bytes to sign
  file?: File | null; // uploadP7s: the chosen .p7s
}

export interface SubmissionSigner {
  readonly id: 'uploadP7s' | 'serverKey' | 'localAgent';
  readonly label: MessageKey;
  readonly needsFile: boolean;
  available(): boolean;
  sign(input: SignInput): Promise<Uint8Array>; // DER CMS
}

export class MissingSignatureFile extends Error {}

export const uploadP7s: SubmissionSigner = {
  id: 'uploadP7s',
  label: 'req.signer.uploadP7s',
  needsFile: true,
  available: () => true,
  async sign({ file }) {
    if (!file) throw new MissingSignatureFile();
    return new Uint8Array(await file.arrayBuffer());
  },
};

export const serverKey: SubmissionSigner = {
  id: 'serverKey',
  label: 'req.signer.serverKey',
  needsFile: false,
  // No server route signs a request document with a registered agency key yet.
  available: () => false,
  sign: () => Promise.reject(new Error('server-held key signing is not available')),
};

export const signers: readonly SubmissionSigner[] = [uploadP7s, serverKey];

export function availableSigners(): SubmissionSigner[] {
  return signers.filter((s) => s.available());
}

export function toBase64(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}
