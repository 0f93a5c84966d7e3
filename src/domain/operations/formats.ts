import type { AuditLine } from './types';

/**
 * Pure formatting shared by the three doors: amounts, ages, pretty XML and the audit CSV.
 */

/** Integer cents as a decimal string with two digits (`1230` → `12.30`). */
export function centsToDecimal(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** A short human age: `45s`, `12m`, `3h`, `2d`. */
export function humanAge(from: Date, now: Date = new Date()): string {
  const seconds = Math.max(0, Math.round((now.getTime() - from.getTime()) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7_200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3_600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

/** Markup is at most this long before pretty-printing gives up and shows it as it is. */
const PRETTY_MAX_CHARS = 2_000_000;

/**
 * Indents XML for reading: one element per line, text kept inline with its element. It only
 * re-spaces what is between tags (whitespace-only text), so the content is unchanged; markup it
 * does not understand is returned as is.
 */
export function prettyXml(xml: string): string {
  if (xml.length > PRETTY_MAX_CHARS) return xml;
  const tokens = xml
    .replace(/>\s+</g, '><')
    .trim()
    .split(/(<[^>]+>)/)
    .filter((t) => t !== '');
  const lines: string[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i] ?? '';
    const pad = '  '.repeat(depth);
    if (token.startsWith('</')) {
      depth = Math.max(0, depth - 1);
      lines.push(`${'  '.repeat(depth)}${token}`);
    } else if (token.startsWith('<?') || token.startsWith('<!') || token.endsWith('/>')) {
      lines.push(`${pad}${token}`);
    } else if (token.startsWith('<')) {
      const text = tokens[i + 1];
      const close = tokens[i + 2];
      if (text !== undefined && !text.startsWith('<') && close?.startsWith('</') === true) {
        lines.push(`${pad}${token}${text}${close}`);
        i += 2;
      } else {
        lines.push(`${pad}${token}`);
        depth += 1;
      }
    } else {
      lines.push(`${pad}${token}`);
    }
  }
  return lines.join('\n');
}

export const AUDIT_CSV_HEADER = [
  'id',
  'occurred_at',
  'actor',
  'action',
  'subject_type',
  'subject_id',
  'reason',
  'before',
  'after',
] as const;

/**
 * One RFC 4180 field: quoted when it holds a comma, quote or line break. A leading `=`, `+`, `-`
 * or `@` gets a `'` in front, so a spreadsheet never runs an audit field as a formula.
 */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** One audit line as a CSV row (CRLF-terminated), before/after as compact JSON. */
export function auditCsvRow(line: AuditLine): string {
  const json = (v: unknown): string => (v === null || v === undefined ? '' : JSON.stringify(v));
  return `${[
    String(line.id),
    line.occurredAt.toISOString(),
    line.actor,
    line.action,
    line.subjectType,
    line.subjectId,
    line.reason ?? '',
    json(line.before),
    json(line.after),
  ]
    .map(csvField)
    .join(',')}\r\n`;
}

export const auditCsvHeader = (): string => `${AUDIT_CSV_HEADER.join(',')}\r\n`;
