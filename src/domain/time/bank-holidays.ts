/**
 * Bank holidays of England and Wales: the statutory rules (New Year, Easter, the May and August
 * Mondays, Christmas, with their substitute days) are code, right for any year; the days moved by
 * proclamation and the one-off days are data (content/bank-holidays.json), so a newly proclaimed day
 * needs an edit and a restart, not a release. The data is validated when it is read.
 */
import { z } from 'zod';

/** The proclaimed days, as validated from the data file. */
export interface ProclaimedDays {
  /** The last day of the last year the list was checked against (gov.uk lists about two years ahead). */
  readonly listedUntil: string;
  readonly moved: ReadonlyArray<{ readonly from: string; readonly to: string; readonly why: string }>;
  readonly oneOff: ReadonlyArray<{ readonly date: string; readonly why: string }>;
}

/** The bank holiday calendar the hours rules read. */
export interface BankHolidays {
  /** The England and Wales bank holidays of `year`, as YYYY-MM-DD strings. */
  readonly holidaysOf: (year: number) => ReadonlySet<string>;
  /** True when the calendar date YYYY-MM-DD is a bank holiday. */
  readonly isBankHoliday: (isoDate: string) => boolean;
  /** The last day the proclaimed days are known up to. */
  readonly listedUntil: string;
}

function iso(year: number, month: number, day: number): string {
  return new Date(Date.UTC(year, month - 1, day)).toISOString().slice(0, 10);
}

/** 0 = Sunday ... 6 = Saturday, for a calendar date (no time zone involved). */
function weekday(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay();
}

/** Easter Sunday (Gregorian, anonymous algorithm) as [month, day]. */
function easterSunday(year: number): [number, number] {
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
  return [month, day];
}

function firstMonday(year: number, month: number): number {
  const dow = weekday(year, month, 1);
  return 1 + ((8 - dow) % 7);
}

function lastMonday(year: number, month: number): number {
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const dow = weekday(year, month, last);
  return last - ((dow + 6) % 7);
}

/** The eight bank holidays the statutory rules give for `year` (before any proclamation). */
export function statutoryBankHolidays(year: number): string[] {
  const days: string[] = [];
  // New Year's Day, moved to the Monday when it falls at a weekend.
  const ny = weekday(year, 1, 1);
  days.push(iso(year, 1, ny === 6 ? 3 : ny === 0 ? 2 : 1));

  const [em, ed] = easterSunday(year);
  days.push(iso(year, em, ed - 2), iso(year, em, ed + 1));

  days.push(iso(year, 5, firstMonday(year, 5)), iso(year, 5, lastMonday(year, 5)), iso(year, 8, lastMonday(year, 8)));

  // Christmas and Boxing Day with their substitute days.
  const xmas = weekday(year, 12, 25);
  if (xmas === 6) days.push(iso(year, 12, 27), iso(year, 12, 28));
  else if (xmas === 0) days.push(iso(year, 12, 26), iso(year, 12, 27));
  else if (xmas === 5) days.push(iso(year, 12, 25), iso(year, 12, 28));
  else days.push(iso(year, 12, 25), iso(year, 12, 26));
  return days;
}

/** The calendar: the statutory rules with the proclaimed days applied. */
export function bankHolidayCalendar(proclaimed: ProclaimedDays): BankHolidays {
  const moves = new Map(proclaimed.moved.map((m) => [m.from, m.to]));
  const cache = new Map<number, ReadonlySet<string>>();
  const holidaysOf = (year: number): ReadonlySet<string> => {
    let days = cache.get(year);
    if (!days) {
      const set = new Set(statutoryBankHolidays(year).map((day) => moves.get(day) ?? day));
      for (const { date } of proclaimed.oneOff) if (date.startsWith(`${year}-`)) set.add(date);
      days = set;
      cache.set(year, days);
    }
    return days;
  };
  return {
    holidaysOf,
    isBankHoliday: (isoDate) => holidaysOf(Number(isoDate.slice(0, 4))).has(isoDate),
    listedUntil: proclaimed.listedUntil,
  };
}

/** True when the proclaimed days are listed for less than a year after `now`: time to check gov.uk. */
export function listEndsWithinYear(calendar: BankHolidays, now: Date): boolean {
  const yearAhead = new Date(now.getTime());
  yearAhead.setUTCFullYear(yearAhead.getUTCFullYear() + 1);
  return calendar.listedUntil < yearAhead.toISOString().slice(0, 10);
}

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((d) => iso(Number(d.slice(0, 4)), Number(d.slice(5, 7)), Number(d.slice(8, 10))) === d, 'is not a calendar date');
const why = z.string().trim().min(1, 'must say which proclamation');

/** The data file's shape, and the rules that keep it consistent with the statutory days. */
export const proclaimedDaysSchema = z
  .object({
    about: z.string().optional(),
    source: z.string().optional(),
    listedUntil: isoDate,
    moved: z.array(z.object({ from: isoDate, to: isoDate, why }).strict()),
    oneOff: z.array(z.object({ date: isoDate, why }).strict()),
  })
  .strict()
  .superRefine((data, ctx) => {
    const issue = (path: (string | number)[], message: string): void => ctx.addIssue({ code: z.ZodIssueCode.custom, path, message });
    const seen = new Set<string>();
    const once = (path: (string | number)[], day: string): void => {
      if (seen.has(day)) issue(path, `${day} is listed twice`);
      seen.add(day);
    };
    data.moved.forEach((m, i) => {
      const statutory = statutoryBankHolidays(Number(m.from.slice(0, 4)));
      if (!statutory.includes(m.from)) issue(['moved', i, 'from'], `${m.from} is not a statutory bank holiday, so it cannot be moved`);
      if (m.to.slice(0, 4) !== m.from.slice(0, 4)) issue(['moved', i, 'to'], 'must be in the same year as the day it replaces');
      if (statutory.includes(m.to)) issue(['moved', i, 'to'], `${m.to} is already a statutory bank holiday`);
      if (m.to > data.listedUntil) issue(['moved', i, 'to'], `is after listedUntil (${data.listedUntil})`);
      once(['moved', i, 'to'], m.to);
    });
    data.oneOff.forEach((o, i) => {
      if (statutoryBankHolidays(Number(o.date.slice(0, 4))).includes(o.date))
        issue(['oneOff', i, 'date'], `${o.date} is already a statutory bank holiday`);
      if (o.date > data.listedUntil) issue(['oneOff', i, 'date'], `is after listedUntil (${data.listedUntil})`);
      once(['oneOff', i, 'date'], o.date);
    });
  });
