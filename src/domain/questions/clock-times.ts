/**
 * Clock times in a question's text ("at 02:00", "5pm", "half five", "1730hrs", "noon", "at 9"):
 * their patterns, the readers that turn a match into a clock token, and the rules that settle am/pm
 * for an hour given without it.
 */
import {
  numberWords,
  overlaps,
  scan,
  textBefore,
  type ClockToken,
  type PartOfDay,
  type PartToken,
  type Span,
  type Token,
} from './time-tokens';

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

const timeLeadBefore = /\b(?:at|by|from|until|till|til|before|after|around|about|approx\.?|between|and|to)\s*$/i;
const yearLeadBefore = /\b(?:at|around|about)\s*$/i;
const notTimeWordBefore = new RegExp(
  String.raw`(?:\b(?:on|in|since|of|year|bleep(?:ed|er|ing|s)?|ext|extension|phone|tel|call|ring|dial|` +
    String.raw`pager|page|number|no|ref|room|ward|bed|code|pin|id|x)\.?|[#£$€])\s*:?\s*$`,
  'i',
);

function hourOf(word: string): number {
  return numberWords[word.toLowerCase()] ?? Number(word);
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

/** "quarter to five", "twenty past 3pm", "half five". */
function readClockWords(m: RegExpExecArray, s: number, e: number): ClockToken | null {
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
}

/** "02:00", "17.30", "1:30", "18:30hrs". */
function readClockColon(m: RegExpExecArray, s: number, e: number): ClockToken | null {
  const hourText = m[2] ?? '';
  const hour = Number(hourText);
  const minute = Number(m[4]);
  const hrs = m[5] !== undefined;
  // "17.30" needs to look like a time: two-digit hour, a lead word or "hrs" ("1.25 mg" is not).
  if (m[3] === '.' && hourText.length < 2 && m[1] === undefined && !hrs) return null;
  // "2:00", "02:00" and "17:30" are 24-hour times; a one-digit hour bends only to "tonight" etc.
  return clockAt(s, e, hour, minute, false, hourText.length === 1 && !hrs);
}

/** Whether a four-digit number with no "hrs" reads as a time, from the words around it. */
function fourDigitsLookLikeTime(text: string, hour: number, lead: string, e: number): boolean {
  const yearLike = hour >= 19 && hour <= 20;
  if (yearLike && !yearLeadBefore.test(lead)) return false;
  if (timeLeadBefore.test(lead)) return true;
  // Standalone "0200": not after a number-ish word, and not a quantity ("1500 images").
  if (notTimeWordBefore.test(lead)) return false;
  return /^(?:\s*[?!.,;)]|\s*$|\s+(?!(?:%|mg|ml|images?|scans?|patients?|studies|slices?|people|units?|days?|hours?|years?)\b))/i.test(
    text.slice(e),
  );
}

/** "0200", "1730hrs", "at 1800". */
function readFourDigits(text: string, taken: readonly Span[], m: RegExpExecArray, s: number, e: number): ClockToken | null {
  const hour = Number(m[1]);
  const minute = Number(m[2]);
  const hrs = m[3] !== undefined;
  const lead = textBefore(text, s);
  if (!hrs && !fourDigitsLookLikeTime(text, hour, lead, e)) return null;
  // The lead word ("at") belongs in the phrase.
  const leadMatch = /\b(at|by|from|until|till|before|after|around|about)\s+$/i.exec(lead);
  const start = leadMatch ? s - leadMatch[0].length : s;
  if (leadMatch && overlaps(taken, start, s)) return clockAt(s, e, hour, minute, false);
  return clockAt(start, e, hour, minute, false);
}

/** "noon", "midday", "midnight" (which, with a day, is the end of that day). */
function readNoonMidnight(m: RegExpExecArray, s: number, e: number): ClockToken | null {
  const word = (m[2] ?? '').toLowerCase();
  if (word === 'midnight') return { kind: 'clock', start: s, end: e, hour: 0, minute: 0, twelveHour: false, loose: false, midnight: true };
  return clockAt(s, e, 12, 0, false);
}

/** Finds the clock times in the text, most specific pattern first, in text not yet taken. */
export function scanClockTimes(text: string, taken: Span[], tokens: Token[]): void {
  scan(clockMeridiem, text, taken, tokens, (m, s, e) => withMeridiem(s, e, hourOf(m[2] ?? ''), Number(m[3] ?? 0), m[4] ?? ''));
  scan(clockWords, text, taken, tokens, readClockWords);
  scan(clockOclock, text, taken, tokens, (m, s, e) => {
    const hour = hourOf(m[2] ?? '');
    return hour >= 1 && hour <= 12 ? clockAt(s, e, hour, 0, true) : null;
  });
  scan(clockColon, text, taken, tokens, readClockColon);
  scan(clockFourDigits, text, taken, tokens, (m, s, e) => readFourDigits(text, taken, m, s, e));
  scan(noonMidnight, text, taken, tokens, readNoonMidnight);
  scan(clockBare, text, taken, tokens, (m, s, e) => {
    const hour = Number(m[2]);
    return clockAt(s, e, hour, 0, hour >= 1 && hour <= 12);
  });
  scan(clockBareWord, text, taken, tokens, (m, s, e) => clockAt(s, e, hourOf(m[2] ?? ''), 0, true));
}

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

/** The 24-hour hour of a clock token, with a part of the day or a day to settle am/pm. */
export function hourOf24(c: ClockToken, part: PartToken | null, withDay: boolean): number {
  if (part && (c.twelveHour || c.loose)) return hourInPart(c.hour, part.part);
  if (c.twelveHour && withDay) return hourOnDay(c.hour);
  return c.hour;
}
