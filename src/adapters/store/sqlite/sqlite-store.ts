/**
 * The SQLite store (better-sqlite3): the embedded default behind DATABASE_URL=sqlite:PATH.
 *
 * better-sqlite3 is synchronous, so each method does all of its work in one synchronous call and
 * hands back a settled promise: calls cannot interleave inside this process, and between processes
 * every write runs in an IMMEDIATE transaction (the write lock is taken up front, so a
 * read-then-write never fails half way with SQLITE_BUSY). The rules shared with the other stores
 * are in ../core/ and the retrieval state machine in src/retrieval/retrieval-states.ts.
 *
 * This file opens the store, migrates it and composes it from its parts, one file each: the database
 * and its units of work (sqlite-connection.ts), retrievals and confirmations (sqlite-retrievals.ts),
 * the outbox (sqlite-outbox.ts), conversation references (sqlite-references.ts), activity claims and
 * heartbeats (sqlite-activities.ts), the audit trail (sqlite-audit.ts); their rows and statements
 * are in sqlite-statements.ts.
 */
import type { StorePort } from '../../../ports/store-port';
import { sqliteActivities, sqliteHeartbeats } from './sqlite-activities';
import { sqliteAudit } from './sqlite-audit';
import { connectSqlite } from './sqlite-connection';
import { runMigrations } from './sqlite-migrations';
import { sqliteOutbox } from './sqlite-outbox';
import { sqliteReferences } from './sqlite-references';
import { sqliteRetrievals } from './sqlite-retrievals';

/** How to open the SQLite store. */
export interface SqliteStoreOptions {
  /** How long to wait for another process's write lock before giving up (busy_timeout); default 5000. */
  readonly busyTimeoutMs?: number;
  /** The database's clock, which for an embedded database is its host's (default: the system clock; tests pass their own). */
  readonly clock?: () => Date;
}

/**
 * Opens (creating it and its folder if need be) the SQLite database at `file`, or a private
 * in-memory one for ':memory:'. Call migrate() before anything else on a new file. Throws
 * StoreError('unavailable') if the file cannot be opened.
 */
export function openSqliteStore(file: string, options: SqliteStoreOptions = {}): StorePort {
  const db = connectSqlite(file, options.busyTimeoutMs ?? 5000);
  return {
    migrate: () =>
      db.run(() => {
        const report = runMigrations(db.database);
        db.forgetStatements();
        return report;
      }),

    ...sqliteRetrievals(db),
    ...sqliteAudit(db),
    ...sqliteReferences(db),
    ...sqliteOutbox(db),
    ...sqliteActivities(db),
    ...sqliteHeartbeats(db),

    ping: () =>
      db.run(() => {
        db.statements().ping.get();
      }),

    clockNow: () => db.run(() => (options.clock?.() ?? new Date()).toISOString()),

    close: () => {
      if (db.database.open) db.database.close();
      return Promise.resolve();
    },
  };
}
