/**
 * Days in a question's text: dates ("29 March", "March 29th", "2026-03-29", "29/03", "Christmas
 * Day") and day names ("tomorrow", "next Monday", "Friday week", "at the weekend"), with the readers
 * that turn a match into a day token.
 */
import { validDate } from './calendar-days';
import { scan, textBefore, type DayRef, type DayToken, type Span, type Token } from './time-tokens';

const months: Readonly<Record<string, number>> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};
const monthName =
  '(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|' +
  'sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\\.?';

/** Monday = 1 ... Sunday = 7 (luxon's numbering), by the first three letters. */
const weekdays: Readonly<Record<string, number>> = { mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6, sun: 7 };
const weekdayName = '((?:mon|tues|wednes|thurs|fri|satur|sun)days?|mon|tues|tue|weds|wed|thurs|thur|thu|fri|sat|sun)';

const holiday = new RegExp(
  String.raw`\b(?:on\s+)?(christmas\s+day|christmas\s+eve|xmas\s+day|xmas\s+eve|boxing\s+day|` +
    String.raw`new\s+year(?:['’]?s)?\s+day|new\s+year(?:['’]?s)?\s+eve|christmas|xmas)(?:\s+(\d{4}))?\b`,
  'gi',
);
const dateDayMonth = new RegExp(
  `\\b(?:on\\s+)?(?:the\\s+)?(\\d{1,2})(?:st|nd|rd|th)?(?:\\s+of)?\\s*(?:-\\s*)?${monthName}(?:,?\\s+(\\d{4}))?(?![a-z\\d])`,
  'gi',
);
const dateMonthDay = new RegExp(
  `\\b(?:on\\s+)?${monthName}\\s+(?:the\\s+)?(\\d{1,2})(?:st|nd|rd|th)?(?![\\d:.]\\d|\\d|` +
    `\\s*(?:am|pm|a\\.m|p\\.m)\\b)(?:,?\\s+(\\d{4}))?(?![a-z\\d])`,
  'gi',
);
const dateIso = /\b(?:on\s+)?(\d{4})-(\d{2})-(\d{2})\b/g;
const dateNumeric = /(?:\bon\s+(?:the\s+)?)?(?<![\w./:-])(\d{1,2})([/.-])(\d{1,2})(?:\2(\d{4}|\d{2}))?(?![\w/]|[.-]\d)/g;

const fractionBefore = /\b(?:in|for|over|within|past|last|every|x)\s+$/i;
/** "2/52 ago", "3/4 of the images": shorthand and fractions, not dates. */
const agoAfter = /^\s*(?:ago|of)\b/i;

const dayWords =
  /\b(?:(by|until|till|for|on|from|before|after)\s+)?(the\s+day\s+after\s+tomorrow|tomorrow|tmrw|tmr|tomoz|today|yesterday)\b/gi;
const weekdayPattern = new RegExp(
  `\\b(?:(on|this|next|last|coming|this\\s+coming|by|until|till|from|before|after|` +
    `for)\\s+)?(?:(?:a|the)\\s+)?${weekdayName}\\b(?:(\\s+week)\\b|\\.)?`,
  'gi',
);
const weekendPattern = /\b(?:(at|on|over|this|next|during|for|by)\s+)?(?:the\s+)?(weekend)s?\b/gi;

function fullYear(y: string | undefined): number | null {
  if (y === undefined) return null;
  const n = Number(y);
  return y.length === 2 ? 2000 + n : n;
}

function dateToken(start: number, end: number, month: number, day: number, year: number | null): DayToken | null {
  // 29 Feb without a year is checked when the year is known.
  if (!validDate(year ?? 2024, month, day)) return null;
  return { kind: 'day', start, end, ref: { type: 'date', month, day, year }, weak: false };
}

/** "Christmas Day", "Boxing Day", "New Year's Eve 2026". */
function readHoliday(m: RegExpExecArray, s: number, e: number): DayToken | null {
  const name = (m[1] ?? '').toLowerCase();
  const year = fullYear(m[2]);
  if (name.startsWith('boxing')) return dateToken(s, e, 12, 26, year);
  if (name.startsWith('new')) return name.endsWith('eve') ? dateToken(s, e, 12, 31, year) : dateToken(s, e, 1, 1, year);
  return name.endsWith('eve') ? dateToken(s, e, 12, 24, year) : dateToken(s, e, 12, 25, year);
}

/** "29/03", "29.03.2026", "29-03-26" (day first, as in the UK). */
function readNumericDate(text: string, m: RegExpExecArray, s: number, e: number): DayToken | null {
  const sep = m[2];
  const year = fullYear(m[4]);
  // "17.30" and "1-2 hours" are not dates; with a year they are ("29.03.2026").
  if (sep !== '/' && year === null) return null;
  if (year === null) {
    // Clinical shorthand: "in 6/12" (six months), "2/52 ago".
    if (fractionBefore.test(textBefore(text, s)) || agoAfter.test(text.slice(e))) return null;
  }
  return dateToken(s, e, Number(m[3]), Number(m[1]), year);
}

/** Finds the dates in the text (holidays, ISO, day-month, month-day, numeric), in text not yet taken. */
export function scanDates(text: string, taken: Span[], tokens: Token[]): void {
  scan(holiday, text, taken, tokens, readHoliday);
  scan(dateIso, text, taken, tokens, (m, s, e) => dateToken(s, e, Number(m[2]), Number(m[3]), Number(m[1])));
  scan(dateDayMonth, text, taken, tokens, (m, s, e) =>
    dateToken(s, e, months[(m[2] ?? '').slice(0, 3).toLowerCase()] ?? 0, Number(m[1]), fullYear(m[3])),
  );
  scan(dateMonthDay, text, taken, tokens, (m, s, e) =>
    dateToken(s, e, months[(m[1] ?? '').slice(0, 3).toLowerCase()] ?? 0, Number(m[2]), fullYear(m[3])),
  );
  scan(dateNumeric, text, taken, tokens, (m, s, e) => readNumericDate(text, m, s, e));
}

/** "today", "tomorrow", "yesterday", "the day after tomorrow". */
function readDayWord(m: RegExpExecArray, s: number, e: number): DayToken {
  const word = (m[2] ?? '').toLowerCase();
  let ref: DayRef;
  if (word === 'today') ref = { type: 'today' };
  else if (word === 'yesterday') ref = { type: 'offset', days: -1 };
  else if (word.startsWith('the')) ref = { type: 'offset', days: 2 };
  else ref = { type: 'offset', days: 1 };
  return { kind: 'day', start: s, end: e, ref, weak: false };
}

/** "Monday", "next Friday", "last Tues", "Friday week", "on a Sunday". */
function readWeekday(text: string, m: RegExpExecArray, s: number, e: number): DayToken {
  const lead = (m[1] ?? '').toLowerCase();
  const name = (m[2] ?? '').toLowerCase();
  const weekday = weekdays[name.slice(0, 3)] ?? 0;
  const mode = lead === 'next' ? 'next-week' : lead === 'last' ? 'last' : 'next';
  // A trailing full stop belongs to the abbreviation ("Sat."), not to the phrase otherwise.
  const end = text[e - 1] === '.' && name.endsWith('y') ? e - 1 : e;
  // "Friday week" (British): the Friday after the coming one.
  const weekLater = m[3] !== undefined;
  return {
    kind: 'day',
    start: s,
    end,
    ref: { type: 'weekday', weekday, mode, weekLater },
    weak: lead === '' && name.length === 3 && !weekLater,
  };
}

/** Finds the day names in the text (day words, weekdays, the weekend), in text not yet taken. */
export function scanDayNames(text: string, taken: Span[], tokens: Token[]): void {
  scan(dayWords, text, taken, tokens, readDayWord);
  scan(weekdayPattern, text, taken, tokens, (m, s, e) => readWeekday(text, m, s, e));
  scan(weekendPattern, text, taken, tokens, (m, s, e) => ({
    kind: 'day',
    start: s,
    end: e,
    ref: { type: 'weekend', nextWeek: (m[1] ?? '').toLowerCase() === 'next' },
    weak: false,
  }));
}
