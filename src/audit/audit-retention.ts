/**
 * Audit retention: events older than AUDIT_RETENTION_DAYS are purged, and the purge itself is a line
 * of the trail (who: the bot; what: how many, older than when; under which setting).
 */
import type { AuditEvent, AuditStore } from '../ports/store-port';
import { auditEvent, retentionSubject } from '../retrieval/audit-events';

const dayMs = 86_400_000;

/** How often the poll loop purges: retention is counted in days, so once an hour is plenty. */
export const purgeEveryMs = 60 * 60 * 1000;

/** The instant before which events are purged at `now`: exactly `days` × 24 h earlier. */
export function retentionCutoff(now: Date, days: number): Date {
  return new Date(now.getTime() - days * dayMs);
}

/** The audit line that records a purge of `purged` events older than `cutoff`. */
export function purgeAuditEvent(now: Date, cutoff: Date, days: number, purged: number): AuditEvent {
  return auditEvent(retentionSubject, now, {
    action: 'audit-purged',
    outcome: `purged ${purged} ${purged === 1 ? 'event' : 'events'} older than ${cutoff.toISOString()} (AUDIT_RETENTION_DAYS=${days})`,
  });
}

/** Purges the events older than `days` at `now`, recording the purge; returns how many went. */
export function purgeExpiredAudit(store: AuditStore, now: Date, days: number): Promise<number> {
  const cutoff = retentionCutoff(now, days);
  return store.purgeAudit(cutoff.toISOString(), (purged) => purgeAuditEvent(now, cutoff, days, purged));
}
