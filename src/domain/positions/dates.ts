/**
 * Calendar days as pagoPA speaks them: `YYYY-MM-DD`, in the municipality's time zone.
 *
 * Why Europe/Rome and not UTC: "within 5 days of notification" and due dates are Italian calendar
 * days; a payment made at 00:30 in Rome on the 6th is on the 6th, although UTC still says the 5th.
 */

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

const romeFormat = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/Rome',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** The calendar day in Rome at `instant`, as `YYYY-MM-DD`. */
export function romeDate(instant: Date): string {
  // en-CA formats as YYYY-MM-DD.
  return romeFormat.format(instant);
}

/** Whether `text` is a real calendar day written `YYYY-MM-DD` (no 2026-02-30). */
export function isIsoDate(text: string): boolean {
  const m = ISO_DATE.exec(text);
  if (m === null) return false;
  const [, y, mo, d] = m.map(Number) as [number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/** `date` plus `days` calendar days (negative goes back). `date` must be `YYYY-MM-DD`. */
export function addDays(date: string, days: number): string {
  const [y = 0, m = 1, d = 1] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}
