/** Small helpers shared by the benchmark's parts: percentiles, a seeded random source, formatting. */

/** The p-th percentile (0-100) of ascending `sorted`, by nearest rank; null for an empty list. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** A small seeded PRNG (mulberry32): the same seed gives the same completion times on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A whole number with thousands separators: 12,345. */
export function count(value: number): string {
  return Math.round(value).toLocaleString('en-GB');
}

/** Milliseconds, with one decimal under 10 ms; seconds from 10 s. */
export function ms(value: number | null): string {
  if (value === null) return 'n/a';
  if (value >= 10_000) return `${(value / 1000).toFixed(1)} s`;
  return value < 10 ? `${value.toFixed(1)} ms` : `${count(value)} ms`;
}

/** A ratio such as 0.93x. */
export function ratio(value: number): string {
  return `${value.toFixed(2)}x`;
}

/** Bytes as MB (10^6). */
export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(0)} MB`;
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable between processes on one machine. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}
