/**
 * Whether a weekly window from the guide (e.g. "Mon-Fri 09:00-17:00, not bank holidays",
 * "17:00-08:00 every day") is open at an instant, and when that next changes.
 * Evaluated in the trust's wall-clock zone, never the host's.
 */
import { DateTime } from 'luxon';
import type { AvailabilityWindow, Weekday } from '../guide/guide';
import { isBankHoliday } from './bank-holidays';

const weekdayByLuxon: readonly Weekday[] = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** The state of a window at an instant. */
export interface WindowState {
  readonly open: boolean;
  /** The next instant the state flips, in the trust's zone; null if it does not within two weeks. */
  readonly changesAt: DateTime | null;
}

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

function dayCounts(window: AvailabilityWindow, local: DateTime): boolean {
  const day = weekdayByLuxon[local.weekday - 1];
  if (!day || !window.days.includes(day)) return false;
  return !(window.bankHolidays === 'closed' && isBankHoliday(local.toISODate() ?? ''));
}

/** Whether `window` is open at the wall-clock time `local`. Windows are half-open: [from, to). */
export function isOpenAt(window: AvailabilityWindow, local: DateTime): boolean {
  const t = local.hour * 60 + local.minute + local.second / 60;
  const from = minutes(window.from);
  const to = minutes(window.to);
  if (from < to) return dayCounts(window, local) && t >= from && t < to;
  // Overnight: the evening part belongs to today's window, the early-morning part to yesterday's.
  return (t >= from && dayCounts(window, local)) || (t < to && dayCounts(window, local.minus({ days: 1 })));
}

/** The instants during `date`'s local day at which the zone's UTC offset changes (clock changes). */
function offsetChanges(date: DateTime): DateTime[] {
  const next = date.plus({ days: 1 });
  if (date.offset === next.offset) return [];
  const found: DateTime[] = [];
  // Clock changes fall on a quarter hour in every zone in use; step through the day to find them.
  let previous = date;
  for (let t = date.plus({ minutes: 15 }); t <= next; t = t.plus({ minutes: 15 })) {
    if (t.offset !== previous.offset) found.push(t);
    previous = t;
  }
  return found;
}

/** The window's state at `instant`, and when it next changes. */
export function windowState(window: AvailabilityWindow, instant: Date, zone: string): WindowState {
  const local = DateTime.fromJSDate(instant, { zone });
  const open = isOpenAt(window, local);
  // The state only flips at a window edge, at midnight (weekday or bank holiday changes) or at a
  // clock change (which can skip or repeat an edge).
  const edges = [...new Set(['00:00', window.from, window.to])].map(minutes);
  const startOfDay = local.startOf('day');
  for (let day = 0; day <= 14; day += 1) {
    const date = startOfDay.plus({ days: day });
    const candidates: DateTime[] = offsetChanges(date);
    for (const edge of edges) {
      const wall = DateTime.fromObject(
        { year: date.year, month: date.month, day: date.day, hour: Math.floor(edge / 60), minute: edge % 60 },
        { zone },
      );
      // A wall time that happens twice (autumn) is an edge both times.
      candidates.push(...wall.getPossibleOffsets());
    }
    candidates.sort((a, b) => a.toMillis() - b.toMillis());
    for (const candidate of candidates) {
      if (candidate > local && isOpenAt(window, candidate) !== open) return { open, changesAt: candidate };
    }
  }
  return { open, changesAt: null };
}
