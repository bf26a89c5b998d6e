/**
 * Bank holidays of England and Wales, computed from the statutory rules plus the proclaimed
 * moves and one-off days, so they are right for any year without a network call.
 */

/** Proclaimed moves of a regular bank holiday: rule date -> actual date. */
const moved: Readonly<Record<string, string>> = {
  '1995-05-01': '1995-05-08', // VE Day 50th anniversary
  '2002-05-27': '2002-06-04', // Golden Jubilee
  '2012-05-28': '2012-06-04', // Diamond Jubilee
  '2020-05-04': '2020-05-08', // VE Day 75th anniversary
  '2022-05-30': '2022-06-02', // Platinum Jubilee
};

/** Proclaimed one-off bank holidays. */
const oneOff: readonly string[] = [
  '1999-12-31', // Millennium
  '2002-06-03', // Golden Jubilee
  '2011-04-29', // Royal wedding
  '2012-06-05', // Diamond Jubilee
  '2022-06-03', // Platinum Jubilee
  '2022-09-19', // State funeral of Queen Elizabeth II
  '2023-05-08', // Coronation of King Charles III
];

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

const cache = new Map<number, ReadonlySet<string>>();

/** The England and Wales bank holidays of `year`, as YYYY-MM-DD strings. */
export function bankHolidaysOf(year: number): ReadonlySet<string> {
  const cached = cache.get(year);
  if (cached) return cached;
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

  const result = new Set(days.map((day) => moved[day] ?? day));
  for (const day of oneOff) if (day.startsWith(`${year}-`)) result.add(day);
  cache.set(year, result);
  return result;
}

/** True when the calendar date YYYY-MM-DD is a bank holiday in England and Wales. */
export function isBankHoliday(isoDate: string): boolean {
  return bankHolidaysOf(Number(isoDate.slice(0, 4))).has(isoDate);
}
