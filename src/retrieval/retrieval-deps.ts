/**
 * What every retrieval use case shares: its ports and settings, and the two rules about a study on
 * UH Bristol's PACS (how long it is kept; when it is there whole).
 */
import { DateTime } from 'luxon';
import type { PacsPort, StudySummary } from '../ports/pacs-port';
import type { StorePort } from '../ports/store-port';

/** Days a pulled study stays on UH Bristol's PACS (the guide: "Imaging will remain available locally for 30 days"). */
export const retentionDays = 30;

/** What the use cases need. */
export interface RetrievalDeps {
  readonly pacs: PacsPort;
  readonly store: StorePort;
  /** Per-site C-FIND timeout. */
  readonly queryTimeoutMs: number;
  /** A retrieval still not finished after this long is failed (issue: configurable, 30 minutes). */
  readonly jobTimeoutMs?: number;
}

/** The date the local copy is kept until (30 days, per the guide). */
export function keptUntil(now: Date): Date {
  return DateTime.fromJSDate(now, { zone: 'utc' }).plus({ days: retentionDays }).toJSDate();
}

/** Whether UH Bristol's PACS holds the whole study (`count` instances of it): then there is nothing to retrieve. */
export function heldWhole(study: StudySummary, count: number): boolean {
  return count > 0 && count >= (study.instanceCount ?? 1);
}
