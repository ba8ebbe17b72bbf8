import { ApiError } from '../api/client';
import { t, tOr } from '../i18n';

// The Vietnamese (or English) message for an API error id; the server's message when the
// catalog has none.
export function errorText(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.code === 'network') return t('error.network');
    return tOr('error.' + e.code, t('error.generic', { message: e.message || e.code }));
  }
  if (e instanceof TypeError) return t('error.network');
  return t('error.generic', { message: e instanceof Error ? e.message : String(e) });
}
