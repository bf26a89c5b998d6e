import Holidays from 'date-holidays';
import fs from 'node:fs';
import { bankHolidaysFileFor } from '../../src/adapters/guide-file';
import { GuideError, parseBankHolidays } from '../../src/domain/guide/guide';
import { listEndsWithinYear, type ProclaimedDays } from '../../src/domain/time/bank-holidays';
import { guideFile, realGuide } from '../support/fixtures';

/** The calendar the bot ships with: the statutory rules in code plus content/bank-holidays.json. */
const { holidaysOf: bankHolidaysOf, isBankHoliday } = realGuide().bankHolidays;

/** Day of the week of a calendar date, 0 = Sunday ... 6 = Saturday (no time zone involved). */
function weekdayOf(isoDate: string): number {
  return new Date(`${isoDate}T00:00:00Z`).getUTCDay();
}

function sorted(days: Iterable<string>): string[] {
  return [...days].sort();
}

describe('bankHolidaysOf: England and Wales, known years', () => {
  it('gives the eight 2026 bank holidays, with Boxing Day (a Saturday) substituted by Monday 28 December', () => {
    expect(sorted(bankHolidaysOf(2026))).toEqual([
      '2026-01-01', // New Year's Day (Thursday)
      '2026-04-03', // Good Friday
      '2026-04-06', // Easter Monday
      '2026-05-04', // Early May bank holiday
      '2026-05-25', // Spring bank holiday
      '2026-08-31', // Summer bank holiday
      '2026-12-25', // Christmas Day (Friday)
      '2026-12-28', // Boxing Day (substitute day)
    ]);
  });

  it('gives 2027 with both Christmas substitutes (25 Dec is a Saturday, 26 Dec a Sunday)', () => {
    expect(sorted(bankHolidaysOf(2027))).toEqual([
      '2027-01-01',
      '2027-03-26', // Good Friday
      '2027-03-29', // Easter Monday
      '2027-05-03',
      '2027-05-31',
      '2027-08-30',
      '2027-12-27', // Christmas Day (substitute day)
      '2027-12-28', // Boxing Day (substitute day)
    ]);
  });

  it('gives 2022 with the Platinum Jubilee move and one-off days and the state funeral', () => {
    expect(sorted(bankHolidaysOf(2022))).toEqual([
      '2022-01-03', // New Year's Day (substitute day; 1 Jan was a Saturday)
      '2022-04-15',
      '2022-04-18',
      '2022-05-02',
      '2022-06-02', // Spring bank holiday moved from Monday 30 May
      '2022-06-03', // Platinum Jubilee
      '2022-08-29',
      '2022-09-19', // State funeral of Queen Elizabeth II
      '2022-12-26', // Boxing Day (Monday)
      '2022-12-27', // Christmas Day (substitute day; 25 Dec was a Sunday)
    ]);
  });

  it('gives 2023 with the coronation of King Charles III', () => {
    expect(sorted(bankHolidaysOf(2023))).toEqual([
      '2023-01-02', // New Year's Day (substitute day; 1 Jan was a Sunday)
      '2023-04-07',
      '2023-04-10',
      '2023-05-01',
      '2023-05-08', // Coronation
      '2023-05-29',
      '2023-08-28',
      '2023-12-25',
      '2023-12-26',
    ]);
  });

  it('gives 2020 with the early May bank holiday moved to Friday 8 May (VE Day 75)', () => {
    expect(sorted(bankHolidaysOf(2020))).toEqual([
      '2020-01-01',
      '2020-04-10',
      '2020-04-13',
      '2020-05-08',
      '2020-05-25',
      '2020-08-31',
      '2020-12-25',
      '2020-12-28', // Boxing Day (substitute day; 26 Dec was a Saturday)
    ]);
  });

  it('gives 2012 and 2002 with the jubilee moves (spring bank holiday on Monday 4 June / Tuesday 4 June)', () => {
    const y2012 = bankHolidaysOf(2012);
    expect(y2012.has('2012-06-04')).toBe(true);
    expect(y2012.has('2012-06-05')).toBe(true);
    expect(y2012.has('2012-05-28')).toBe(false);
    expect(y2012.has('2012-01-02')).toBe(true); // 1 Jan 2012 was a Sunday
    expect(y2012.size).toBe(9);

    const y2002 = bankHolidaysOf(2002);
    expect(y2002.has('2002-06-03')).toBe(true);
    expect(y2002.has('2002-06-04')).toBe(true);
    expect(y2002.has('2002-05-27')).toBe(false);
    expect(y2002.size).toBe(9);
  });

  it('gives the 2011 royal wedding day (Friday 29 April)', () => {
    expect(bankHolidaysOf(2011).has('2011-04-29')).toBe(true);
    expect(bankHolidaysOf(2011).size).toBe(9);
  });

  it("handles a New Year's Day on a Saturday (2028: Monday 3 January) and on a Sunday (2034: Monday 2 January)", () => {
    expect(weekdayOf('2028-01-01')).toBe(6);
    expect(bankHolidaysOf(2028).has('2028-01-03')).toBe(true);
    expect(bankHolidaysOf(2028).has('2028-01-01')).toBe(false);
    expect(weekdayOf('2034-01-01')).toBe(0);
    expect(bankHolidaysOf(2034).has('2034-01-02')).toBe(true);
    expect(bankHolidaysOf(2034).has('2034-01-01')).toBe(false);
  });

  it('handles early and late Easters and Easter dates that cross a month boundary', () => {
    // Easter Sunday 2008 was 23 March, 2038 is 25 April (the latest possible date).
    expect(bankHolidaysOf(2008).has('2008-03-21')).toBe(true);
    expect(bankHolidaysOf(2008).has('2008-03-24')).toBe(true);
    expect(bankHolidaysOf(2038).has('2038-04-23')).toBe(true);
    expect(bankHolidaysOf(2038).has('2038-04-26')).toBe(true);
    // Easter Sunday on 31 March: Easter Monday rolls over into April (2024).
    expect(bankHolidaysOf(2024).has('2024-03-29')).toBe(true);
    expect(bankHolidaysOf(2024).has('2024-04-01')).toBe(true);
    // Easter Sunday on 1 April: Good Friday rolls back into March (2018).
    expect(bankHolidaysOf(2018).has('2018-03-30')).toBe(true);
    expect(bankHolidaysOf(2018).has('2018-04-02')).toBe(true);
  });

  it('returns the same answer on a second call (the cache does not change it)', () => {
    const first = sorted(bankHolidaysOf(2031));
    expect(sorted(bankHolidaysOf(2031))).toEqual(first);
  });
});

describe('isBankHoliday', () => {
  it.each([
    '2026-01-01',
    '2026-04-03', // Good Friday
    '2026-04-06', // Easter Monday
    '2026-05-04',
    '2026-05-25',
    '2026-08-31',
    '2026-12-25',
    '2026-12-28', // substitute for Boxing Day
    '2027-12-27',
    '2027-12-28',
    '2022-06-02',
    '2022-06-03',
    '2022-09-19',
    '2023-05-08',
    '2020-05-08',
  ])('%s is a bank holiday', (day) => {
    expect(isBankHoliday(day)).toBe(true);
  });

  it.each([
    ['2026-12-26', 'Boxing Day 2026 is a Saturday; the bank holiday is Monday 28th'],
    ['2027-12-25', 'Christmas Day 2027 is a Saturday; the bank holiday is Monday 27th'],
    ['2027-12-26', 'a Sunday'],
    ['2020-05-04', 'the rule date of the early May bank holiday 2020, moved to 8 May'],
    ['2022-05-30', 'the rule date of the spring bank holiday 2022, moved to 2 June'],
    ['2026-12-24', 'Christmas Eve'],
    ['2026-12-31', "New Year's Eve"],
    ['2026-04-05', 'Easter Sunday'],
    ['2026-04-02', 'Maundy Thursday'],
    ['2026-03-17', "St Patrick's Day (Northern Ireland only)"],
    ['2026-08-03', 'the Scottish summer bank holiday'],
    ['2026-07-01', 'an ordinary Wednesday'],
  ])('%s is not a bank holiday (%s)', (day) => {
    expect(isBankHoliday(day)).toBe(false);
  });

  it('agrees with bankHolidaysOf for every day of 2026 and 2027', () => {
    for (const year of [2026, 2027]) {
      const holidays = bankHolidaysOf(year);
      for (let d = new Date(Date.UTC(year, 0, 1)); d.getUTCFullYear() === year; d = new Date(d.getTime() + 86_400_000)) {
        const day = d.toISOString().slice(0, 10);
        expect([day, isBankHoliday(day)]).toEqual([day, holidays.has(day)]);
      }
    }
  });
});

describe('bankHolidaysOf: structural checks 2000-2040', () => {
  const years = Array.from({ length: 41 }, (_, i) => 2000 + i);

  it.each(years)('%i: every bank holiday is a weekday of that year, as a YYYY-MM-DD string', (year) => {
    for (const day of bankHolidaysOf(year)) {
      expect(day).toMatch(new RegExp(`^${year}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$`));
      expect([day, weekdayOf(day)]).not.toEqual([day, 0]);
      expect([day, weekdayOf(day)]).not.toEqual([day, 6]);
    }
  });

  it.each(years)('%i: eight bank holidays, plus the proclaimed one-offs', (year) => {
    const extra: Record<number, number> = { 2002: 1, 2011: 1, 2012: 1, 2022: 2, 2023: 1 };
    expect(bankHolidaysOf(year).size).toBe(8 + (extra[year] ?? 0));
  });
});

/**
 * Cross-check against the date-holidays package (GB, ENG), year by year.
 *
 * How date-holidays reports England's holidays, and how this comparison reads it:
 * - `date` is a local date-time string such as '2026-12-28 00:00:00'; the date is its first ten
 *   characters. (`start` is a UTC instant, e.g. '2026-04-02T23:00:00.000Z' for Good Friday in BST,
 *   so it must not be used as the date.)
 * - A holiday that falls at a weekend is listed on its own weekend date (e.g. Boxing Day, Saturday
 *   26 Dec 2026) AND as a separate entry flagged `substitute: true` on the Monday or Tuesday
 *   ('Boxing Day (substitute day)', 2026-12-28). In England and Wales the bank holiday is the
 *   substitute day; the weekend date is not a bank holiday (gov.uk lists only the substitute). So
 *   weekend dates are dropped, after checking that each one has a substitute entry.
 *
 * Where date-holidays 3.37 is wrong (checked against the proclamations as listed by gov.uk and
 * reported at the time):
 * - 2002: the Golden Jubilee. The spring bank holiday was moved from Monday 27 May to Tuesday
 *   4 June and Monday 3 June was an extra bank holiday. date-holidays keeps 27 May and has neither
 *   3 nor 4 June.
 * - 2011: Friday 29 April (wedding of Prince William and Catherine Middleton) was a proclaimed bank
 *   holiday in England and Wales. date-holidays does not have it.
 * - 2012: the Diamond Jubilee. The spring bank holiday was moved from Monday 28 May to Monday 4 June
 *   and Tuesday 5 June was an extra bank holiday. date-holidays has 5 June but keeps 28 May instead
 *   of 4 June.
 * These three years are compared against date-holidays with exactly these corrections applied, so
 * any other difference still fails.
 */
describe('bankHolidaysOf agrees with date-holidays (GB-ENG) for 2000-2040', () => {
  const hd = new Holidays('GB', 'ENG');
  const corrections: Record<number, { remove: string[]; add: string[] }> = {
    2002: { remove: ['2002-05-27'], add: ['2002-06-03', '2002-06-04'] },
    2011: { remove: [], add: ['2011-04-29'] },
    2012: { remove: ['2012-05-28'], add: ['2012-06-04'] },
  };

  function publicHolidays(year: number): { date: string; substitute: boolean }[] {
    const all = hd.getHolidays(year) || [];
    return all
      .filter((h) => h.type === 'public')
      .map((h) => {
        expect(h.date).toMatch(/^\d{4}-\d{2}-\d{2} 00:00:00$/);
        return { date: h.date.slice(0, 10), substitute: h.substitute === true };
      });
  }

  it('reads date-holidays the way this comparison assumes (2026: weekend Boxing Day plus flagged substitute)', () => {
    const y2026 = hd.getHolidays(2026) || [];
    const boxing = y2026.filter((h) => h.type === 'public' && h.date.startsWith('2026-12-2'));
    expect(boxing.map((h) => [h.date, h.substitute === true])).toEqual([
      ['2026-12-25 00:00:00', false],
      ['2026-12-26 00:00:00', false],
      ['2026-12-28 00:00:00', true],
    ]);
  });

  it.each(Array.from({ length: 41 }, (_, i) => 2000 + i))('%i', (year) => {
    const listed = publicHolidays(year);
    const weekend = listed.filter((h) => [0, 6].includes(weekdayOf(h.date)));
    const substitutes = listed.filter((h) => h.substitute);
    // Every weekend holiday has its substitute day, which falls on a weekday.
    expect(substitutes.length).toBe(weekend.length);
    for (const s of substitutes) expect([0, 6]).not.toContain(weekdayOf(s.date));

    const correction = corrections[year] ?? { remove: [], add: [] };
    const expected = new Set(listed.filter((h) => ![0, 6].includes(weekdayOf(h.date))).map((h) => h.date));
    for (const day of correction.remove) {
      expect(expected.has(day)).toBe(true); // the correction is still needed
      expected.delete(day);
    }
    for (const day of correction.add) {
      expect(expected.has(day)).toBe(false); // the correction is still needed
      expected.add(day);
    }
    expect(sorted(bankHolidaysOf(year))).toEqual(sorted(expected));
  });

  it('agrees on Good Friday and Easter Monday (the Easter computation) for every year 1900-2200', () => {
    for (let year = 1900; year <= 2200; year += 1) {
      const easter = (hd.getHolidays(year) || [])
        .filter((h) => h.name === 'Good Friday' || h.name === 'Easter Monday')
        .map((h) => h.date.slice(0, 10));
      expect(easter).toHaveLength(2);
      const ours = bankHolidaysOf(year);
      for (const day of easter) expect([year, day, ours.has(day)]).toEqual([year, day, true]);
    }
  });
});

describe('the proclaimed days file (content/bank-holidays.json), validated at start', () => {
  const shipped = JSON.parse(fs.readFileSync(bankHolidaysFileFor(guideFile), 'utf8')) as ProclaimedDays;
  const refusal = (data: unknown): GuideError => {
    try {
      parseBankHolidays(data);
    } catch (error) {
      if (error instanceof GuideError) return error;
      throw error;
    }
    throw new Error('expected the file to be refused');
  };

  it('holds every move and one-off day the calendar applies, each with its proclamation', () => {
    const calendar = parseBankHolidays(shipped);
    for (const { from, to, why } of shipped.moved)
      expect([from, to, why.length > 0, calendar.isBankHoliday(from), calendar.isBankHoliday(to)]).toEqual([from, to, true, false, true]);
    for (const { date } of shipped.oneOff) expect([date, calendar.isBankHoliday(date)]).toEqual([date, true]);
  });

  it.each([
    [
      'a move of a day that is not a statutory bank holiday',
      { moved: [{ from: '2026-05-05', to: '2026-05-06', why: 'x' }] },
      'moved.0.from',
      'is not a statutory bank holiday',
    ],
    [
      'a move onto a statutory bank holiday',
      { moved: [{ from: '2026-05-04', to: '2026-05-25', why: 'x' }] },
      'moved.0.to',
      'is already a statutory bank holiday',
    ],
    ['a move into another year', { moved: [{ from: '2026-12-25', to: '2027-01-04', why: 'x' }] }, 'moved.0.to', 'same year'],
    [
      'a one-off day that is already a bank holiday',
      { oneOff: [{ date: '2026-12-25', why: 'x' }] },
      'oneOff.0.date',
      'is already a statutory bank holiday',
    ],
    [
      'a day listed twice',
      {
        oneOff: [
          { date: '2026-06-10', why: 'x' },
          { date: '2026-06-10', why: 'y' },
        ],
      },
      'oneOff.1.date',
      'listed twice',
    ],
    ['an impossible date', { oneOff: [{ date: '2026-02-29', why: 'x' }] }, 'oneOff.0.date', 'is not a calendar date'],
    ['a day after listedUntil', { oneOff: [{ date: '2028-06-07', why: 'x' }] }, 'oneOff.0.date', 'is after listedUntil'],
    ['a day with no proclamation named', { oneOff: [{ date: '2026-06-10', why: ' ' }] }, 'oneOff.0.why', 'must say which proclamation'],
    ['an unknown field', { oneOff: [{ date: '2026-06-10', why: 'x', region: 'scotland' }] }, 'oneOff.0', 'Unrecognized key'],
    ['no listedUntil', { listedUntil: undefined }, 'listedUntil', 'Required'],
  ])('refuses %s, naming the field', (_what, change, field, said) => {
    const error = refusal({ ...shipped, moved: [], oneOff: [], listedUntil: '2027-12-31', ...change });
    expect(error.field).toBe(`bank-holidays.${field}`);
    expect(error.message).toContain(`bank holidays field ${field}: `);
    expect(error.message).toContain(said);
  });

  it('says the list is ending when it reaches less than a year past the instant', () => {
    const calendar = parseBankHolidays({ ...shipped, listedUntil: '2027-12-31' });
    expect(listEndsWithinYear(calendar, new Date('2026-12-31T00:00:00Z'))).toBe(false);
    expect(listEndsWithinYear(calendar, new Date('2027-01-01T00:00:00Z'))).toBe(true);
  });
});
