/**
 * The PostgreSQL store's audit trail: appending, reading back, counting (the search rate limit) and
 * purging audit events.
 */
import type pg from 'pg';
import type { AuditEvent, StorePort } from '../../../ports/store-port';
import { instantMs } from '../core/store-rules';
import { toStoreError, type PostgresConnection } from './postgres-connection';
import { fromAuditRow, type AuditRow } from './postgres-rows';

/** Inserts one audit event on `client` (the pool, or a transaction's connection); errors are node-postgres's. */
export async function insertAudit(client: pg.PoolClient | pg.Pool, event: AuditEvent): Promise<void> {
  const atMs = instantMs(event.at, 'at');
  await client.query(
    `INSERT INTO audit_events (at, at_ms, action, teams_user_id, entra_object_id, display_name, nhs_number, site, studies, outcome)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      event.at,
      atMs,
      event.action,
      event.teamsUserId,
      event.entraObjectId,
      event.displayName,
      event.nhsNumber,
      event.site,
      [...event.studies],
      event.outcome,
    ],
  );
}

/** The audit trail's part of the store, on `db`. */
export function postgresAudit(db: PostgresConnection): Pick<StorePort, 'appendAudit' | 'auditSince' | 'countAudit' | 'purgeAudit'> {
  return {
    appendAudit: async (event) => {
      db.checkOpen();
      try {
        await insertAudit(db.pool, event);
      } catch (error) {
        throw toStoreError(error);
      }
    },

    auditSince: async (since) => {
      db.checkOpen();
      const sinceMs = instantMs(since, 'since');
      const rows = await db.query<AuditRow>(
        `SELECT at, action, teams_user_id, entra_object_id, display_name, nhs_number, site, studies, outcome
         FROM audit_events WHERE at_ms >= $1 ORDER BY at_ms, seq`,
        [sinceMs],
      );
      return rows.map(fromAuditRow);
    },

    countAudit: async (teamsUserId, action, since) => {
      db.checkOpen();
      const sinceMs = instantMs(since, 'since');
      const rows = await db.query<{ n: string }>(
        'SELECT COUNT(*) AS n FROM audit_events WHERE teams_user_id = $1 AND action = $2 AND at_ms >= $3',
        [teamsUserId, action, sinceMs],
      );
      return Number(rows[0]?.n ?? 0);
    },

    purgeAudit: async (before, record) => {
      db.checkOpen();
      const beforeMs = instantMs(before, 'before');
      try {
        return await db.transaction(async (client) => {
          const purged = (await client.query('DELETE FROM audit_events WHERE at_ms < $1', [beforeMs])).rowCount ?? 0;
          if (purged > 0) await insertAudit(client, record(purged));
          return purged;
        });
      } catch (error) {
        throw toStoreError(error);
      }
    },
  };
}
