/**
 * Saying instants back to a clinician in the trust's wall-clock time, so that any misreading
 * of the time is visible. Formatting is done by hand (en-GB names) because it runs for every
 * answer and luxon's Intl formatting cost more than the rest of the answer.
 */
import { DateTime } from 'luxon';
import { fastZone } from './fast-zone';

const locale = 'en-GB';
const minuteMs = 60_000;
const dayMs = 86_400_000;
const weekdays = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
// en-GB short month names, as luxon/Intl give them ("Sept").
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sept', 'Oct', 'Nov', 'Dec'];

/** The trust's wall-clock time of an instant, as milliseconds counted as if UTC. */
export function wallMillis(instant: Date | number, zone: string): number {
  const ts = typeof instant === 'number' ? instant : instant.getTime();
  return ts + fastZone(zone).offset(ts) * minuteMs;
}

/** The trust-local calendar date (YYYY-MM-DD) of an instant. */
export function localIsoDate(instant: Date, zone: string): string {
  return new Date(wallMillis(instant, zone)).toISOString().slice(0, 10);
}

/** The instant as trust-local wall-clock time. */
export function toLocal(instant: Date, zone: string): DateTime {
  return DateTime.fromJSDate(instant, { zone: fastZone(zone) }).setLocale(locale);
}

function hhmm(wall: Date): string {
  return `${String(wall.getUTCHours()).padStart(2, '0')}:${String(wall.getUTCMinutes()).padStart(2, '0')}`;
}

function dayMonth(wall: Date): string {
  return `${weekdays[wall.getUTCDay()]!} ${wall.getUTCDate()} ${months[wall.getUTCMonth()]!}`;
}

/** "02:00 on Thu 3 Dec". */
export function describeInstant(instant: Date, zone: string): string {
  const wall = new Date(wallMillis(instant, zone));
  return `${hhmm(wall)} on ${dayMonth(wall)}`;
}

/** The zone's short name at that instant ("GMT", "BST"). */
export function zoneAbbreviation(instant: Date, zone: string): string {
  return fastZone(zone).offsetName(instant.getTime(), { format: 'short', locale }) || zone;
}

/** "17:00 today", "08:00 tomorrow (Fri 4 Dec)" or "09:00 on Tue 1 Sept" (en-GB month names), relative to `now`. */
export function describeChange(at: DateTime, now: Date, zone: string): string {
  const atWall = wallMillis(at.toMillis(), zone);
  const days = Math.floor(atWall / dayMs) - Math.floor(wallMillis(now, zone) / dayMs);
  const wall = new Date(atWall);
  if (days === 0) return `${hhmm(wall)} today`;
  if (days === 1) return `${hhmm(wall)} tomorrow (${dayMonth(wall)})`;
  return `${hhmm(wall)} on ${dayMonth(wall)}`;
}
