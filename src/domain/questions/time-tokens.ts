/**
 * The tokens that time-phrase reading finds in a question's text (clock times, parts of the day,
 * days, durations, "now"), and the scanning primitive every token reader shares: a pattern's matches
 * become tokens only where no earlier reader has already taken the text.
 */

/** The parts of the day a question can name ("this morning", "tonight", "overnight"). */
export type PartOfDay = 'morning' | 'afternoon' | 'evening' | 'night' | 'overnight';

/** A stretch of the text, by character offsets (end exclusive). */
export interface Span {
  readonly start: number;
  readonly end: number;
}

/** A clock time ("02:00", "5pm", "half five", "midnight"). */
export interface ClockToken extends Span {
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

/** A part of the day ("this evening", "tonight", "last night"). */
export interface PartToken extends Span {
  readonly kind: 'part';
  readonly part: PartOfDay;
  /** "this evening", "tonight": today's, even if already under way. */
  readonly thisOne: boolean;
  /** "last night" carries its own day. */
  readonly dayOffset: number | null;
}

/** What a day word refers to, before it is placed relative to today. */
export type DayRef =
  | { readonly type: 'today' }
  | { readonly type: 'offset'; readonly days: number }
  | { readonly type: 'weekday'; readonly weekday: number; readonly mode: 'next' | 'next-week' | 'last'; readonly weekLater: boolean }
  | { readonly type: 'weekend'; readonly nextWeek: boolean }
  | { readonly type: 'date'; readonly month: number; readonly day: number; readonly year: number | null };

/** A day ("tomorrow", "next Monday", "at the weekend", "29 March"). */
export interface DayToken extends Span {
  readonly kind: 'day';
  readonly ref: DayRef;
  /** A three-letter weekday ("sat", "sun", "wed") counts only next to other time words. */
  readonly weak: boolean;
}

/** A time from now ("in an hour", "in 3 days"). */
export interface DurationToken extends Span {
  readonly kind: 'duration';
  /** Real elapsed minutes ("in an hour"), or calendar days keeping wall time ("in 3 days"). */
  readonly minutes: number;
  readonly days: number;
}

/** "now", "right now", "currently", "at the moment". */
export interface NowToken extends Span {
  readonly kind: 'now';
}

/** Any token found in the text. */
export type Token = ClockToken | PartToken | DayToken | DurationToken | NowToken;

/** Numbers written as words, for counts ("in two hours") and clock times ("half five"). */
export const numberWords: Readonly<Record<string, number>> = {
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

/** Whether the stretch start..end overlaps any of the taken spans. */
export function overlaps(taken: readonly Span[], start: number, end: number): boolean {
  for (const s of taken) if (start < s.end && end > s.start) return true;
  return false;
}

/** Runs a global pattern over the text; `make` turns a free match into a token (or null). */
export function scan(
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

/** The words just before `start` (up to 24 characters), for context checks. */
export function textBefore(text: string, start: number): string {
  return text.slice(Math.max(0, start - 24), start);
}
