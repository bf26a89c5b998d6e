/**
 * Turning free text into comparable words: lower case, "&" as "and", no apostrophes or
 * punctuation. Shared by every part of question understanding.
 */

/** The longest question read; the rest of a very long message is ignored. */
export const maxQuestionChars = 2000;

/** Lower-case words of `text`: "RD&E's CT?" -> ["rd", "and", "es", "ct"]. */
export function words(text: string): string[] {
  return text
    .slice(0, maxQuestionChars)
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/['\u2019`]/g, '')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);
}

/** The words joined by single spaces, for phrase matching: " rd and es ct ". Padded so " x " finds whole words. */
export function wordLine(text: string): string {
  return ` ${words(text).join(' ')} `;
}

/**
 * Edit distance (with adjacent transpositions) between `a` and `b`, or `max + 1` as soon as it
 * must exceed `max`: cheap enough to run on every word of every question.
 */
export function boundedDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const n = b.length;
  let prevPrev = new Array<number>(n + 1).fill(0);
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  let cur = new Array<number>(n + 1).fill(0);
  for (let i = 1; i <= a.length; i += 1) {
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= n; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prevPrev[j - 2]! + 1);
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    [prevPrev, prev, cur] = [prev, cur, prevPrev];
  }
  return prev[n]!;
}

/** How many typing errors a word of this length may carry and still be recognised. */
export function typoAllowance(length: number): number {
  // Two errors only in long names: "Southend" must not read as "Southmead".
  if (length >= 9) return 2;
  if (length >= 5) return 1;
  return 0;
}
