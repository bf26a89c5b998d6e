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
 *
 * This module reads the tokens; finding them is find-time-tokens.ts (with clock-times.ts,
 * date-phrases.ts, day-parts.ts and durations.ts, over the types in time-tokens.ts), and the date
 * and zone arithmetic is calendar-days.ts and zone-placement.ts.
 */
import { hourOf24 } from './clock-times';
import { addDays, compareYmd, dateOf, dayLabel, monthShort, weekdayNames, weekdayOf, type Ymd } from './calendar-days';
import { alreadyNote, partOfDayAt, usualHour } from './day-parts';
import { findTokens } from './find-time-tokens';
import type { ClockToken, DayRef, DayToken, DurationToken, PartToken, Span, Token } from './time-tokens';
import { minute, nextOccurrence, nowIn, place, zoneClock, type Now, type Placed } from './zone-placement';

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

/** What may separate two parts of one phrase ("at 18:30 on a Friday", "Friday, 2am"). */
const joiner = /^[\s,;:()–-]*(?:(?:on|at|of|the|a|in|this|and|from)[\s,]+)*$/i;

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

/** The tokens that decide the reading: the first of each kind, and the most specific day. */
interface Chosen {
  readonly duration: DurationToken | null;
  readonly clocks: readonly ClockToken[];
  readonly clock: ClockToken | null;
  readonly part: PartToken | null;
  readonly day: DayToken | null;
}

/** Picks the deciding tokens; of several days, the most specific (a date over a weekday over "today"). */
function choose(tokens: readonly Token[]): Chosen {
  const clocks = tokens.filter((t): t is ClockToken => t.kind === 'clock');
  let day: DayToken | null = null;
  for (const t of tokens) if (t.kind === 'day' && (day === null || dayRank[t.ref.type] > dayRank[day.ref.type])) day = t;
  return { duration: firstOf(tokens, 'duration'), clocks, clock: clocks[0] ?? null, part: firstOf(tokens, 'part'), day };
}

/** A reading under way: the text, the message's time, and the tokens used so far (for the phrase). */
interface Reading {
  readonly text: string;
  readonly tokens: readonly Token[];
  readonly now: Now;
  readonly used: Span[];
}

/** The message's own instant, with the words (if any) that said "now". */
function asNow(nowMs: number, phrase: string | null, note: string | null = null): UnderstoodTime {
  return { instant: new Date(nowMs), source: 'now', phrase, note };
}

/** An instant read from the phrase, with the phrase as used so far and every note that applies. */
function result(r: Reading, placed: Placed, ...notes: (string | null)[]): UnderstoodTime {
  return { instant: new Date(placed.at), source: 'phrase', phrase: phraseOf(r.text, r.used), note: joinNotes(placed.note, ...notes) };
}

/** A part of the day with no clock time: its usual hour, or now (with a note) once it is under way. */
function partNow(r: Reading, p: PartToken, thisOne: boolean): UnderstoodTime {
  const placed = partOfDayAt(p.part, thisOne, r.now);
  return placed ? result(r, placed) : asNow(r.now.ms, phraseOf(r.text, r.used), alreadyNote(p.part));
}

/** The calendar day the words ask about (date null if they give none), or day words that are not a date. */
type AskedDay =
  | { readonly kind: 'day'; readonly date: Ymd | null; readonly note: string | null; readonly saysToday: boolean }
  | { readonly kind: 'not-a-date'; readonly words: string };

/** A day the words give, with its note (a weekday that does not match the date) and whether they say "today". */
interface GivenDay {
  readonly date: Ymd;
  readonly note: string | null;
  readonly saysToday: boolean;
}

/** "Friday 31 August": the date wins; the note says so if the weekday does not match. */
function weekdayMismatch(date: Ymd, named: DayToken | undefined, r: Reading): string | null {
  if (!named || named.ref.type !== 'weekday') return null;
  r.used.push(named);
  const actual = weekdayOf(date);
  if (actual === named.ref.weekday) return null;
  return (
    `${date.d} ${monthShort[date.m] ?? ''} ${date.y} is a ${weekdayNames[actual] ?? ''}, not a ` +
    `${weekdayNames[named.ref.weekday] ?? ''}; read as ${dayLabel(date, false)}`
  );
}

/** The day asked about: from a duration in days, from day words, or from "last night"; or none. */
function dayAskedAbout(r: Reading, chosen: Chosen): AskedDay {
  const { duration, day, part } = chosen;
  const today = r.now.today;
  if (duration) {
    r.used.push(duration);
    return { kind: 'day', date: addDays(today, duration.days), note: null, saysToday: false };
  }
  if (day) {
    r.used.push(day);
    const date = dateOf(day.ref, today);
    const saysToday = r.tokens.some((t) => t.kind === 'day' && t.ref.type === 'today');
    const named = r.tokens.find((t): t is DayToken => t.kind === 'day' && t.ref.type === 'weekday');
    const note = date && day.ref.type === 'date' ? weekdayMismatch(date, named, r) : null;
    if (date === null) return { kind: 'not-a-date', words: r.text.slice(day.start, day.end).trim() };
    return { kind: 'day', date, note, saysToday };
  }
  if (part && part.dayOffset !== null) return { kind: 'day', date: addDays(today, part.dayOffset), note: null, saysToday: false };
  return { kind: 'day', date: null, note: null, saysToday: false };
}

/** The words give a day: a clock time, a duration's wall time, a part of the day, or noon on it. */
function readOnDate(r: Reading, chosen: Chosen, given: GivenDay, severalClocks: string | null): UnderstoodTime {
  const { clock: clockToken, duration, part, day } = chosen;
  const { clock, wall, today } = r.now;
  const { date, note: dayNote } = given;
  const isToday = given.saysToday && compareYmd(date, today) === 0;
  if (clockToken) {
    const nightPart = part !== null && (part.part === 'night' || part.part === 'overnight');
    const hour = hourOf24(clockToken, part, true);
    // At night (or "midnight"), early-morning hours belong to the night after that day.
    const onDate = (nightPart || clockToken.midnight) && hour < 12 ? addDays(date, 1) : date;
    const midnightNote = clockToken.midnight && day !== null ? `midnight read as the end of ${dayLabel(date, false)}` : null;
    return result(r, place(onDate, hour, clockToken.minute, clock), dayNote, midnightNote, severalClocks);
  }
  if (duration) {
    // "in 3 days": calendar days, keeping the wall time (as luxon's plus({ days }) does).
    return result(r, place(date, wall.getUTCHours(), wall.getUTCMinutes(), clock, wall.getUTCSeconds(), wall.getUTCMilliseconds()));
  }
  if (part) {
    if (isToday) return partNow(r, part, true);
    const onDate = part.part === 'overnight' ? addDays(date, 1) : date;
    return result(r, place(onDate, usualHour(part.part), 0, clock), dayNote);
  }
  if (isToday) return asNow(r.now.ms, phraseOf(r.text, r.used));
  return result(r, place(date, 12, 0, clock), dayNote, 'no time given; read as 12:00');
}

/** A clock time with no day: tonight's, today's with "this", else whichever comes next. */
function readClockAlone(r: Reading, clockToken: ClockToken, part: PartToken | null, severalClocks: string | null): UnderstoodTime {
  const { clock, wall, today, ms: nowMs } = r.now;
  const hour = hourOf24(clockToken, part, false);
  if (part && part.part === 'night' && part.thisOne) {
    // "2am tonight", "tonight at 1:30": the coming night (still the current one before 06:00).
    const evening = wall.getUTCHours() < 6 ? addDays(today, -1) : today;
    const first = hour < 12 ? addDays(evening, 1) : evening;
    let placed = place(first, hour, clockToken.minute, clock);
    if (placed.at <= nowMs - 60 * minute) placed = place(addDays(first, 1), hour, clockToken.minute, clock);
    return result(r, placed, severalClocks);
  }
  if (part && part.thisOne) return result(r, place(today, hour, clockToken.minute, clock), severalClocks);
  // A bare hour with nothing to settle am/pm: whichever of the two comes next.
  const hours = clockToken.twelveHour && !part ? [hour % 12, (hour % 12) + 12] : [hour];
  return result(r, nextOccurrence(today, hours, clockToken.minute, clock, nowMs), severalClocks);
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

  const tokens = findTokens(text);
  if (tokens.length === 0) return asNow(nowMs, null);
  const chosen = choose(tokens);
  const { duration, clock: clockToken, part } = chosen;
  if (!duration && !clockToken && !part && !chosen.day) {
    const said = firstOf(tokens, 'now');
    return asNow(nowMs, said ? text.slice(said.start, said.end) : null);
  }

  const r: Reading = { text, tokens, now: nowIn(nowMs, clock), used: [] };
  if (duration && duration.days === 0) {
    r.used.push(duration);
    // Real elapsed time, as luxon's plus({ hours }) adds it: "in an hour" at 00:30 GMT on 29 Mar is 02:30 BST.
    return result(r, { at: nowMs + duration.minutes * minute, note: null });
  }

  const severalClocks = chosen.clocks.length > 1 ? 'more than one time given; read the first' : null;
  if (clockToken) r.used.push(clockToken);
  if (part) r.used.push(part);

  const asked = dayAskedAbout(r, chosen);
  if (asked.kind === 'not-a-date') return asNow(nowMs, null, `${asked.words} is not a date; read as now`);
  if (asked.date !== null) return readOnDate(r, chosen, { date: asked.date, note: asked.note, saysToday: asked.saysToday }, severalClocks);
  if (clockToken) return readClockAlone(r, clockToken, part, severalClocks);
  return part ? partNow(r, part, part.thisOne) : asNow(nowMs, null);
}
