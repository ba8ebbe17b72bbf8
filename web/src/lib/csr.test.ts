// The CSR subject reader against real CSRs made by OpenSSL 3.0 (`openssl req -new -utf8 -subj
// ...`): UTF8String Vietnamese names (EC P-256), BMPString names (RSA 2048: long-form lengths,
// made with string_mask = default), PrintableString with a serialNumber, and a decomposed (NFD)
// lower-case name. Malformed input throws CsrError and nothing else.
import { describe, expect, it } from 'vitest';
import { CsrError, checkSubject, csrDer, csrSubject, sameName } from './csr';

// openssl req -new -key ec.key -utf8 -subj "/C=VN/L=Bắc Giang/O=Sở Y tế tỉnh Bắc Giang/CN=Nguyễn Thị Ánh Dương/UID=CCCD:024190001234"
const UTF8 = `-----BEGIN CERTIFICATE REQUEST-----
MIIBUDCB+AIBADCBlTELMAkGA1UEBhMCVk4xFDASBgNVBAcMC0Lhuq9jIEdpYW5n
MScwJQYDVQQKDB5T4bufIFkgdOG6vyB04buJbmggQuG6r2MgR2lhbmcxJDAiBgNV
BAMMG05ndXnhu4VuIFRo4buLIMOBbmggRMawxqFuZzEhMB8GCgmSJomT8ixkAQEM
EUNDQ0Q6MDI0MTkwMDAxMjM0MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEN4c
r/z+S566DikxPBd8lUAK5rF79/yy0APePCRiefb1Z5gttSqZEznJ/a2zydo6Cz1z
ipqxRuoyS55ghQNa7aAAMAoGCCqGSM49BAMCA0cAMEQCIFRhNKaKmq+Mdds4Qj8g
z+kKHokWYbi+nDbDo+a28GHMAiBq40ASbE4BsOkSScGijwJCHQfwTTdiuB4HJLB+
GtJkrA==
-----END CERTIFICATE REQUEST-----`;

// openssl req -new -config (string_mask = default) -utf8 -key rsa2048.key -subj "/C=VN/O=Bộ Tài chính/CN=Trần Văn Bình/UID=CCCD:024090005678"
const BMP = `-----BEGIN CERTIFICATE REQUEST-----
MIICvTCCAaUCAQAweDELMAkGA1UEBhMCVk4xITAfBgNVBAoeGABCHtkAIABUAOAA
aQAgAGMAaADtAG4AaDEjMCEGA1UEAx4aAFQAch6nAG4AIABWAQMAbgAgAEIA7ABu
AGgxITAfBgoJkiaJk/IsZAEBExFDQ0NEOjAyNDA5MDAwNTY3ODCCASIwDQYJKoZI
hvcNAQEBBQADggEPADCCAQoCggEBAOvDZzcCMpUdCDZgz/D3uxkK7+J0B3DhCJvl
ALEhIL/6ciSoFmBNLp4sqjQ+gtSIT+xhh0sbQOg7+3b+RegoYcqXKbdFtG+u0cFu
3nonIzIKMPddWLbheIZLw10852Ajn4aFJhAp/UMVrYNJkRh6dxsCZ4UTBseew4rY
PrU5XBQJxDhiG1NAQrHRIrSc05DmK6xZ2NYmfJAtzk2K9u/eITw1NJFYCb90mmiX
uc4lVP/o6O9/4As2x+P7jTzINV6QboYHzaNjettwkWHkZnOphry3HOsr+A4G3t62
KUJxqpjw8htA6NKd4meb7Af5leGKziHSCAR/FMZnZHzwRoM/KdkCAwEAAaAAMA0G
CSqGSIb3DQEBCwUAA4IBAQBmCKH/nqaQDjsa5s1V2WLWREH7Qpg8zuKfmDqlpKRt
KAj7WtCuvS1B9B549nmnc1CsWPwlLgE5oEuyfdcTJ22om036Ht1WE4ws/Djr2ZgU
EYf0+pa+P1ge68KYjYPGNNLrdueuKgqnDZ+TV6N95MQat4EngWqMgFEQYaH1VmX7
DOBQIDvMJKJbLho90Rnw4JrF/DiNZItcnBTg1trm25NbpKankd0Vobwdt54y+uNq
MuvtIUVA7mNhY8Hc+rCRuv3O/1VY+wqKD4E+RmicWQ8nP2ndMfO04eeTrTE+8cGd
pf1HhfXQGYDo2DgTOQOexjzwoJu5NNLxoR4IZRB4Wvi1
-----END CERTIFICATE REQUEST-----`;

// openssl req -new -config (string_mask = default) -key ec.key -subj "/C=VN/O=So Y te/CN=Le Thi Dao/serialNumber=024190009876"
const PRINTABLE = `-----BEGIN CERTIFICATE REQUEST-----
MIIBBzCBrQIBADBLMQswCQYDVQQGEwJWTjEQMA4GA1UEChMHU28gWSB0ZTETMBEG
A1UEAxMKTGUgVGhpIERhbzEVMBMGA1UEBRMMMDI0MTkwMDA5ODc2MFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAEEN4cr/z+S566DikxPBd8lUAK5rF79/yy0APePCRi
efb1Z5gttSqZEznJ/a2zydo6Cz1zipqxRuoyS55ghQNa7aAAMAoGCCqGSM49BAMC
A0kAMEYCIQCOVSBduTO6a38dkjtnagh2LpFumhJIcrO2xMUkSfRfrwIhAM9aMn3o
8OQzcAV/AwF023yE+mcjuBc9p9gBVb1d0yQt
-----END CERTIFICATE REQUEST-----`;

// openssl req -new -key ec.key -utf8 -subj "/C=VN/CN=<NFD of 'nguyễn thị ánh dương'>/UID=CCCD:024190001234"
const NFD = `-----BEGIN CERTIFICATE REQUEST-----
MIIBFjCBvQIBADBbMQswCQYDVQQGEwJWTjEpMCcGA1UEAwwgbmd1eWXMgsyDbiB0
aGnMoyBhzIFuaCBkdcybb8ybbmcxITAfBgoJkiaJk/IsZAEBDBFDQ0NEOjAyNDE5
MDAwMTIzNDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABBDeHK/8/kueug4pMTwX
fJVACuaxe/f8stAD3jwkYnn29WeYLbUqmRM5yf2ts8naOgs9c4qasUbqMkueYIUD
Wu2gADAKBggqhkjOPQQDAgNIADBFAiEAoruVu9TGQZ8WF56UX1YrXsMi/lFTGq5W
sl9JYZL0vIsCIAbOHopWoNNxuys0BWbtbByBuoNDGq8ncsgv6Rb18X5d
-----END CERTIFICATE REQUEST-----`;

describe('csrSubject', () => {
  it('reads UTF8String Vietnamese attributes in order', () => {
    expect(csrSubject(UTF8)).toEqual([
      { oid: '2.5.4.6', name: 'C', value: 'VN' },
      { oid: '2.5.4.7', name: 'L', value: 'Bắc Giang' },
      { oid: '2.5.4.10', name: 'O', value: 'Sở Y tế tỉnh Bắc Giang' },
      { oid: '2.5.4.3', name: 'CN', value: 'Nguyễn Thị Ánh Dương' },
      { oid: '0.9.2342.19200300.100.1.1', name: 'UID', value: 'CCCD:024190001234' },
    ]);
  });

  it('reads BMPString names of an RSA 2048 request (long-form lengths)', () => {
    const s = csrSubject(BMP);
    expect(s.map((a) => `${a.name}=${a.value}`)).toEqual([
      'C=VN',
      'O=Bộ Tài chính',
      'CN=Trần Văn Bình',
      'UID=CCCD:024090005678',
    ]);
    expect(csrDer(BMP)[1]).toBe(0x82); // the outer SEQUENCE's length takes two bytes
  });

  it('reads PrintableString and serialNumber', () => {
    expect(csrSubject(PRINTABLE).map((a) => a.name)).toEqual(['C', 'O', 'CN', 'serialNumber']);
  });

  it('accepts the older NEW CERTIFICATE REQUEST label and surrounding text', () => {
    const old = UTF8.replace(/CERTIFICATE REQUEST/g, 'NEW CERTIFICATE REQUEST');
    expect(csrSubject('Subject: ...\n' + old + '\n').length).toBe(5);
  });
});

describe('checkSubject', () => {
  it('matches the person by name and CCCD', () => {
    expect(checkSubject(UTF8, 'Nguyễn Thị Ánh Dương', '024190001234')).toEqual({
      commonName: 'Nguyễn Thị Ánh Dương',
      nameMatches: true,
      identity: 'match',
      identityValue: 'CCCD:024190001234',
    });
  });

  it('compares names in NFC, case-insensitively, spaces collapsed', () => {
    const check = checkSubject(NFD, '  Nguyễn  Thị Ánh Dương ', '024190001234');
    expect(check.commonName).not.toBe('nguyễn thị ánh dương'); // decomposed in the CSR
    expect(check.nameMatches).toBe(true);
    expect(sameName('Đặng Văn Ơn', 'đặng văn ơn')).toBe(true);
    expect(sameName('Nguyễn Văn An', 'Nguyen Van An')).toBe(false); // tones matter
  });

  it('says which part differs', () => {
    const other = checkSubject(UTF8, 'Nguyễn Thị Ánh Dươn', '024190009999');
    expect(other.nameMatches).toBe(false);
    expect(other.identity).toBe('other');
    expect(other.identityValue).toBe('CCCD:024190001234');
    expect(checkSubject(BMP, 'Trần Văn Bình', '024090005678').identity).toBe('match');
  });

  it('flags a serialNumber where the profiles want a UID', () => {
    const check = checkSubject(PRINTABLE, 'Lê Thị Đào', '024190009876');
    expect(check.identity).toBe('serial');
    expect(check.identityValue).toBe('024190009876');
    expect(check.nameMatches).toBe(false);
  });
});

describe('malformed input', () => {
  const code = (pem: string) => {
    try {
      csrSubject(pem);
      return 'ok';
    } catch (e) {
      expect(e).toBeInstanceOf(CsrError);
      return (e as CsrError).code;
    }
  };

  it('names what is wrong', () => {
    expect(code('hello')).toBe('csr.not_pem');
    expect(
      code('-----BEGIN CERTIFICATE REQUEST-----\n!!!!\n-----END CERTIFICATE REQUEST-----'),
    ).toBe('csr.bad_base64');
    expect(
      code('-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----'),
    ).toBe('csr.malformed');
    // A truncated body: the base64 of the first 60 bytes only.
    const der = csrDer(UTF8);
    const cut = btoa(String.fromCharCode(...der.subarray(0, 60)));
    expect(
      code(`-----BEGIN CERTIFICATE REQUEST-----\n${cut}\n-----END CERTIFICATE REQUEST-----`),
    ).toBe('csr.malformed');
  });

  it('never throws anything but CsrError on mutated requests', () => {
    // A fixed-seed generator (xorshift32): the same 3000 mutants every run.
    let seed = 0x2545f491;
    const next = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 0x100000000;
    };
    const codes = new Set<string>();
    for (const source of [UTF8, BMP, PRINTABLE]) {
      const der = csrDer(source);
      for (let i = 0; i < 1000; i++) {
        const m = Uint8Array.from(der);
        const flips = 1 + Math.floor(next() * 4);
        for (let f = 0; f < flips; f++) m[Math.floor(next() * m.length)] = Math.floor(next() * 256);
        const len = next() < 0.2 ? Math.floor(next() * m.length) : m.length;
        const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${btoa(String.fromCharCode(...m.subarray(0, len)))}\n-----END CERTIFICATE REQUEST-----`;
        codes.add(code(pem));
      }
    }
    expect(codes.has('csr.malformed')).toBe(true);
  });
});
