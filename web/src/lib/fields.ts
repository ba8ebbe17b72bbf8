// Checks a form field as the user types, by the server's check name (GET /api/v1/request-kinds,
// ra/kinds.cc). Returns the catalog key of the problem, or null.
import type { MessageKey } from '../i18n';
import { isBudgetCode, isEmail, isPersonalId, isTaxCode, isVnMobile } from './validators';

export type FieldCheck =
  | 'text'
  | 'long_text'
  | 'personal_id'
  | 'tax_code'
  | 'budget_code'
  | 'email'
  | 'mobile'
  | 'date'
  | 'csr'
  | 'reason'
  | 'integer';

export const REVOCATION_REASONS = [
  'unspecified',
  'keyCompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'privilegeWithdrawn',
] as const;

export function checkField(check: FieldCheck, required: boolean, raw: string): MessageKey | null {
  const v = raw.trim();
  if (!v) return required ? 'field.required' : null;
  switch (check) {
    case 'personal_id':
      return isPersonalId(v) ? null : 'field.bad.personal_id';
    case 'tax_code':
      return isTaxCode(v) ? null : 'field.bad.tax_code';
    case 'budget_code':
      return isBudgetCode(v) ? null : 'field.bad.budget_code';
    case 'email':
      return isEmail(v) ? null : 'field.bad.email';
    case 'mobile':
      return isVnMobile(v) ? null : 'field.bad.mobile';
    case 'date':
      return /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v))
        ? null
        : 'field.bad.date';
    case 'csr':
      return /^-----BEGIN (NEW )?CERTIFICATE REQUEST-----[\s\S]+-----END (NEW )?CERTIFICATE REQUEST-----$/.test(
        v,
      )
        ? null
        : 'field.bad.csr';
    case 'integer':
      return /^[1-9]\d{0,5}$/.test(v) ? null : 'field.bad.integer';
    case 'reason':
      return (REVOCATION_REASONS as readonly string[]).includes(v) ? null : 'field.bad.reason';
    default:
      return null;
  }
}
