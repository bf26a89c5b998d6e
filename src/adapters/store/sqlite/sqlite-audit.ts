/**
 * The SQLite store's audit trail: appending, reading back, counting (the search rate limit) and
 * purging audit events.
 */
import type { AuditEvent, StorePort } from '../../../ports/store-port';
import { auditFromColumns, stringList } from '../core/store-rows';
import { instantMs } from '../core/store-rules';
import type { SqliteConnection } from './sqlite-connection';

/** Writes one audit event (inside the caller's transaction, if any). */
export function writeAudit(db: SqliteConnection, event: AuditEvent): void {
  db.statements().appendAudit.run({
    at: event.at,
    at_ms: instantMs(event.at, 'at'),
    action: event.action,
    teams_user_id: event.teamsUserId,
    entra_object_id: event.entraObjectId,
    display_name: event.displayName,
    nhs_number: event.nhsNumber,
    site: event.site,
    studies: JSON.stringify(event.studies),
    outcome: event.outcome,
  });
}

/** The audit trail's part of the store, on `db`. */
export function sqliteAudit(db: SqliteConnection): Pick<StorePort, 'appendAudit' | 'auditSince' | 'countAudit' | 'purgeAudit'> {
  // The purge and its own audit line, or neither.
  const purge = db.database.transaction((beforeMs: number, record: (purged: number) => AuditEvent): number => {
    const purged = db.statements().purgeAudit.run(beforeMs).changes;
    if (purged > 0) writeAudit(db, record(purged));
    return purged;
  });

  return {
    appendAudit: (event) => db.run(() => writeAudit(db, event)),

    auditSince: (since) =>
      db.run(() =>
        db
          .statements()
          .auditSince.all(instantMs(since, 'since'))
          .map((row) => auditFromColumns(row, stringList(row.studies, 'audit event'))),
      ),

    countAudit: (teamsUserId, action, since) =>
      db.run(() => db.statements().countAudit.get(teamsUserId, action, instantMs(since, 'since'))?.n ?? 0),

    purgeAudit: (before, record) =>
      db.run(() => {
        const beforeMs = instantMs(before, 'before');
        return purge.immediate(beforeMs, record);
      }),
  };
}
