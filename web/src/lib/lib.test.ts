import { describe, expect, it } from 'vitest';
import { isBudgetCode, isEmail, isPersonalId, isTaxCode, isVnMobile } from './validators';
import { compareVi, formatDate, formatDateTime, formatMonth, sortByVi } from './format';
import { csvField, toCsv } from './csv';
import { workingDaysUntil, isOverdue } from './workdays';
import { derToPem, pemToDer } from './download';

describe('validators', () => {
  it('CCCD is exactly 12 digits', () => {
    expect(isPersonalId('001099012345')).toBe(true);
    expect(isPersonalId('00109901234')).toBe(false);
    expect(isPersonalId('0010990123456')).toBe(false);
    expect(isPersonalId('00109901234a')).toBe(false);
  });
  it('MST is 10 or 13 digits, or a branch 0123456789-001', () => {
    expect(isTaxCode('0100109106')).toBe(true);
    expect(isTaxCode('0100109106001')).toBe(true);
    expect(isTaxCode('0123456789-001')).toBe(true);
    expect(isTaxCode('012345678')).toBe(false);
    expect(isTaxCode('01234567890')).toBe(false);
    expect(isTaxCode('0123456789-01')).toBe(false);
  });
  it('MNS is 7 digits', () => {
    expect(isBudgetCode('1234567')).toBe(true);
    expect(isBudgetCode('123456')).toBe(false);
  });
  it('email', () => {
    expect(isEmail('an@soyte.danang.gov.vn')).toBe(true);
    expect(isEmail('an@')).toBe(false);
    expect(isEmail('a n@x.vn')).toBe(false);
  });
  it('Vietnamese mobile numbers', () => {
    expect(isVnMobile('0905123456')).toBe(true);
    expect(isVnMobile('+84 905 123 456')).toBe(true);
    expect(isVnMobile('0912.345.678')).toBe(true);
    expect(isVnMobile('0205123456')).toBe(false); // landline prefix
    expect(isVnMobile('090512345')).toBe(false);
  });
});

describe('format', () => {
  it('dd/MM/yyyy HH:mm:ss in Vietnam time whatever the browser zone', () => {
    expect(formatDateTime('2026-12-31T17:30:05Z')).toBe('01/01/2027 00:30:05');
    expect(formatDateTime('2026-03-09T01:02:03Z')).toBe('09/03/2026 08:02:03');
    expect(formatDate('2026-03-09T01:02:03Z')).toBe('09/03/2026');
    expect(formatDateTime(null)).toBe('—');
    expect(formatDateTime('not a date')).toBe('—');
    expect(formatMonth('2026-02')).toBe('02/2026');
  });
  it('sorts names with Vietnamese collation', () => {
    const names = ['Đỗ Văn Bình', 'Dương Thị Lan', 'Ánh', 'Bùi Minh', 'An', 'Ân'];
    // Đ sorts after D in Vietnamese (a separate letter), unlike a code-point sort.
    const sorted = sortByVi(names, (n) => n);
    expect(sorted.indexOf('Dương Thị Lan')).toBeLessThan(sorted.indexOf('Đỗ Văn Bình'));
    expect(sorted.indexOf('Bùi Minh')).toBeLessThan(sorted.indexOf('Dương Thị Lan'));
    expect(compareVi('a', 'b')).toBeLessThan(0);
  });
});

describe('csv (RFC 4180)', () => {
  it('quotes commas, quotes and line breaks, and defuses formulas', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('CN=Trần Văn An,O=Bộ Tài chính')).toBe('"CN=Trần Văn An,O=Bộ Tài chính"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('=HYPERLINK("x")')).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvField(null)).toBe('');
    expect(toCsv(['a', 'b'], [[1, 'x,y']])).toBe('a,b\r\n1,"x,y"\r\n');
  });
});

describe('working days', () => {
  // Monday 07/12/2026 10:00 Vietnam time.
  const monday = Date.parse('2026-12-07T03:00:00Z');
  it('counts Monday to Friday only', () => {
    expect(workingDaysUntil('2026-12-08T03:00:00Z', monday)).toBe(1); // Tuesday
    expect(workingDaysUntil('2026-12-14T03:00:00Z', monday)).toBe(5); // next Monday
    expect(workingDaysUntil('2026-12-07T09:00:00Z', monday)).toBe(0); // today
    expect(workingDaysUntil('2026-12-04T03:00:00Z', monday)).toBe(-1); // last Friday
  });
  it('overdue only while the request is being handled', () => {
    expect(isOverdue('submitted', '2026-12-04T03:00:00Z', monday)).toBe(true);
    expect(isOverdue('executed', '2026-12-04T03:00:00Z', monday)).toBe(false);
    expect(isOverdue('submitted', null, monday)).toBe(false);
  });
});

describe('certificate encodings', () => {
  it('PEM and DER round-trip', () => {
    const der = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x05]);
    const pem = derToPem(der);
    expect(pem.startsWith('-----BEGIN CERTIFICATE-----\n')).toBe(true);
    expect(Array.from(pemToDer(pem))).toEqual(Array.from(der));
  });
});

import { checkField } from './fields';
describe('form fields as you type', () => {
  it('reports the first problem by catalog key', () => {
    expect(checkField('personal_id', true, '')).toBe('field.required');
    expect(checkField('personal_id', false, '')).toBe(null);
    expect(checkField('personal_id', true, '12345')).toBe('field.bad.personal_id');
    expect(checkField('personal_id', true, '048090001234')).toBe(null);
    expect(checkField('mobile', true, '0905123456')).toBe(null);
    expect(checkField('email', true, 'x@')).toBe('field.bad.email');
    expect(checkField('date', false, '2026-13-45')).toBe('field.bad.date');
    expect(checkField('csr', true, 'hello')).toBe('field.bad.csr');
    expect(checkField('reason', true, 'keyCompromise')).toBe(null);
    expect(checkField('integer', false, '0')).toBe('field.bad.integer');
  });
});
