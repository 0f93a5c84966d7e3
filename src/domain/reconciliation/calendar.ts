/**
 * Italian working days, for the D+4 rule of reporting flows (PAGOPA.md §11: a PSP may overwrite a
 * flow until D+4, so a receipt with no flow line after four working days is LATE).
 *
 * Why computed, not a table: the national holidays are fixed dates plus Easter Monday, and Easter
 * follows the Gregorian computus (Meeus/Jones/Butcher), so any year works without maintenance.
 * Local patron saints' days are not national holidays and are not counted.
 */

/** Fixed national holidays, as MM-DD. */
const FIXED_HOLIDAYS = new Set([
  '01-01', // Capodanno
  '01-06', // Epifania
  '04-25', // Liberazione
  '05-01', // Festa del lavoro
  '06-02', // Festa della Repubblica
  '08-15', // Ferragosto
  '11-01', // Ognissanti
  '12-08', // Immacolata
  '12-25', // Natale
  '12-26', // Santo Stefano
]);

const DAY_MS = 86_400_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Easter Sunday of a Gregorian year, as YYYY-MM-DD. */
export function easterSunday(year: number): string {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function toUtc(isoDate: string): number {
  const m = ISO_DATE.exec(isoDate);
  if (m === null) throw new RangeError(`not a YYYY-MM-DD date: ${isoDate}`);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
}

const fromUtc = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** YYYY-MM-DD plus `days` calendar days. */
export function addDays(isoDate: string, days: number): string {
  return fromUtc(toUtc(isoDate) + days * DAY_MS);
}

/** True on Saturdays, Sundays, national holidays and Easter Monday. */
export function isItalianNonWorkingDay(isoDate: string): boolean {
  const weekday = new Date(toUtc(isoDate)).getUTCDay();
  if (weekday === 0 || weekday === 6) return true;
  if (FIXED_HOLIDAYS.has(isoDate.slice(5))) return true;
  return isoDate === addDays(easterSunday(Number(isoDate.slice(0, 4))), 1);
}

/**
 * The date `n` working days after `isoDate` (n ≥ 0): D+4 of a Friday is the next Thursday.
 * @throws RangeError for a malformed date.
 */
export function addWorkingDays(isoDate: string, n: number): string {
  let day = isoDate;
  toUtc(day);
  for (let left = n; left > 0;) {
    day = addDays(day, 1);
    if (!isItalianNonWorkingDay(day)) left -= 1;
  }
  return day;
}

const romeDate = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/Rome',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** The calendar day (YYYY-MM-DD) of an instant in Italy. */
export function italianDate(at: Date): string {
  return romeDate.format(at);
}
