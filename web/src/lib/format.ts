// Dates as officials write them: dd/MM/yyyy HH:mm:ss in Vietnam time (UTC+07:00, no DST),
// whatever the browser's time zone. Numbers with '.' grouping thousands.
const VN_OFFSET_MS = 7 * 3600 * 1000;

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

export function formatDateTime(value: string | number | Date | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  const ms = value instanceof Date ? value.getTime() : new Date(value).getTime();
  if (Number.isNaN(ms)) return '—';
  const d = new Date(ms + VN_OFFSET_MS);
  return (
    `${pad(d.getUTCDate())}/${pad(d.getUTCMonth() + 1)}/${d.getUTCFullYear()} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
  );
}

export function formatDate(value: string | number | Date | null | undefined): string {
  const full = formatDateTime(value);
  return full === '—' ? full : full.slice(0, 10);
}

// "2026-12" → "12/2026"
export function formatMonth(yyyyMm: string): string {
  const [y, m] = yyyyMm.split('-');
  return m && y ? `${m}/${y}` : yyyyMm;
}

export function formatNumber(n: number): string {
  return new Intl.NumberFormat('vi-VN').format(n);
}

// Whole days from now until `value` (negative when past).
export function daysUntil(value: string, now: number = Date.now()): number {
  return Math.floor((new Date(value).getTime() - now) / 86400000);
}

const collator = new Intl.Collator('vi', { sensitivity: 'base', numeric: true });

export function compareVi(a: string, b: string): number {
  return collator.compare(a, b);
}

export function sortByVi<T>(items: readonly T[], key: (item: T) => string): T[] {
  return [...items].sort((a, b) => compareVi(key(a), key(b)));
}
