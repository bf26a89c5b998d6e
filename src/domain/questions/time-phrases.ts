/**
 * Finding the time a clinician's question is about ("at 2am", "tomorrow at 9", "at 18:30 on a
 * Friday", "on 29 March", "in an hour") and turning it into an instant, relative to the message's
 * own timestamp, in the trust's wall-clock zone (never the host's).
 *
 * Pure and fast: every pattern is compiled once, calendar arithmetic is done on plain dates, and
 * luxon's zone offsets (memoised) place wall-clock times; luxon itself decides only near a clock
 * change. Numbers that are not times (NHS and phone numbers, bleeps, extensions, "24/7", versions,
 * years) are set aside before any time pattern runs.
 *
 * Readings chosen where the words are ambiguous (the bot says the time back, so a misreading is
 * visible):
 * - Times with minutes and no am/pm ("2:00", "02:00", "17.30", "0200", "1730hrs") are 24-hour times,
 *   except that a one-digit hour bends to a part of the day ("tonight at 9:30" is 21:30). A bare hour
 *   ("at 9") or words ("half five") with no am/pm and no day is the next 09:00 or 21:00; with a day,
 *   7-11 is morning, 12 noon and 1-6 afternoon/evening.
 * - "next Monday" is the Monday of next week (weeks run Monday to Sunday); "this Monday",
 *   "on Monday" and "Monday" are the coming Monday, today included.
 * - "at the weekend" / "this weekend" is Saturday 12:00 (today if today is Sunday);
 *   "next weekend" is the Saturday of next week.
 * - "midnight" with a day ("Friday at midnight", "midnight tonight") is the end of that day.
 * - "morning", "this evening", "tonight", "overnight" with no clock time mean now when that part of
 *   the day has already begun (past its usual hour); otherwise its usual hour, the next one (or
 *   today's with "this": "this morning" asked at 15:00 is 09:00 today).
 * - "today" alone, and "right now", "currently", "at the moment", mean now (source 'now', with the
 *   words as the phrase); "asap" and "urgently" are not time words at all (phrase null).
 * - Three-letter days ("sat", "sun", "wed") count only after "on"/"this"/"next" or beside another time.
 * - A day given twice ("Friday 31 August") is read by the date, with a note if the weekday is wrong.
 * - A wall-clock time that happens twice (the clocks go back) is read as the first, BST.
 * - With several clock times ("from 17:00 to 08:00") the first is read, with a note.
 */
import { DateTime, IANAZone } from 'luxon';

/** What a question's text says about when it is asking. */
export interface UnderstoodTime {
  /** The instant the question is about. */
  readonly instant: Date;
  /** 'now' when the text has no time phrase (or says "now"); 'phrase' when a phrase set the time. */
  readonly source: 'now' | 'phrase';
  /** The words read as the time, as they appear in the text (e.g. "at 18:30 on a Friday"), or null. */
  readonly phrase: string | null;
  /**
   * A short note for the clinician where the reading needed a choice, else null. E.g. "01:30 does not
   * exist on Sun 29 Mar 2026 (the clocks go forward); read as 02:30 BST", "01:30 happens twice on Sun
   * 25 Oct 2026; read as 01:30 BST", "no time given; read as 12:00".
   */
  readonly note: string | null;
}

// ---------------------------------------------------------------------------------------------
// Tokens found in the text

type PartOfDay = 'morning' | 'afternoon' | 'evening' | 'night' | 'overnight';

interface Span {
  readonly start: number;
  readonly end: number;
}

interface ClockToken extends Span {
  readonly kind: 'clock';
  /** 0-23, or 1-12 when `twelveHour`. */
  readonly hour: number;
  readonly minute: number;
  /** A bare hour or words, no am/pm ("at 9", "half five"): the hour may be morning or afternoon/evening. */
  readonly twelveHour: boolean;
  /** A one-digit hour with minutes, no am/pm ("1:30"): 24-hour, but "tonight at 9:30" is 21:30. */
  readonly loose: boolean;
  /** "midnight": with a day it means the end of that day. */
  readonly midnight: boolean;
}

interface PartToken extends Span {
  readonly kind: 'part';
  readonly part: PartOfDay;
  /** "this evening", "tonight": today's, even if already under way. */
  readonly thisOne: boolean;
  /** "last night" carries its own day. */
  readonly dayOffset: number | null;
}

type DayRef =
  | { readonly type: 'today' }
  | { readonly type: 'offset'; readonly days: number }
  | { readonly type: 'weekday'; readonly weekday: number; readonly mode: 'next' | 'next-week' | 'last'; readonly weekLater: boolean }
  | { readonly type: 'weekend'; readonly nextWeek: boolean }
  | { readonly type: 'date'; readonly month: number; readonly day: number; readonly year: number | null };

interface DayToken extends Span {
  readonly kind: 'day';
  readonly ref: DayRef;
  /** A three-letter weekday ("sat", "sun", "wed") counts only next to other time words. */
  readonly weak: boolean;
}

interface DurationToken extends Span {
  readonly kind: 'duration';
  /** Real elapsed minutes ("in an hour"), or calendar days keeping wall time ("in 3 days"). */
  readonly minutes: number;
  readonly days: number;
}

interface NowToken extends Span {
  readonly kind: 'now';
}

type Token = ClockToken | PartToken | DayToken | DurationToken | NowToken;

// ---------------------------------------------------------------------------------------------
// Patterns (compiled once)

const numberWords: Readonly<Record<string, number>> = {
  a: 1,
  an: 1,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  fifteen: 15,
  twenty: 20,
  'twenty-five': 25,
  'twenty five': 25,
  thirty: 30,
  forty: 40,
  'forty-five': 45,
  'forty five': 45,
  fifty: 50,
  sixty: 60,
  ninety: 90,
};

const hourWord = 'one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve';
const hourNumber = `(\\d{1,2}|${hourWord})`;
/** Words that may lead a clock time and belong in the phrase ("at 02:00", "by 5pm"). */
const clockLead =
  '(?:(at|by|from|until|till|til|before|after|around|(?<!\\b(?:what|how)\\s+)about|approx\\.?|between)\\s+(?:about\\s+|around\\s+)?)?';
const meridiem = '(a\\.?\\s?m\\.?|p\\.?\\s?m\\.?)(?![a-z])';
/** Quantities that follow a number that is not a time ("at 2 sites", "1500 images"). */
const notClockAfter =
  '(?!\\s*(?:%|x\\b|mg|mcg|ml|kg|cm|mm|mmol|units?|days?|d\\b|hours?|hrs?|h\\b|mins?|' +
  'minutes?|weeks?|wks?|months?|years?|yrs?|scans?|images?|studies|study|series|slices?|' +
  'patients?|pts?|people|sites?|hospitals?|trusts?|places?|beds?|wards?|of\\b|per\\b|times?\\b))';

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

/** A run of digits, spaces and dashes: an NHS or phone number when it holds 9 or more digits. */
const digitRun = /(?<![\d:.,/])\+?\(?\d[\d\s()-]{6,}\d/g;
/** Other numbers that are never times: bleeps, extensions, versions, "24/7". */
const notTimes: readonly RegExp[] = [
  // A number after a word that says it is not a time ("bleep 2310", "ext 22724").
  new RegExp(
    String.raw`(?:\b(?:bleep(?:er|ed|ing|s)?|blp|ext(?:ension|n)?|x|tel(?:ephone)?|phone|ph|mob(?:ile)?|` +
      String.raw`call|ring|dial|pager|page|fax|room|rm|bed|ref(?:erence)?|mrn|no|number|num|id)\b|` +
      String.raw`#)\.?\s*(?:[:#-]\s*)?(?:(?:is|was|on|no|number)\.?\s*:?\s*)?\d{3,}(?:[\s-]\d{3,})*`,
    'gi',
  ),
  /\b24\s*[/x-]\s*7\b/gi,
  /\bv(?:ersion)?\s*\d+(?:\.\d+)+\b/gi,
];

const durationUnit = '(hours?|hrs?|h|minutes?|mins?|days?|weeks?|wks?)\\b';
const durationCount =
  '(an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|' +
  'forty(?:[\\s-]five)?|fifty|sixty|ninety|\\d{1,3}(?:\\.\\d+)?|a\\s+couple\\s+of|a\\s+few)';
const durationIn = new RegExp(
  `\\bin\\s+(?:(?:about|around|roughly|approx\\.?|approximately|another|` +
    `the\\s+next)\\s+)?(?:half\\s+an?\\s+(hour|day)|${durationCount}\\s*${durationUnit}(\\s+and\\s+a\\s+half)?)(?:'?s?\\s+time)?`,
  'gi',
);
const durationFromNow = new RegExp(`\\b${durationCount}\\s*${durationUnit}(\\s+and\\s+a\\s+half)?\\s+from\\s+now\\b`, 'gi');

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

const clockMeridiem = new RegExp(`\\b${clockLead}${hourNumber}(?:[:.](\\d{2}))?\\s*(?:o['’]?clock\\s*)?${meridiem}`, 'gi');
const clockWords = new RegExp(
  `\\b${clockLead}(?:(half|quarter|five|ten|twenty|twenty[\\s-]five|(?:5|10|20|` +
    `25)(?=\\s+past))\\s+(past|to)\\s+${hourNumber}|half\\s+${hourNumber}(?![\\d:.]|\\s+(?:an?|` +
    `hours?|of)\\b))(?:\\s*o['’]?clock)?(?:\\s*${meridiem})?`,
  'gi',
);
const clockOclock = new RegExp(`\\b${clockLead}${hourNumber}\\s*o['’]?clock\\b`, 'gi');
const clockColon = new RegExp(
  `\\b${clockLead}(?<![\\w.:/,£$€])(\\d{1,2})([:.])(\\d{2})(?::\\d{2})?(?![\\d]|[:.]\\d)(\\s*(?:hrs|hr|h|hours)\\b)?${notClockAfter}`,
  'gi',
);
const clockFourDigits = new RegExp(`(?<![\\w.:/,£$€-])(\\d{2})(\\d{2})(?![\\d]|[:./]\\d)(\\s*(?:hrs|hr|h|hours)\\b)?`, 'g');
const noonMidnight = new RegExp(`\\b${clockLead}(?:12\\s*)?(noon|mid-?day|midnight)\\b`, 'gi');
const clockBare = new RegExp(
  `\\b(at|by|from|until|till|til|before|after|around|about|between)\\s+(?:about\\s+|` +
    `around\\s+)?(\\d{1,2})(?!\\d|[:.,/]\\d|\\s*-\\s*\\d)${notClockAfter}`,
  'gi',
);
const clockBareWord = new RegExp(
  `\\b(at|by|from|until|till|before|after|around|about)\\s+(${hourWord})(?=\\s*(?:$|[?!.,;)]|` +
    `(?:tomorrow|today|tonight|on|this|next|in\\s+the|at\\s+night|ish)\\b))`,
  'gi',
);

const partOfDay = new RegExp(
  String.raw`\b(?:(this|last|in\s+the|during\s+the|at|over|through|the)\s+)?(?:(early\s+hours)|` +
    String.raw`(morning|afternoon|evening|night)s?|(overnight)|(tonight|tonite)|(night-?time))\b`,
  'gi',
);
/** "good morning" is a greeting, not a time. */
const greetingBefore = /\bgood\s*$/i;

const dayWords =
  /\b(?:(by|until|till|for|on|from|before|after)\s+)?(the\s+day\s+after\s+tomorrow|tomorrow|tmrw|tmr|tomoz|today|yesterday)\b/gi;
const weekdayPattern = new RegExp(
  `\\b(?:(on|this|next|last|coming|this\\s+coming|by|until|till|from|before|after|` +
    `for)\\s+)?(?:(?:a|the)\\s+)?${weekdayName}\\b(?:(\\s+week)\\b|\\.)?`,
  'gi',
);
const weekendPattern = /\b(?:(at|on|over|this|next|during|for|by)\s+)?(?:the\s+)?(weekend)s?\b/gi;
const nowPattern = /\b(right\s+now|just\s+now|now|at\s+the\s+moment|at\s+present|currently)\b/gi;

/** What may separate two parts of one phrase ("at 18:30 on a Friday", "Friday, 2am"). */
const joiner = /^[\s,;:()–-]*(?:(?:on|at|of|the|a|in|this|and|from)[\s,]+)*$/i;
/** What reads as a clock/day word's neighbour, for weak weekday abbreviations. */
const nearGap = /^[\s,;:()–-]*(?:(?:on|at|the|a|this|next|and|of)[\s,]+)*$/i;

// ---------------------------------------------------------------------------------------------
// Scanning

function overlaps(taken: readonly Span[], start: number, end: number): boolean {
  for (const s of taken) if (start < s.end && end > s.start) return true;
  return false;
}

/** Runs a global pattern over the text; `make` turns a free match into a token (or null). */
function scan(
  re: RegExp,
  text: string,
  taken: Span[],
  tokens: Token[],
  make: (m: RegExpExecArray, start: number, end: number) => Token | null,
): void {
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    const start = m.index;
    const end = start + m[0].length;
    if (overlaps(taken, start, end)) continue;
    const token = make(m, start, end);
    if (token) {
      tokens.push(token);
      taken.push({ start, end });
    }
  }
}

function countOf(word: string): number {
  const w = word.toLowerCase().replace(/\s+/g, ' ');
  if (w === 'a couple of') return 2;
  if (w === 'a few') return 3;
  return numberWords[w] ?? Number(w);
}

function hourOf(word: string): number {
  return numberWords[word.toLowerCase()] ?? Number(word);
}

function durationToken(
  start: number,
  end: number,
  halfOf: string | undefined,
  countText: string | undefined,
  unitText: string | undefined,
  andAHalf: string | undefined,
): DurationToken | null {
  if (halfOf !== undefined) {
    return halfOf.toLowerCase() === 'hour'
      ? { kind: 'duration', start, end, minutes: 30, days: 0 }
      : { kind: 'duration', start, end, minutes: 12 * 60, days: 0 };
  }
  const count = countOf(countText ?? '') + (andAHalf !== undefined ? 0.5 : 0);
  const unit = (unitText ?? '').toLowerCase();
  if (!Number.isFinite(count) || count <= 0) return null;
  if (unit.startsWith('h')) return { kind: 'duration', start, end, minutes: Math.round(count * 60), days: 0 };
  if (unit.startsWith('m')) return { kind: 'duration', start, end, minutes: Math.round(count), days: 0 };
  const days = unit.startsWith('w') ? count * 7 : count;
  // Half days are real time; whole days are calendar days keeping the wall time.
  if (!Number.isInteger(days)) return { kind: 'duration', start, end, minutes: Math.round(days * 24 * 60), days: 0 };
  return { kind: 'duration', start, end, minutes: 0, days };
}

function clockAt(start: number, end: number, hour: number, minute: number, twelveHour: boolean, loose = false): ClockToken | null {
  if (hour > 23 || minute > 59) return null;
  const inTwelve = hour >= 1 && hour <= 12;
  return { kind: 'clock', start, end, hour, minute, twelveHour: twelveHour && inTwelve, loose: loose && inTwelve, midnight: false };
}

function withMeridiem(start: number, end: number, hour: number, minute: number, mer: string): ClockToken | null {
  if (hour > 23 || minute > 59) return null;
  if (hour > 12 || hour === 0) return clockAt(start, end, hour, minute, false);
  const pm = mer.toLowerCase().startsWith('p');
  const h = pm ? (hour === 12 ? 12 : hour + 12) : hour === 12 ? 0 : hour;
  return clockAt(start, end, h, minute, false);
}

function validDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1 || day > 31) return false;
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

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

/** The words just before `start`, lower-cased, for context checks. */
function before(text: string, start: number): string {
  return text.slice(Math.max(0, start - 24), start);
}

const timeLeadBefore = /\b(?:at|by|from|until|till|til|before|after|around|about|approx\.?|between|and|to)\s*$/i;
const yearLeadBefore = /\b(?:at|around|about)\s*$/i;
const notTimeWordBefore = new RegExp(
  String.raw`(?:\b(?:on|in|since|of|year|bleep(?:ed|er|ing|s)?|ext|extension|phone|tel|call|ring|dial|` +
    String.raw`pager|page|number|no|ref|room|ward|bed|code|pin|id|x)\.?|[#£$€])\s*:?\s*$`,
  'i',
);
const fractionBefore = /\b(?:in|for|over|within|past|last|every|x)\s+$/i;
/** "2/52 ago", "3/4 of the images": shorthand and fractions, not dates. */
const agoAfter = /^\s*(?:ago|of)\b/i;

function findTokens(text: string): Token[] {
  const taken: Span[] = [];
  const tokens: Token[] = [];

  // Numbers that are not times are taken first, so no pattern below can read them.
  digitRun.lastIndex = 0;
  for (let m = digitRun.exec(text); m !== null; m = digitRun.exec(text)) {
    if (m[0].replace(/\D/g, '').length >= 9) taken.push({ start: m.index, end: m.index + m[0].length });
    else digitRun.lastIndex = m.index + 1;
  }
  for (const re of notTimes) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) taken.push({ start: m.index, end: m.index + m[0].length });
  }

  scan(durationIn, text, taken, tokens, (m, s, e) => durationToken(s, e, m[1], m[2], m[3], m[4]));
  scan(durationFromNow, text, taken, tokens, (m, s, e) => durationToken(s, e, undefined, m[1], m[2], m[3]));

  scan(holiday, text, taken, tokens, (m, s, e) => {
    const name = (m[1] ?? '').toLowerCase();
    const year = fullYear(m[2]);
    if (name.startsWith('boxing')) return dateToken(s, e, 12, 26, year);
    if (name.startsWith('new')) return name.endsWith('eve') ? dateToken(s, e, 12, 31, year) : dateToken(s, e, 1, 1, year);
    return name.endsWith('eve') ? dateToken(s, e, 12, 24, year) : dateToken(s, e, 12, 25, year);
  });
  scan(dateIso, text, taken, tokens, (m, s, e) => dateToken(s, e, Number(m[2]), Number(m[3]), Number(m[1])));
  scan(dateDayMonth, text, taken, tokens, (m, s, e) =>
    dateToken(s, e, months[(m[2] ?? '').slice(0, 3).toLowerCase()] ?? 0, Number(m[1]), fullYear(m[3])),
  );
  scan(dateMonthDay, text, taken, tokens, (m, s, e) =>
    dateToken(s, e, months[(m[1] ?? '').slice(0, 3).toLowerCase()] ?? 0, Number(m[2]), fullYear(m[3])),
  );
  scan(dateNumeric, text, taken, tokens, (m, s, e) => {
    const sep = m[2];
    const year = fullYear(m[4]);
    // "17.30" and "1-2 hours" are not dates; with a year they are ("29.03.2026").
    if (sep !== '/' && year === null) return null;
    if (year === null) {
      // Clinical shorthand: "in 6/12" (six months), "2/52 ago".
      if (fractionBefore.test(before(text, s)) || agoAfter.test(text.slice(e))) return null;
    }
    return dateToken(s, e, Number(m[3]), Number(m[1]), year);
  });

  scan(clockMeridiem, text, taken, tokens, (m, s, e) => withMeridiem(s, e, hourOf(m[2] ?? ''), Number(m[3] ?? 0), m[4] ?? ''));
  scan(clockWords, text, taken, tokens, (m, s, e) => {
    const mer = m[6];
    let hour: number;
    let minute: number;
    if (m[2] !== undefined) {
      const words = m[2].toLowerCase().replace(/\s+|-/g, ' ');
      const by = words === 'half' ? 30 : words === 'quarter' ? 15 : (numberWords[words] ?? Number(words));
      hour = hourOf(m[4] ?? '');
      if (hour < 1 || hour > 12) return null;
      if ((m[3] ?? '').toLowerCase() === 'past') minute = by;
      else {
        hour = hour === 1 ? 12 : hour - 1;
        minute = 60 - by;
      }
    } else {
      // British "half five" is 5:30.
      hour = hourOf(m[5] ?? '');
      if (hour < 1 || hour > 12) return null;
      minute = 30;
    }
    return mer !== undefined ? withMeridiem(s, e, hour, minute, mer) : clockAt(s, e, hour, minute, true);
  });
  scan(clockOclock, text, taken, tokens, (m, s, e) => {
    const hour = hourOf(m[2] ?? '');
    return hour >= 1 && hour <= 12 ? clockAt(s, e, hour, 0, true) : null;
  });
  scan(clockColon, text, taken, tokens, (m, s, e) => {
    const hourText = m[2] ?? '';
    const hour = Number(hourText);
    const minute = Number(m[4]);
    const hrs = m[5] !== undefined;
    // "17.30" needs to look like a time: two-digit hour, a lead word or "hrs" ("1.25 mg" is not).
    if (m[3] === '.' && hourText.length < 2 && m[1] === undefined && !hrs) return null;
    // "2:00", "02:00" and "17:30" are 24-hour times; a one-digit hour bends only to "tonight" etc.
    return clockAt(s, e, hour, minute, false, hourText.length === 1 && !hrs);
  });
  scan(clockFourDigits, text, taken, tokens, (m, s, e) => {
    const hour = Number(m[1]);
    const minute = Number(m[2]);
    const hrs = m[3] !== undefined;
    const lead = before(text, s);
    const yearLike = hour >= 19 && hour <= 20;
    if (!hrs) {
      if (yearLike && !yearLeadBefore.test(lead)) return null;
      if (!timeLeadBefore.test(lead)) {
        // Standalone "0200": not after a number-ish word, and not a quantity ("1500 images").
        if (notTimeWordBefore.test(lead)) return null;
        if (
          !/^(?:\s*[?!.,;)]|\s*$|\s+(?!(?:%|mg|ml|images?|scans?|patients?|studies|slices?|people|units?|days?|hours?|years?)\b))/i.test(
            text.slice(e),
          )
        )
          return null;
      }
    }
    // The lead word ("at") belongs in the phrase.
    const leadMatch = /\b(at|by|from|until|till|before|after|around|about)\s+$/i.exec(lead);
    const start = leadMatch ? s - leadMatch[0].length : s;
    if (leadMatch && overlaps(taken, start, s)) return clockAt(s, e, hour, minute, false);
    return clockAt(start, e, hour, minute, false);
  });
  scan(noonMidnight, text, taken, tokens, (m, s, e) => {
    const word = (m[2] ?? '').toLowerCase();
    if (word === 'midnight')
      return { kind: 'clock', start: s, end: e, hour: 0, minute: 0, twelveHour: false, loose: false, midnight: true };
    return clockAt(s, e, 12, 0, false);
  });
  scan(clockBare, text, taken, tokens, (m, s, e) => {
    const hour = Number(m[2]);
    return clockAt(s, e, hour, 0, hour >= 1 && hour <= 12);
  });
  scan(clockBareWord, text, taken, tokens, (m, s, e) => clockAt(s, e, hourOf(m[2] ?? ''), 0, true));

  scan(partOfDay, text, taken, tokens, (m, s, e) => {
    const lead = (m[1] ?? '').toLowerCase();
    if (lead === '' && greetingBefore.test(before(text, s))) return null;
    if (m[2] !== undefined || m[4] !== undefined) {
      return { kind: 'part', start: s, end: e, part: 'overnight', thisOne: false, dayOffset: lead === 'last' ? -1 : null };
    }
    if (m[5] !== undefined) return { kind: 'part', start: s, end: e, part: 'night', thisOne: true, dayOffset: null };
    const word = (m[3] ?? 'night').toLowerCase();
    // "on nights" is a rota, not a time.
    if (word === 'night' && /s$/i.test(m[0])) return null;
    const part: PartOfDay = word === 'morning' ? 'morning' : word === 'afternoon' ? 'afternoon' : word === 'evening' ? 'evening' : 'night';
    return { kind: 'part', start: s, end: e, part, thisOne: lead === 'this', dayOffset: lead === 'last' ? -1 : null };
  });

  scan(dayWords, text, taken, tokens, (m, s, e) => {
    const word = (m[2] ?? '').toLowerCase();
    let ref: DayRef;
    if (word === 'today') ref = { type: 'today' };
    else if (word === 'yesterday') ref = { type: 'offset', days: -1 };
    else if (word.startsWith('the')) ref = { type: 'offset', days: 2 };
    else ref = { type: 'offset', days: 1 };
    return { kind: 'day', start: s, end: e, ref, weak: false };
  });
  scan(weekdayPattern, text, taken, tokens, (m, s, e) => {
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
  });
  scan(weekendPattern, text, taken, tokens, (m, s, e) => ({
    kind: 'day',
    start: s,
    end: e,
    ref: { type: 'weekend', nextWeek: (m[1] ?? '').toLowerCase() === 'next' },
    weak: false,
  }));
  scan(nowPattern, text, taken, tokens, (_m, s, e) => ({ kind: 'now', start: s, end: e }));

  return dropLoneAbbreviations(text, tokens);
}

/** "sat" or "sun" on their own are usually words; they are days only beside another time word. */
function dropLoneAbbreviations(text: string, tokens: Token[]): Token[] {
  if (!tokens.some((t) => t.kind === 'day' && t.weak)) return tokens;
  return tokens.filter((t) => {
    if (t.kind !== 'day' || !t.weak) return true;
    return tokens.some((o) => {
      if (o === t || o.kind === 'now' || (o.kind === 'day' && o.weak)) return false;
      if (o.start >= t.end) return o.start - t.end <= 12 && nearGap.test(text.slice(t.end, o.start));
      if (o.end <= t.start) return t.start - o.end <= 12 && nearGap.test(text.slice(o.end, t.start));
      return false;
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic on plain dates (no zone involved)

interface Ymd {
  readonly y: number;
  readonly m: number;
  readonly d: number;
}

function addDays(date: Ymd, days: number): Ymd {
  const t = new Date(Date.UTC(date.y, date.m - 1, date.d + days));
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

/** Monday = 1 ... Sunday = 7. */
function weekdayOf(date: Ymd): number {
  return new Date(Date.UTC(date.y, date.m - 1, date.d)).getUTCDay() || 7;
}

function compareYmd(a: Ymd, b: Ymd): number {
  return a.y - b.y || a.m - b.m || a.d - b.d;
}

const weekdayNames = ['', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** The calendar date a day word means, relative to today (null for a date that never comes). */
function dateOf(ref: DayRef, today: Ymd): Ymd | null {
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

// ---------------------------------------------------------------------------------------------
// Placing wall-clock times in the zone

const minute = 60_000;
const oneDay = 24 * 60 * minute;
const locale = 'en-GB';

interface Placed {
  readonly at: number;
  readonly note: string | null;
  /** For a time that happens twice (the clocks go back): the second reading, and its note. */
  readonly second?: { readonly at: number; readonly note: string };
}

/** A zone and its UTC offsets (minutes), remembered per 15 minutes: zones change offset only on quarter hours. */
interface ZoneClock {
  readonly name: string;
  offset(ts: number): number;
}

const quarterHour = 15 * minute;
const zoneClocks = new Map<string, ZoneClock>();

/** The zone's clock; luxon's offsets, which are right for any host zone, memoised (they cost an Intl call each). */
function zoneClock(name: string): ZoneClock {
  const known = zoneClocks.get(name);
  if (known) return known;
  const zone = IANAZone.create(name);
  if (!zone.isValid) throw new RangeError(`Unknown time zone: ${name}`);
  const memo = new Map<number, number>();
  const clock: ZoneClock = {
    name,
    offset(ts: number): number {
      const bucket = Math.floor(ts / quarterHour);
      let off = memo.get(bucket);
      if (off === undefined) {
        if (memo.size > 20_000) memo.clear();
        off = zone.offset(ts);
        memo.set(bucket, off);
      }
      return off;
    },
  };
  zoneClocks.set(name, clock);
  return clock;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

const weekdayShort = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
/** en-GB month abbreviations, as luxon and describeInstant write them ("Sept"). */
const monthShort = ['', 'Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sept', 'Oct', 'Nov', 'Dec'];

/** "Sun 29 Mar" (and " 2026" with the year). */
function dayLabel(date: Ymd, withYear: boolean): string {
  const label = `${weekdayShort[weekdayOf(date)] ?? ''} ${date.d} ${monthShort[date.m] ?? ''}`;
  return withYear ? `${label} ${date.y}` : label;
}

const abbreviations = new Map<string, Intl.DateTimeFormat>();

/** The zone's short name at an instant ("GMT", "BST"); only needed for notes. */
function abbreviation(at: number, clock: ZoneClock): string {
  let format = abbreviations.get(clock.name);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, { timeZone: clock.name, timeZoneName: 'short' });
    abbreviations.set(clock.name, format);
  }
  return format.formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? clock.name;
}

/** "02:30 BST": the wall-clock time of an instant, with the zone's short name. */
function wallLabel(at: number, clock: ZoneClock): string {
  const wall = new Date(at + clock.offset(at) * minute);
  return `${two(wall.getUTCHours())}:${two(wall.getUTCMinutes())} ${abbreviation(at, clock)}`;
}

/**
 * The instant of a wall-clock time in the zone. A time the clocks skip is moved forward by the
 * change, as luxon does (01:30 on 29 Mar 2026 is 02:30 BST); a time that happens twice is read as
 * the first (BST), of the readings luxon's getPossibleOffsets() lists. Says so in the note.
 */
function place(date: Ymd, hour: number, min: number, clock: ZoneClock, sec = 0, ms = 0): Placed {
  const wall = Date.UTC(date.y, date.m - 1, date.d, hour, min, sec, ms);
  // Far from a clock change (almost always) the offset is the same a day either side.
  const before = clock.offset(wall - oneDay);
  const after = clock.offset(wall + oneDay);
  if (before === after && before === clock.offset(wall - before * minute)) return { at: wall - before * minute, note: null };

  // Near a change: a reading fits if the offset at that instant is the one used.
  const fitsBefore = clock.offset(wall - before * minute) === before;
  const fitsAfter = before !== after && clock.offset(wall - after * minute) === after;
  const asked = `${two(hour)}:${two(min)}`;
  if (fitsBefore !== fitsAfter) return { at: wall - (fitsBefore ? before : after) * minute, note: null };
  if (!fitsBefore) {
    // Skipped: reading it with the offset before the change lands the same distance after it.
    const at = wall - before * minute;
    return { at, note: `${asked} does not exist on ${dayLabel(date, true)} (the clocks go forward); read as ${wallLabel(at, clock)}` };
  }
  // Twice: take the earlier of luxon's readings.
  const readings = DateTime.fromObject(
    { year: date.y, month: date.m, day: date.d, hour, minute: min, second: sec, millisecond: ms },
    { zone: clock.name },
  ).getPossibleOffsets();
  let at = wall - Math.max(before, after) * minute;
  let second = wall - Math.min(before, after) * minute;
  for (const r of readings) {
    at = Math.min(at, r.toMillis());
    second = Math.max(second, r.toMillis());
  }
  const twice = `${asked} happens twice on ${dayLabel(date, true)}; read as`;
  return { at, note: `${twice} ${wallLabel(at, clock)}`, second: { at: second, note: `${twice} ${wallLabel(second, clock)}` } };
}

/** The first of the wall-clock times (today, then the next days) not more than 59 minutes past. */
function nextOccurrence(today: Ymd, hours: readonly number[], min: number, clock: ZoneClock, nowMs: number): Placed {
  const earliest = nowMs - 60 * minute;
  let last: Placed | null = null;
  for (let day = 0; day < 3; day++) {
    const date = addDays(today, day);
    for (const h of hours) {
      last = place(date, h, min, clock);
      if (last.at > earliest) return last;
      // The first reading of a time that happens twice has passed: the second may not have.
      if (last.second && last.second.at > earliest) return { at: last.second.at, note: last.second.note };
    }
  }
  return last ?? place(addDays(today, 1), hours[0] ?? 0, min, clock);
}

// ---------------------------------------------------------------------------------------------
// Reading the tokens

const partDefaults: Readonly<Record<PartOfDay, { readonly start: number; readonly usual: number; readonly end: number }>> = {
  morning: { start: 6, usual: 9, end: 12 },
  afternoon: { start: 12, usual: 14, end: 17 },
  evening: { start: 17, usual: 19, end: 22 },
  night: { start: 22, usual: 22, end: 6 },
  overnight: { start: 0, usual: 2, end: 6 },
};

/** The 24-hour hour of a 1-12 hour in a part of the day ("9 in the morning", "2 at night"). */
function hourInPart(h: number, part: PartOfDay): number {
  switch (part) {
    case 'morning':
      return h;
    case 'afternoon':
    case 'evening':
      return h === 12 ? 12 : h + 12;
    case 'night':
    case 'overnight':
      return h === 12 ? 0 : h >= 5 ? h + 12 : h;
  }
}

/** The 24-hour hour of a 1-12 hour on a given day with no am/pm: 7-11 morning, 12 noon, 1-6 pm. */
function hourOnDay(h: number): number {
  return h >= 7 && h <= 12 ? h : h + 12;
}

function firstOf<K extends Token['kind']>(tokens: readonly Token[], kind: K): Extract<Token, { kind: K }> | null {
  for (const t of tokens) if (t.kind === kind) return t as Extract<Token, { kind: K }>;
  return null;
}

const dayRank: Readonly<Record<DayRef['type'], number>> = { date: 5, offset: 4, weekday: 3, weekend: 2, today: 1 };

/** The words read as the time: one stretch if its parts are joined by little words, else "a … b". */
function phraseOf(text: string, used: readonly Span[]): string {
  const sorted = [...used].sort((a, b) => a.start - b.start);
  const pieces: string[] = [];
  let start = -1;
  let end = -1;
  for (const s of sorted) {
    if (start >= 0 && joiner.test(text.slice(end, s.start))) {
      end = Math.max(end, s.end);
      continue;
    }
    if (start >= 0) pieces.push(text.slice(start, end));
    start = s.start;
    end = s.end;
  }
  if (start >= 0) pieces.push(text.slice(start, end));
  return pieces.join(' … ');
}

function joinNotes(...notes: (string | null)[]): string | null {
  const kept = notes.filter((n): n is string => n !== null);
  return kept.length > 0 ? kept.join('; ') : null;
}

/** What the message's own time is, in the zone. */
interface Now {
  readonly ms: number;
  readonly clock: ZoneClock;
  readonly today: Ymd;
  /** The wall-clock fields as UTC fields of a shifted Date. */
  readonly wall: Date;
}

/**
 * A part of the day with no clock time ("tonight", "this evening", "overnight"): its usual hour
 * (today's, or tomorrow's once it is over unless it says "this"), or null for now when that part of
 * the day is already under way.
 */
function partOfDayAt(part: PartOfDay, thisOne: boolean, now: Now): Placed | null {
  const { start, usual, end } = partDefaults[part];
  const h = now.wall.getUTCHours();
  const underWay = part === 'night' ? h >= start || h < end : h >= usual && h < end;
  if (underWay) return null;
  const over = part !== 'night' && h >= end;
  const date = over && (part === 'overnight' || !thisOne) ? addDays(now.today, 1) : now.today;
  return place(date, usual, 0, now.clock);
}

function alreadyNote(part: PartOfDay): string {
  const words = part === 'overnight' ? 'the early hours' : part === 'night' ? 'night' : `the ${part}`;
  return `already ${words}; read as now`;
}

/** The 24-hour hour of a clock token, with a part of the day or a day to settle am/pm. */
function hourOf24(c: ClockToken, part: PartToken | null, withDay: boolean): number {
  if (part && (c.twelveHour || c.loose)) return hourInPart(c.hour, part.part);
  if (c.twelveHour && withDay) return hourOnDay(c.hour);
  return c.hour;
}

/**
 * Finds the time phrase in a question and reads it as an instant, relative to the message's own
 * timestamp, in the trust's zone. With no time phrase (or "now"), the answer is the message's instant.
 * Throws a RangeError for an unknown zone or an invalid instant.
 */
export function understandTime(text: string, messageInstant: Date, zone: string): UnderstoodTime {
  const clock = zoneClock(zone);
  const nowMs = messageInstant.getTime();
  if (Number.isNaN(nowMs)) throw new RangeError('Invalid message instant');
  const asNow = (phrase: string | null, note: string | null = null): UnderstoodTime => ({
    instant: new Date(nowMs),
    source: 'now',
    phrase,
    note,
  });

  const tokens = findTokens(text);
  if (tokens.length === 0) return asNow(null);
  const duration = firstOf(tokens, 'duration');
  const clocks = tokens.filter((t): t is ClockToken => t.kind === 'clock');
  const clockToken = clocks[0] ?? null;
  const part = firstOf(tokens, 'part');
  let day: DayToken | null = null;
  for (const t of tokens) if (t.kind === 'day' && (day === null || dayRank[t.ref.type] > dayRank[day.ref.type])) day = t;
  if (!duration && !clockToken && !part && !day) {
    const said = firstOf(tokens, 'now');
    return asNow(said ? text.slice(said.start, said.end) : null);
  }

  const wall = new Date(nowMs + clock.offset(nowMs) * minute);
  const now: Now = { ms: nowMs, clock, wall, today: { y: wall.getUTCFullYear(), m: wall.getUTCMonth() + 1, d: wall.getUTCDate() } };
  const today = now.today;
  const used: Span[] = [];
  const result = (placed: Placed, ...notes: (string | null)[]): UnderstoodTime => ({
    instant: new Date(placed.at),
    source: 'phrase',
    phrase: phraseOf(text, used),
    note: joinNotes(placed.note, ...notes),
  });
  const partNow = (p: PartToken, thisOne: boolean): UnderstoodTime => {
    const placed = partOfDayAt(p.part, thisOne, now);
    return placed ? result(placed) : asNow(phraseOf(text, used), alreadyNote(p.part));
  };

  if (duration && duration.days === 0) {
    used.push(duration);
    // Real elapsed time, as luxon's plus({ hours }) adds it: "in an hour" at 00:30 GMT on 29 Mar is 02:30 BST.
    return result({ at: nowMs + duration.minutes * minute, note: null });
  }

  const severalClocks = clocks.length > 1 ? 'more than one time given; read the first' : null;
  if (clockToken) used.push(clockToken);
  if (part) used.push(part);

  // The calendar day asked about, if the words give one.
  let date: Ymd | null = null;
  let dayNote: string | null = null;
  let saysToday = false;
  if (duration) {
    used.push(duration);
    date = addDays(today, duration.days);
  } else if (day) {
    used.push(day);
    date = dateOf(day.ref, today);
    saysToday = tokens.some((t) => t.kind === 'day' && t.ref.type === 'today');
    const named = tokens.find((t): t is DayToken => t.kind === 'day' && t.ref.type === 'weekday');
    if (date && day.ref.type === 'date' && named && named.ref.type === 'weekday') {
      // "Friday 31 August": the date wins; say so if the weekday does not match.
      used.push(named);
      const actual = weekdayOf(date);
      if (actual !== named.ref.weekday) {
        dayNote =
          `${date.d} ${monthShort[date.m] ?? ''} ${date.y} is a ${weekdayNames[actual] ?? ''}, not a ` +
          `${weekdayNames[named.ref.weekday] ?? ''}; read as ${dayLabel(date, false)}`;
      }
    }
    if (date === null) return asNow(null, `${text.slice(day.start, day.end).trim()} is not a date; read as now`);
  } else if (part && part.dayOffset !== null) {
    date = addDays(today, part.dayOffset);
  }
  const isToday = date !== null && saysToday && compareYmd(date, today) === 0;
  const nightPart = part !== null && (part.part === 'night' || part.part === 'overnight');

  if (date !== null) {
    if (clockToken) {
      const hour = hourOf24(clockToken, part, true);
      // At night (or "midnight"), early-morning hours belong to the night after that day.
      const onDate = (nightPart || clockToken.midnight) && hour < 12 ? addDays(date, 1) : date;
      const midnightNote = clockToken.midnight && day !== null ? `midnight read as the end of ${dayLabel(date, false)}` : null;
      return result(place(onDate, hour, clockToken.minute, clock), dayNote, midnightNote, severalClocks);
    }
    if (duration) {
      // "in 3 days": calendar days, keeping the wall time (as luxon's plus({ days }) does).
      return result(place(date, wall.getUTCHours(), wall.getUTCMinutes(), clock, wall.getUTCSeconds(), wall.getUTCMilliseconds()));
    }
    if (part) {
      if (isToday) return partNow(part, true);
      const onDate = part.part === 'overnight' ? addDays(date, 1) : date;
      return result(place(onDate, partDefaults[part.part].usual, 0, clock), dayNote);
    }
    if (isToday) return asNow(phraseOf(text, used));
    return result(place(date, 12, 0, clock), dayNote, 'no time given; read as 12:00');
  }

  if (clockToken) {
    if (part && part.part === 'night' && part.thisOne) {
      // "2am tonight", "tonight at 1:30": the coming night (still the current one before 06:00).
      const hour = hourOf24(clockToken, part, false);
      const evening = wall.getUTCHours() < 6 ? addDays(today, -1) : today;
      const first = hour < 12 ? addDays(evening, 1) : evening;
      let placed = place(first, hour, clockToken.minute, clock);
      if (placed.at <= nowMs - 60 * minute) placed = place(addDays(first, 1), hour, clockToken.minute, clock);
      return result(placed, severalClocks);
    }
    const hour = hourOf24(clockToken, part, false);
    if (part && part.thisOne) return result(place(today, hour, clockToken.minute, clock), severalClocks);
    // A bare hour with nothing to settle am/pm: whichever of the two comes next.
    const hours = clockToken.twelveHour && !part ? [hour % 12, (hour % 12) + 12] : [hour];
    return result(nextOccurrence(today, hours, clockToken.minute, clock, nowMs), severalClocks);
  }

  return part ? partNow(part, part.thisOne) : asNow(null);
}
