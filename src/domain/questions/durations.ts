/**
 * Times from now in a question's text ("in an hour", "in 3 days' time", "two hours from now"): their
 * patterns and the reader that turns a match into a duration token.
 */
import { numberWords, scan, type DurationToken, type Span, type Token } from './time-tokens';

const durationUnit = '(hours?|hrs?|h|minutes?|mins?|days?|weeks?|wks?)\\b';
const durationCount =
  '(an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|' +
  'forty(?:[\\s-]five)?|fifty|sixty|ninety|\\d{1,3}(?:\\.\\d+)?|a\\s+couple\\s+of|a\\s+few)';
const durationIn = new RegExp(
  `\\bin\\s+(?:(?:about|around|roughly|approx\\.?|approximately|another|` +
    `the\\s+next)\\s+)?(?:half\\s+an?\\s+(hour|day)|${durationCount}\\s*${durationUnit}(\\s+and\\s+a\\s+half)?)(?:'?s?\\s+time)?`,
  'gi',
);
const durationFromNow = new RegExp(`\\b${durationCount}\\s*${durationUnit}(\\s+and\\s+a\\s+half)?\\s+from\\s+now\\b`, 'gi');

function countOf(word: string): number {
  const w = word.toLowerCase().replace(/\s+/g, ' ');
  if (w === 'a couple of') return 2;
  if (w === 'a few') return 3;
  return numberWords[w] ?? Number(w);
}

function durationToken(
  start: number,
  end: number,
  halfOf: string | undefined,
  countText: string | undefined,
  unitText: string | undefined,
  andAHalf: string | undefined,
): DurationToken | null {
  if (halfOf !== undefined) {
    return halfOf.toLowerCase() === 'hour'
      ? { kind: 'duration', start, end, minutes: 30, days: 0 }
      : { kind: 'duration', start, end, minutes: 12 * 60, days: 0 };
  }
  const count = countOf(countText ?? '') + (andAHalf !== undefined ? 0.5 : 0);
  const unit = (unitText ?? '').toLowerCase();
  if (!Number.isFinite(count) || count <= 0) return null;
  if (unit.startsWith('h')) return { kind: 'duration', start, end, minutes: Math.round(count * 60), days: 0 };
  if (unit.startsWith('m')) return { kind: 'duration', start, end, minutes: Math.round(count), days: 0 };
  const days = unit.startsWith('w') ? count * 7 : count;
  // Half days are real time; whole days are calendar days keeping the wall time.
  if (!Number.isInteger(days)) return { kind: 'duration', start, end, minutes: Math.round(days * 24 * 60), days: 0 };
  return { kind: 'duration', start, end, minutes: 0, days };
}

/** Finds the times from now in the text, in text not yet taken. */
export function scanDurations(text: string, taken: Span[], tokens: Token[]): void {
  scan(durationIn, text, taken, tokens, (m, s, e) => durationToken(s, e, m[1], m[2], m[3], m[4]));
  scan(durationFromNow, text, taken, tokens, (m, s, e) => durationToken(s, e, undefined, m[1], m[2], m[3]));
}
