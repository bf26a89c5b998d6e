/**
 * The PostgreSQL store (node-postgres Pool): for several bot instances sharing one database, behind
 * DATABASE_URL=postgres://...
 *
 * It keeps the SQLite store's semantics exactly, taking the shared rules (state machine, instants,
 * how a transition changes a retrieval) from ../core/ and src/retrieval/retrieval-states.ts: the same dedupe of active retrievals per
 * site and study (a partial unique index, so it holds across processes), the same compare-and-set
 * transitions, the same StoreError reasons. Instants are kept as given (text, so they read back
 * exactly) and as epoch milliseconds in bigint `*_ms` columns for ordering and filtering.
 *
 * Every multi-statement write is one transaction at READ COMMITTED; row locks (SELECT ... FOR
 * UPDATE, FOR UPDATE SKIP LOCKED) and unique indexes make the races safe, and a transaction that
 * fails with a serialization failure or deadlock is run again a few times.
 *
 * This file opens the store, migrates it and composes it from its parts, one file each: the pool
 * and its transactions (postgres-connection.ts), retrievals and confirmations (postgres-retrievals.ts),
 * the outbox (postgres-outbox.ts), conversation references (postgres-references.ts), activity claims
 * and heartbeats (postgres-activities.ts), the audit trail (postgres-audit.ts); their rows are in
 * postgres-rows.ts.
 */
import { StoreError, type MigrationReport, type StorePort } from '../../../ports/store-port';
import { postgresActivities, postgresHeartbeats } from './postgres-activities';
import { postgresAudit } from './postgres-audit';
import { connectPostgres, type PostgresConnection, type PostgresStoreOptions } from './postgres-connection';
import { postgresMigrations } from './postgres-migrations';
import { postgresOutbox } from './postgres-outbox';
import { postgresReferences } from './postgres-references';
import { postgresRetrievals } from './postgres-retrievals';

/** How to open the PostgreSQL store (re-exported here, where callers open it). */
export type { PostgresStoreOptions } from './postgres-connection';

/**
 * The key of the advisory lock that migrations hold (an arbitrary constant, the same in every
 * instance): the second instance to start waits on it, then finds the work done.
 */
const migrationLockKey = 72_616_263_001;

async function migrate(db: PostgresConnection): Promise<MigrationReport> {
  const latestKnown = postgresMigrations.reduce((max, m) => Math.max(max, m.version), 0);
  return db.write(async (client) => {
    // Held until this transaction ends: instances starting together migrate one after another,
    // and CREATE TABLE IF NOT EXISTS cannot race itself.
    await client.query('SELECT pg_advisory_xact_lock($1)', [migrationLockKey]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at TEXT NOT NULL
    )`);
    const applied = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    const newest = Math.max(0, ...applied);
    // A database written by a newer build may hold tables this build would misuse: stop rather than guess.
    if (newest > latestKnown) {
      throw new StoreError('unavailable', `the database is at schema version ${newest}, newer than this build knows (${latestKnown})`);
    }
    // All in this one transaction: DDL is transactional, so a failed migration leaves nothing behind.
    const appliedNow: number[] = [];
    for (const migration of postgresMigrations) {
      if (applied.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        new Date().toISOString(),
      ]);
      appliedNow.push(migration.version);
    }
    return { applied: appliedNow, version: latestKnown };
  });
}

/**
 * A store on the PostgreSQL database at `url` (postgres://user:password@host:port/database, with
 * node-postgres's query parameters such as sslmode or options=-c search_path=...). Connects
 * lazily: call migrate() before anything else. Unreachable servers answer StoreError('unavailable').
 */
export function openPostgresStore(url: string, options: PostgresStoreOptions = {}): StorePort {
  const db = connectPostgres(url, options);
  return {
    migrate: () => migrate(db),
    ...postgresRetrievals(db),
    ...postgresAudit(db),
    ...postgresReferences(db),
    ...postgresOutbox(db),
    ...postgresActivities(db),
    ...postgresHeartbeats(db),

    ping: async () => {
      await db.query('SELECT 1');
    },

    // The server's clock, not this host's: every instance reads the same one.
    clockNow: async () => {
      const [row] = await db.query<{ ms: string }>('SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS ms');
      return new Date(Number(row!.ms)).toISOString();
    },

    close: () => db.close(),
  };
}
