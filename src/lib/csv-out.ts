/**
 * Writing CSV (RFC 4180) that spreadsheets open safely: a cell starting with `=`, `+`, `-`,
 * `@`, a tab or a carriage return gets a leading `'`, so that it is read as text and never
 * as a formula (OWASP "CSV injection"); cells with a comma, quote or line break are quoted.
 */
export function csvCell(value: unknown): string {
  let text = value === null || value === undefined ? "" : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(cells: unknown[]): string {
  return `${cells.map(csvCell).join(",")}\r\n`;
}
