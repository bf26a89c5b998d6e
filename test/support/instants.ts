import { DateTime } from 'luxon';

/** The instant of a London wall-clock time, e.g. london('2026-12-03T02:00'). Never the real clock. */
export function london(localIso: string): Date {
  const dt = DateTime.fromISO(localIso, { zone: 'Europe/London' });
  if (!dt.isValid) throw new Error(`bad test time ${localIso}`);
  return dt.toJSDate();
}

/** The trust's zone, as the bot is configured by default. */
export const zone = 'Europe/London';
