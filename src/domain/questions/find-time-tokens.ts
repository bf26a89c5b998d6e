/**
 * Finding every time token in a question's text: numbers that are never times are set aside first,
 * then each reader takes its matches in a fixed order (durations, dates, clock times, parts of the
 * day, day names, "now"), so an earlier, more specific reading wins over a later one.
 */
import { scanClockTimes } from './clock-times';
import { scanDates, scanDayNames } from './date-phrases';
import { scanPartsOfDay } from './day-parts';
import { scanDurations } from './durations';
import { scan, type Span, type Token } from './time-tokens';

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

const nowPattern = /\b(right\s+now|just\s+now|now|at\s+the\s+moment|at\s+present|currently)\b/gi;

/** What reads as a clock/day word's neighbour, for weak weekday abbreviations. */
const nearGap = /^[\s,;:()–-]*(?:(?:on|at|the|a|this|next|and|of)[\s,]+)*$/i;

/** The spans of numbers that are not times (NHS and phone numbers, bleeps, extensions, versions). */
function notTimeSpans(text: string): Span[] {
  const taken: Span[] = [];
  digitRun.lastIndex = 0;
  for (let m = digitRun.exec(text); m !== null; m = digitRun.exec(text)) {
    if (m[0].replace(/\D/g, '').length >= 9) taken.push({ start: m.index, end: m.index + m[0].length });
    else digitRun.lastIndex = m.index + 1;
  }
  for (const re of notTimes) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) taken.push({ start: m.index, end: m.index + m[0].length });
  }
  return taken;
}

/** Every time token in the text, in the order the readers found them. */
export function findTokens(text: string): Token[] {
  // Numbers that are not times are taken first, so no pattern below can read them.
  const taken = notTimeSpans(text);
  const tokens: Token[] = [];
  scanDurations(text, taken, tokens);
  scanDates(text, taken, tokens);
  scanClockTimes(text, taken, tokens);
  scanPartsOfDay(text, taken, tokens);
  scanDayNames(text, taken, tokens);
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
