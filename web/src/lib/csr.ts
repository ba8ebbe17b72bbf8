// The subject of a PKCS#10 certificate request (RFC 2986), read in the browser so that the
// request form can say, as the user pastes it, whether the CSR names the person the request is
// about. A small DER reader (ITU-T X.690 §8.1: identifier, length, contents) that only walks
// CertificationRequest → certificationRequestInfo → subject; the server parses and checks the
// whole CSR again (x509::Csr, the profile's subject rules) and stays the authority.
//
// Malformed input of any kind throws CsrError with a stable code, never anything else.

export type CsrErrorCode = 'csr.not_pem' | 'csr.bad_base64' | 'csr.malformed';

export class CsrError extends Error {
  constructor(
    readonly code: CsrErrorCode,
    message: string,
  ) {
    super(message);
  }
}

// One attribute of the subject: its OID, a short name when known, and the text value.
export interface SubjectAttribute {
  oid: string;
  name: string;
  value: string;
}

const NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '0.9.2342.19200300.100.1.1': 'UID',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

interface Tlv {
  tag: number;
  start: number; // first content byte
  end: number; // one past the last content byte
}

function malformed(what: string): CsrError {
  return new CsrError('csr.malformed', what);
}

// der[i], or malformed when i lies outside the input.
function at(der: Uint8Array, i: number): number {
  const b = der[i];
  if (b === undefined) throw malformed('truncated');
  return b;
}

// X.690 §8.1.2–8.1.3 in DER: one-byte tags (low tag numbers suffice for a CSR), definite
// lengths in the shortest form.
function readTlv(der: Uint8Array, offset: number, limit: number): Tlv {
  if (offset + 2 > limit) throw malformed('truncated element');
  const tag = at(der, offset);
  if ((tag & 0x1f) === 0x1f) throw malformed('multi-byte tag');
  let length = at(der, offset + 1);
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0) throw malformed('indefinite length (not DER)');
    if (count > 4) throw malformed('length too long');
    if (start + count > limit) throw malformed('truncated length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + at(der, start + i);
    start += count;
  }
  if (start + length > limit) throw malformed('element longer than its container');
  return { tag, start, end: start + length };
}

function expect(der: Uint8Array, offset: number, limit: number, tag: number, what: string): Tlv {
  const tlv = readTlv(der, offset, limit);
  if (tlv.tag !== tag) throw malformed(`${what}: tag 0x${tlv.tag.toString(16)}`);
  return tlv;
}

// X.690 §8.19: the first byte holds two arcs, then base-128 digits.
function decodeOid(der: Uint8Array, start: number, end: number): string {
  if (start >= end) throw malformed('empty OID');
  const arcs: number[] = [];
  let value = 0;
  for (let i = start; i < end; i++) {
    const b = at(der, i);
    value = value * 128 + (b & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) throw malformed('OID arc too large');
    if (!(b & 0x80)) {
      if (arcs.length === 0) {
        const first = value < 80 ? Math.floor(value / 40) : 2;
        arcs.push(first, value - first * 40);
      } else {
        arcs.push(value);
      }
      value = 0;
    } else if (i === end - 1) {
      throw malformed('OID ends inside an arc');
    }
  }
  return arcs.join('.');
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeString(der: Uint8Array, tlv: Tlv): string {
  const bytes = der.subarray(tlv.start, tlv.end);
  try {
    switch (tlv.tag) {
      case 0x0c: // UTF8String
        return utf8.decode(bytes);
      case 0x13: // PrintableString
      case 0x16: // IA5String
      case 0x14: // TeletexString: read as Latin-1, as most software does
        return String.fromCharCode(...bytes);
      case 0x1e: {
        // BMPString: UCS-2, big-endian
        if (bytes.length % 2) throw malformed('odd BMPString');
        let s = '';
        for (let i = 0; i < bytes.length; i += 2)
          s += String.fromCharCode(at(bytes, i) * 256 + at(bytes, i + 1));
        return s;
      }
      case 0x1c: {
        // UniversalString: UCS-4, big-endian
        if (bytes.length % 4) throw malformed('bad UniversalString');
        let s = '';
        for (let i = 0; i < bytes.length; i += 4) {
          const cp =
            ((at(bytes, i) << 24) |
              (at(bytes, i + 1) << 16) |
              (at(bytes, i + 2) << 8) |
              at(bytes, i + 3)) >>>
            0;
          if (cp > 0x10ffff) throw malformed('bad code point');
          s += String.fromCodePoint(cp);
        }
        return s;
      }
      default:
        throw malformed(`attribute value of tag 0x${tlv.tag.toString(16)} is not a string`);
    }
  } catch (e) {
    if (e instanceof CsrError) throw e;
    throw malformed('invalid UTF-8');
  }
}

// The DER inside a PEM "CERTIFICATE REQUEST" block (RFC 7468 §7; "NEW CERTIFICATE REQUEST" is
// the older label some tools still write).
export function csrDer(pem: string): Uint8Array {
  const m =
    /-----BEGIN (NEW )?CERTIFICATE REQUEST-----([\s\S]*?)-----END (NEW )?CERTIFICATE REQUEST-----/.exec(
      pem,
    );
  if (!m) throw new CsrError('csr.not_pem', 'no -----BEGIN CERTIFICATE REQUEST----- block');
  const b64 = (m[2] ?? '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0 || !b64.length) {
    throw new CsrError('csr.bad_base64', 'the PEM body is not base64');
  }
  const bin = atob(b64);
  const der = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) der[i] = bin.charCodeAt(i);
  return der;
}

// The subject's attributes in order (RDNs in sequence, multi-valued RDNs flattened).
export function csrSubject(pem: string): SubjectAttribute[] {
  const der = csrDer(pem);
  // CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm, signature }
  const outer = expect(der, 0, der.length, 0x30, 'CertificationRequest');
  if (outer.end !== der.length) throw malformed('bytes after the CertificationRequest');
  // CertificationRequestInfo ::= SEQUENCE { version INTEGER (v1 = 0), subject Name, ... }
  const info = expect(der, outer.start, outer.end, 0x30, 'certificationRequestInfo');
  const version = expect(der, info.start, info.end, 0x02, 'version');
  if (version.end - version.start !== 1 || at(der, version.start) !== 0) {
    throw malformed('version is not v1 (0)');
  }
  // Name ::= SEQUENCE OF RelativeDistinguishedName (SET OF AttributeTypeAndValue)
  const name = expect(der, version.end, info.end, 0x30, 'subject');
  const out: SubjectAttribute[] = [];
  for (let rdnAt = name.start; rdnAt < name.end;) {
    const rdn = expect(der, rdnAt, name.end, 0x31, 'RelativeDistinguishedName');
    for (let atvAt = rdn.start; atvAt < rdn.end;) {
      const atv = expect(der, atvAt, rdn.end, 0x30, 'AttributeTypeAndValue');
      const type = expect(der, atv.start, atv.end, 0x06, 'attribute type');
      const oid = decodeOid(der, type.start, type.end);
      const value = readTlv(der, type.end, atv.end);
      if (value.end !== atv.end) throw malformed('bytes after an attribute value');
      out.push({ oid, name: NAMES[oid] ?? oid, value: decodeString(der, value) });
      atvAt = atv.end;
    }
    rdnAt = rdn.end;
  }
  return out;
}

// Names compare as people read them: the same Unicode text (NFC, so a decomposed "ễ" equals the
// composed one), case-insensitive, surrounding and repeated spaces ignored.
export function sameName(a: string, b: string): boolean {
  const norm = (s: string) =>
    s.normalize('NFC').trim().replace(/\s+/g, ' ').toLocaleLowerCase('vi');
  return norm(a) === norm(b);
}

// Identity-document UID prefixes the individual profiles accept (config/profiles.json:
// uid.required_one_of), written PREFIX:NUMBER (policy/identifiers.cc).
export const IDENTITY_UID_PREFIXES = ['CCCD', 'CMND', 'HC', 'PID', 'PPID'] as const;

// What the CSR says of the person's identity document:
//   match    a UID CCCD:<the person's CCCD>
//   other    an identity UID with another number (shown)
//   serial   no identity UID, but a serialNumber: the individual profiles do not allow it
//            (subject.allowed), the CCCD belongs in UID as CCCD:<number>
//   missing  neither: the profiles require an identity UID (uid.required_one_of)
export type IdentityState = 'match' | 'other' | 'serial' | 'missing';

export interface SubjectCheck {
  commonName: string | null;
  nameMatches: boolean;
  identity: IdentityState;
  identityValue: string | null; // the UID or serialNumber found
}

// The CSR's subject against the person: CN against the full name, the identity UID against the
// CCCD. Throws CsrError for a CSR that cannot be read.
export function checkSubject(pem: string, fullName: string, personalId: string): SubjectCheck {
  const subject = csrSubject(pem);
  const cn = subject.find((a) => a.name === 'CN')?.value ?? null;
  const identityUids = subject
    .filter((a) => a.name === 'UID')
    .map((a) => a.value.trim())
    .filter((u) => (IDENTITY_UID_PREFIXES as readonly string[]).includes(u.split(':')[0] ?? ''));
  const serial = subject.find((a) => a.name === 'serialNumber')?.value.trim() ?? null;
  const want = `CCCD:${personalId.trim()}`;
  let identity: IdentityState = 'missing';
  let identityValue: string | null = null;
  if (personalId.trim() && identityUids.includes(want)) {
    identity = 'match';
    identityValue = want;
  } else if (identityUids.length) {
    identity = 'other';
    identityValue = identityUids[0] ?? null;
  } else if (serial) {
    identity = 'serial';
    identityValue = serial;
  }
  return {
    commonName: cn,
    nameMatches: cn !== null && fullName.trim() !== '' && sameName(cn, fullName),
    identity,
    identityValue,
  };
}
