/**
 * The audit trail as CSV, for the PACS manager (`npm run audit -- --since 2026-11-01`).
 */
import type { AuditEvent } from '../ports/store-port';

/** The CSV columns, in order. */
export const auditColumns = [
  'time',
  'action',
  'teams_user_id',
  'entra_object_id',
  'display_name',
  'nhs_number',
  'site',
  'studies',
  'outcome',
] as const;

/** One CSV field: quoted when it holds a comma, quote or line break; formula-looking text is defused. */
function field(value: string | null): string {
  let text = value ?? '';
  // A cell starting with = + - @ would run as a formula in a spreadsheet.
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The events as CSV text with a header line (CRLF line ends, as RFC 4180 says). */
export function auditCsv(events: readonly AuditEvent[]): string {
  const lines = [auditColumns.join(',')];
  for (const e of events) {
    lines.push(
      [e.at, e.action, e.teamsUserId, e.entraObjectId, e.displayName, e.nhsNumber, e.site, e.studies.join(' '), e.outcome]
        .map(field)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}
