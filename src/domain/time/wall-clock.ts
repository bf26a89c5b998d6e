/**
 * Saying instants back to a clinician in the trust's wall-clock time, so that any misreading
 * of the time is visible.
 */
import { DateTime } from 'luxon';

const locale = 'en-GB';

/** The instant as trust-local wall-clock time. */
export function toLocal(instant: Date, zone: string): DateTime {
  return DateTime.fromJSDate(instant, { zone }).setLocale(locale);
}

/** "02:00 on Thu 3 Dec" (with the zone's abbreviation, e.g. GMT or BST). */
export function describeInstant(instant: Date, zone: string): string {
  return toLocal(instant, zone).toFormat("HH:mm 'on' ccc d LLL");
}

/** The zone's short name at that instant ("GMT", "BST"). */
export function zoneAbbreviation(instant: Date, zone: string): string {
  return toLocal(instant, zone).offsetNameShort ?? zone;
}

/** "17:00 today", "08:00 tomorrow (Fri 4 Dec)" or "09:00 on Tue 1 Sept" (en-GB month names), relative to `now`. */
export function describeChange(at: DateTime, now: Date, zone: string): string {
  const local = at.setZone(zone).setLocale(locale);
  const today = toLocal(now, zone).startOf('day');
  const days = Math.round(local.startOf('day').diff(today, 'days').days);
  const time = local.toFormat('HH:mm');
  if (days === 0) return `${time} today`;
  if (days === 1) return `${time} tomorrow (${local.toFormat('ccc d LLL')})`;
  return `${time} on ${local.toFormat('ccc d LLL')}`;
}
