import { ref } from 'vue';
import { vi } from './vi';
import { en } from './en';
import type { Catalog, MessageKey } from './catalog';

export type { MessageKey } from './catalog';
export type Locale = 'vi' | 'en';

const catalogs: Record<Locale, Catalog> = { vi, en };
const COOKIE = 'kyso_lang';

function initialLocale(): Locale {
  if (typeof document === 'undefined') return 'vi';
  const match = document.cookie.match(/(?:^|;\s*)kyso_lang=(vi|en)/);
  return match?.[1] === 'en' ? 'en' : 'vi';
}

export const locale = ref<Locale>(initialLocale());

// The language choice is a preference, not a secret: a cookie read by the page only.
export function setLocale(next: Locale): void {
  locale.value = next;
  if (typeof document !== 'undefined') {
    const secure = location.protocol === 'https:' ? '; Secure' : '';
    document.cookie = `${COOKIE}=${next}; Path=/; Max-Age=31536000; SameSite=Lax${secure}`;
    document.documentElement.lang = next;
  }
}

export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  const text = catalogs[locale.value][key] ?? vi[key];
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

// A catalog key built at run time (a state, a role, an error id), or undefined.
export function hasKey(key: string): key is MessageKey {
  return Object.prototype.hasOwnProperty.call(vi, key);
}

export function tOr(key: string, fallback: string, params: Record<string, string | number> = {}) {
  return hasKey(key) ? t(key, params) : fallback;
}
