/**
 * Whether a weekly window from the guide (e.g. "Mon-Fri 09:00-17:00, not bank holidays",
 * "17:00-08:00 every day") is open at an instant, and when that next changes.
 * Evaluated in the trust's wall-clock zone, never the host's.
 *
 * This runs for every answer, so it works on plain numbers: "wall" milliseconds are the trust's
 * wall-clock time counted as if it were UTC, got from the zone's (memoised) UTC offset.
 */
import { DateTime } from 'luxon';
import type { AvailabilityWindow, Weekday } from '../guide/guide';
import type { BankHolidays } from './bank-holidays';
import { fastZone } from './fast-zone';

const minuteMs = 60_000;
const dayMs = 86_400_000;
/** getUTCDay() order: Sunday first. */
const weekdayOfUtcDay: readonly Weekday[] = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** The state of a window at an instant. */
export interface WindowState {
  readonly open: boolean;
  /** The next instant the state flips, in the trust's zone; null if it does not within two weeks. */
  readonly changesAt: DateTime | null;
}

const parsed = new Map<string, number>();

function minutes(hhmm: string): number {
  let value = parsed.get(hhmm);
  if (value === undefined) {
    const [h, m] = hhmm.split(':').map(Number) as [number, number];
    value = h * 60 + m;
    parsed.set(hhmm, value);
  }
  return value;
}

/** Whether the window counts on the calendar day containing `wallMs` (weekday, bank holidays). */
function dayCounts(window: AvailabilityWindow, wallMs: number, holidays: BankHolidays): boolean {
  const date = new Date(wallMs);
  const day = weekdayOfUtcDay[date.getUTCDay()]!;
  if (!window.days.includes(day)) return false;
  return !(window.bankHolidays === 'closed' && holidays.isBankHoliday(date.toISOString().slice(0, 10)));
}

/** Whether `window` is open at wall-clock time `wallMs`. Windows are half-open: [from, to). */
function isOpenAtWall(window: AvailabilityWindow, wallMs: number, holidays: BankHolidays): boolean {
  const t = (((wallMs % dayMs) + dayMs) % dayMs) / minuteMs;
  const from = minutes(window.from);
  const to = minutes(window.to);
  if (from < to) return t >= from && t < to && dayCounts(window, wallMs, holidays);
  // Overnight: the evening part belongs to today's window, the early-morning part to yesterday's.
  return (t >= from && dayCounts(window, wallMs, holidays)) || (t < to && dayCounts(window, wallMs - dayMs, holidays));
}

/** Whether `window` is open at the wall-clock time `local`. Windows are half-open: [from, to). */
export function isOpenAt(window: AvailabilityWindow, local: DateTime, holidays: BankHolidays): boolean {
  return isOpenAtWall(window, local.toMillis() + local.offset * minuteMs, holidays);
}

/** The window's state at `instant`, and when it next changes. */
export function windowState(window: AvailabilityWindow, instant: Date, zoneName: string, holidays: BankHolidays): WindowState {
  const zone = fastZone(zoneName);
  const wall = (ts: number): number => ts + zone.offset(ts) * minuteMs;
  const now = instant.getTime();
  const open = isOpenAtWall(window, wall(now), holidays);
  const edges = [...new Set([0, minutes(window.from), minutes(window.to)])].sort((a, b) => a - b);
  const firstDay = Math.floor(wall(now) / dayMs) * dayMs;
  for (let day = 0; day <= 14; day += 1) {
    const dayStart = firstDay + day * dayMs;
    const candidates: number[] = [];
    // The state only flips at a window edge, at midnight (weekday or bank holiday changes) or at a
    // clock change (which can skip or repeat an edge).
    const offsets = new Set([zone.offset(dayStart - dayMs), zone.offset(dayStart + 2 * dayMs)]);
    for (const edge of edges) {
      const wallEdge = dayStart + edge * minuteMs;
      // Every instant whose wall time is this edge: two in the repeated hour, none in the skipped one.
      for (const offset of offsets) {
        const ts = wallEdge - offset * minuteMs;
        if (zone.offset(ts) === offset) candidates.push(ts);
      }
    }
    const before = zone.offset(dayStart - 14 * 60 * minuteMs);
    const after = zone.offset(dayStart + 38 * 60 * minuteMs);
    if (before !== after) {
      // Find the clock change to the quarter hour (zones change only on quarter hours).
      let lo = dayStart - 14 * 60 * minuteMs;
      let hi = dayStart + 38 * 60 * minuteMs;
      while (hi - lo > 15 * minuteMs) {
        const mid = lo + Math.floor((hi - lo) / (30 * minuteMs)) * 15 * minuteMs;
        if (zone.offset(mid) === before) lo = mid;
        else hi = mid;
      }
      candidates.push(hi);
    }
    candidates.sort((a, b) => a - b);
    for (const ts of candidates) {
      if (ts > now && isOpenAtWall(window, wall(ts), holidays) !== open) {
        return { open, changesAt: DateTime.fromMillis(ts, { zone }) };
      }
    }
  }
  return { open, changesAt: null };
}
