// Field checks as the user types, the same rules as the server's form validation (ra/kinds.cc):
// the server stays the authority; these only say early what it would refuse.
export type Check = (value: string) => string | null; // null: fine; else a message key suffix

// Số định danh cá nhân (CCCD): 12 digits.
export function isPersonalId(v: string): boolean {
  return /^\d{12}$/.test(v.trim());
}

// Mã số thuế: 10 digits, 13 digits, or a branch "0123456789-001".
export function isTaxCode(v: string): boolean {
  return /^(\d{10}|\d{13}|\d{10}-\d{3})$/.test(v.trim());
}

// Mã đơn vị quan hệ ngân sách: 7 digits.
export function isBudgetCode(v: string): boolean {
  return /^\d{7}$/.test(v.trim());
}

export function isEmail(v: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v.trim()) && v.trim().length <= 254;
}

// Vietnamese mobile: 0 or +84 then 9 digits starting 3, 5, 7, 8 or 9.
export function isVnMobile(v: string): boolean {
  const s = v.replace(/[\s.-]/g, '');
  return /^(0|\+84|84)(3|5|7|8|9)\d{8}$/.test(s);
}
