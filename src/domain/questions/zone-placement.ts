/**
 * Placing wall-clock times in the trust's zone for time-phrase reading: the zone's UTC offsets
 * (luxon's, memoised), the instant of a wall-clock time on a date (with a note near a clock change),
 * and the message's own time in the zone.
 */
import { DateTime, IANAZone } from 'luxon';
import { addDays, dayLabel, type Ymd } from './calendar-days';

/** One minute, in milliseconds. */
export const minute = 60_000;
const oneDay = 24 * 60 * minute;
const locale = 'en-GB';

/** An instant read from the words, with a note where the reading needed a choice. */
export interface Placed {
  readonly at: number;
  readonly note: string | null;
  /** For a time that happens twice (the clocks go back): the second reading, and its note. */
  readonly second?: { readonly at: number; readonly note: string };
}

/** A zone and its UTC offsets (minutes), remembered per 15 minutes: zones change offset only on quarter hours. */
export interface ZoneClock {
  readonly name: string;
  offset(ts: number): number;
}

const quarterHour = 15 * minute;
const zoneClocks = new Map<string, ZoneClock>();

/** The zone's clock; luxon's offsets, which are right for any host zone, memoised (they cost an Intl call each). */
export function zoneClock(name: string): ZoneClock {
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

/** What the message's own time is, in the zone. */
export interface Now {
  readonly ms: number;
  readonly clock: ZoneClock;
  readonly today: Ymd;
  /** The wall-clock fields as UTC fields of a shifted Date. */
  readonly wall: Date;
}

/** The message's instant (ms) as a wall-clock time and date in the zone. */
export function nowIn(ms: number, clock: ZoneClock): Now {
  const wall = new Date(ms + clock.offset(ms) * minute);
  return { ms, clock, wall, today: { y: wall.getUTCFullYear(), m: wall.getUTCMonth() + 1, d: wall.getUTCDate() } };
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
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
export function place(date: Ymd, hour: number, min: number, clock: ZoneClock, sec = 0, ms = 0): Placed {
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
export function nextOccurrence(today: Ymd, hours: readonly number[], min: number, clock: ZoneClock, nowMs: number): Placed {
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
