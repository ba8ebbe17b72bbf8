import { describe, expect, it } from 'vitest';
import { vi as viCatalog } from './vi';
import { en } from './en';
import { setLocale, t, tOr } from './index';

describe('catalogs', () => {
  it('have the same keys (the compiler checks it too) and no empty text', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(viCatalog).sort());
    for (const v of [...Object.values(viCatalog), ...Object.values(en)])
      expect(v.trim()).not.toBe('');
  });
  it('use the glossary: chứng thư số, never giấy chứng nhận', () => {
    for (const v of Object.values(viCatalog)) expect(v).not.toMatch(/giấy chứng nhận/i);
  });
  it('interpolates and switches language', () => {
    setLocale('vi');
    expect(t('req.deadline', { n: 3 })).toBe('Còn 3 ngày làm việc');
    setLocale('en');
    expect(t('req.deadline', { n: 3 })).toBe('3 working days left');
    expect(document.cookie).toContain('kyso_lang=en');
    expect(tOr('error.no.such.id', 'server text')).toBe('server text');
    setLocale('vi');
  });
});
