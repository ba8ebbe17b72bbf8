// RFC 4180 CSV: CRLF line ends; a field with a comma, quote, CR or LF is quoted, its quotes
// doubled. A leading = + - @ gets a quote-prefixed apostrophe so a spreadsheet does not run it
// as a formula (OWASP CSV injection).
export function csvField(value: unknown): string {
  let s = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

export function toCsv(header: string[], rows: unknown[][]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}
