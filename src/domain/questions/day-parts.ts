/**
 * Parts of the day in a question's text ("this morning", "tonight", "overnight", "last night"):
 * finding them, their usual hours, and reading one given with no clock time as an instant (or as
 * now, when that part of the day is already under way).
 */
import { addDays } from './calendar-days';
import { scan, textBefore, type PartOfDay, type PartToken, type Span, type Token } from './time-tokens';
import { place, type Now, type Placed } from './zone-placement';

const partOfDay = new RegExp(
  String.raw`\b(?:(this|last|in\s+the|during\s+the|at|over|through|the)\s+)?(?:(early\s+hours)|` +
    String.raw`(morning|afternoon|evening|night)s?|(overnight)|(tonight|tonite)|(night-?time))\b`,
  'gi',
);
/** "good morning" is a greeting, not a time. */
const greetingBefore = /\bgood\s*$/i;

function readPartOfDay(text: string, m: RegExpExecArray, s: number, e: number): PartToken | null {
  const lead = (m[1] ?? '').toLowerCase();
  if (lead === '' && greetingBefore.test(textBefore(text, s))) return null;
  if (m[2] !== undefined || m[4] !== undefined) {
    return { kind: 'part', start: s, end: e, part: 'overnight', thisOne: false, dayOffset: lead === 'last' ? -1 : null };
  }
  if (m[5] !== undefined) return { kind: 'part', start: s, end: e, part: 'night', thisOne: true, dayOffset: null };
  const word = (m[3] ?? 'night').toLowerCase();
  // "on nights" is a rota, not a time.
  if (word === 'night' && /s$/i.test(m[0])) return null;
  const part: PartOfDay = word === 'morning' ? 'morning' : word === 'afternoon' ? 'afternoon' : word === 'evening' ? 'evening' : 'night';
  return { kind: 'part', start: s, end: e, part, thisOne: lead === 'this', dayOffset: lead === 'last' ? -1 : null };
}

/** Finds the parts of the day in the text, in text not yet taken. */
export function scanPartsOfDay(text: string, taken: Span[], tokens: Token[]): void {
  scan(partOfDay, text, taken, tokens, (m, s, e) => readPartOfDay(text, m, s, e));
}

const partDefaults: Readonly<Record<PartOfDay, { readonly start: number; readonly usual: number; readonly end: number }>> = {
  morning: { start: 6, usual: 9, end: 12 },
  afternoon: { start: 12, usual: 14, end: 17 },
  evening: { start: 17, usual: 19, end: 22 },
  night: { start: 22, usual: 22, end: 6 },
  overnight: { start: 0, usual: 2, end: 6 },
};

/** The hour a part of the day means when no clock time is given (09:00 for "morning"). */
export function usualHour(part: PartOfDay): number {
  return partDefaults[part].usual;
}

/**
 * A part of the day with no clock time ("tonight", "this evening", "overnight"): its usual hour
 * (today's, or tomorrow's once it is over unless it says "this"), or null for now when that part of
 * the day is already under way.
 */
export function partOfDayAt(part: PartOfDay, thisOne: boolean, now: Now): Placed | null {
  const { start, usual, end } = partDefaults[part];
  const h = now.wall.getUTCHours();
  const underWay = part === 'night' ? h >= start || h < end : h >= usual && h < end;
  if (underWay) return null;
  const over = part !== 'night' && h >= end;
  const date = over && (part === 'overnight' || !thisOne) ? addDays(now.today, 1) : now.today;
  return place(date, usual, 0, now.clock);
}

/** The note for a part of the day read as now ("already the evening; read as now"). */
export function alreadyNote(part: PartOfDay): string {
  const words = part === 'overnight' ? 'the early hours' : part === 'night' ? 'night' : `the ${part}`;
  return `already ${words}; read as now`;
}
