/**
 * Calendar arithmetic on plain dates (no zone involved) for time-phrase reading: adding days,
 * weekdays, the date a day word means relative to today, and short en-GB day labels for notes.
 */
import type { DayRef } from './time-tokens';

/** A calendar date: year, month 1-12, day 1-31. */
export interface Ymd {
  readonly y: number;
  readonly m: number;
  readonly d: number;
}

/** The date `days` calendar days after (or before) `date`. */
export function addDays(date: Ymd, days: number): Ymd {
  const t = new Date(Date.UTC(date.y, date.m - 1, date.d + days));
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

/** Monday = 1 ... Sunday = 7. */
export function weekdayOf(date: Ymd): number {
  return new Date(Date.UTC(date.y, date.m - 1, date.d)).getUTCDay() || 7;
}

/** Negative, zero or positive as `a` is before, on or after `b`. */
export function compareYmd(a: Ymd, b: Ymd): number {
  return a.y - b.y || a.m - b.m || a.d - b.d;
}

/** Whether year-month-day is a real date (no 31 April, 29 February only in leap years). */
export function validDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1 || day > 31) return false;
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

/** Weekday names by luxon's numbering (Monday = 1). */
export const weekdayNames = ['', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** The calendar date a day word means, relative to today (null for a date that never comes). */
export function dateOf(ref: DayRef, today: Ymd): Ymd | null {
  switch (ref.type) {
    case 'today':
      return today;
    case 'offset':
      return addDays(today, ref.days);
    case 'weekday': {
      const wd = weekdayOf(today);
      if (ref.mode === 'next') return addDays(today, ((ref.weekday - wd + 7) % 7) + (ref.weekLater ? 7 : 0));
      if (ref.mode === 'last') return addDays(today, -((wd - ref.weekday + 7) % 7 || 7));
      // The weekday in next Monday-to-Sunday week.
      return addDays(today, 7 - wd + ref.weekday);
    }
    case 'weekend': {
      const wd = weekdayOf(today);
      if (ref.nextWeek) return addDays(today, 7 - wd + 6);
      return wd === 7 ? today : addDays(today, 6 - wd);
    }
    case 'date': {
      if (ref.year !== null) return validDate(ref.year, ref.month, ref.day) ? { y: ref.year, m: ref.month, d: ref.day } : null;
      // The next occurrence, today included (29 Feb: the next leap year's).
      for (let y = today.y; y < today.y + 8; y++) {
        const date = { y, m: ref.month, d: ref.day };
        if (validDate(y, ref.month, ref.day) && compareYmd(date, today) >= 0) return date;
      }
      return null;
    }
  }
}

const weekdayShort = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
/** en-GB month abbreviations, as luxon and describeInstant write them ("Sept"). */
export const monthShort = ['', 'Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sept', 'Oct', 'Nov', 'Dec'];

/** "Sun 29 Mar" (and " 2026" with the year). */
export function dayLabel(date: Ymd, withYear: boolean): string {
  const label = `${weekdayShort[weekdayOf(date)] ?? ''} ${date.d} ${monthShort[date.m] ?? ''}`;
  return withYear ? `${label} ${date.y}` : label;
}
