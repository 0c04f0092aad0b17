import type { ReconciliationItem } from './reconciliation.js';

/** The CSV columns of a reconciliation download, one row per order × route. */
export const CSV_COLUMNS = [
  'day',
  'plant',
  'order',
  'reported_events',
  'route',
  'sink',
  'expected',
  'delivered',
  'pending',
  'dlq',
  'rejected',
  'missing',
  'filtered_out',
  'differences',
  'system_count',
  'system_missing',
  'system_unknown',
  'system_error',
] as const;

/**
 * One cell: quoted when it holds a separator, quote or line break; a leading `=`, `+`, `-`, `@`
 * gets a `'` so a spreadsheet shows it rather than evaluating it.
 */
function cell(value: string | number): string {
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The items as CSV (RFC 4180, CRLF line ends) with a header row. */
export function reconciliationCsv(items: readonly ReconciliationItem[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const item of items) {
    const head = [item.day, item.plant, item.order, item.reported.events];
    if (item.systems.length === 0) {
      lines.push([...head, ...CSV_COLUMNS.slice(head.length).map(() => '')].map(cell).join(','));
      continue;
    }
    for (const s of item.systems) {
      const differences = item.differences
        .filter((d) => d.route === s.route)
        .map((d) => `${d.kind}:${d.count}`)
        .join(' ');
      const sor = s.systemOfRecord;
      const answered = sor && 'count' in sor ? sor : null;
      lines.push(
        [
          ...head,
          s.route,
          s.sink,
          s.expected,
          s.delivered,
          s.pending,
          s.dlq,
          s.rejected,
          s.missing,
          s.filteredOut,
          differences,
          answered ? answered.count : '',
          answered ? answered.missingInSystem.join(' ') : '',
          answered ? answered.unknownToHub.join(' ') : '',
          sor && 'error' in sor ? sor.error : '',
        ]
          .map(cell)
          .join(','),
      );
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}
