/**
 * The SQLite store's connection, shared by every part of the store: the better-sqlite3 database
 * (opened in WAL mode), its prepared statements, one synchronous unit of work as a settled promise,
 * and how whatever better-sqlite3 throws becomes a StoreError.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from '../../../ports/store-port';
import { statementsFor, type Statements } from './sqlite-statements';

/**
 * An error from SQLite. Not `instanceof Database.SqliteError`: the native addon keeps the class of
 * the first copy of better-sqlite3 loaded in the process, and a test runner that reloads modules
 * (jest, per test file) then holds a different copy, so instanceof fails at random.
 */
function isSqliteFailure(error: unknown): error is Error & { code: string } {
  // Duck-typed: even `instanceof Error` can fail when the first copy was loaded in another realm.
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { name?: unknown }).name === 'SqliteError' &&
    typeof (error as { code?: unknown }).code === 'string'
  );
}

/** True if `error` is SQLite's, with the result code `code` (e.g. SQLITE_CONSTRAINT_UNIQUE). */
export function isSqliteError(error: unknown, code: string): boolean {
  return isSqliteFailure(error) && error.code === code;
}

/**
 * Turns whatever better-sqlite3 threw into a StoreError. SQLite's own messages name tables and
 * columns, never the bound values, so they are safe to pass on.
 */
function toStoreError(error: unknown): Error {
  if (error instanceof StoreError) return error;
  if (isSqliteFailure(error)) {
    const code = error.code;
    if (code.startsWith('SQLITE_CONSTRAINT'))
      return new StoreError('conflict', `the database refused the write (${code}: ${error.message})`);
    // BUSY/LOCKED (another process held the lock past busy_timeout), IOERR, FULL, CANTOPEN, READONLY,
    // CORRUPT and anything else: the store cannot do its job right now.
    return new StoreError('unavailable', `the database failed (${code}: ${error.message})`);
  }
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Switches a new file to WAL. The switch needs the file to itself and SQLite answers SQLITE_BUSY at
 * once, without waiting, while another process opening the same new file holds it: so wait here, a
 * few milliseconds at a time, up to the busy timeout.
 */
function setWalMode(db: Database.Database, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}

/** One store's database, and the ways its parts reach it. */
export interface SqliteConnection {
  readonly database: Database.Database;
  /** How long to wait for another process's write lock (busy_timeout), in ms. */
  readonly busyTimeoutMs: number;
  /** Every statement of the store, prepared on first use (before migrate() the tables may not exist yet). */
  statements(): Statements;
  /** Forgets the prepared statements, to prepare them afresh on the schema a migration changed. */
  forgetStatements(): void;
  /** Runs one synchronous unit of work as a settled promise, with errors as StoreErrors. */
  run<T>(work: () => T): Promise<T>;
}

/**
 * Opens (creating it and its folder if need be) the SQLite database at `file`, or a private
 * in-memory one for ':memory:'. Throws StoreError('unavailable') if the file cannot be opened.
 */
export function connectSqlite(file: string, busyTimeoutMs: number): SqliteConnection {
  let db: Database.Database;
  try {
    if (file !== ':memory:' && file !== '') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    // timeout = busy_timeout: wait this long for another process's write lock before SQLITE_BUSY.
    db = new Database(file, { timeout: busyTimeoutMs });
    // WAL lets readers go on while a writer writes; a no-op (and answers 'memory') for ':memory:'.
    setWalMode(db, busyTimeoutMs);
    db.pragma('foreign_keys = ON');
  } catch (error) {
    if (!isSqliteFailure(error)) {
      throw new StoreError('unavailable', `cannot open the database: ${String((error as { message?: unknown })?.message ?? error)}`);
    }
    throw toStoreError(error);
  }
  const database = db;

  // Statements are prepared on first use, since before migrate() the tables may not exist yet.
  let prepared: Statements | null = null;

  return {
    database,
    busyTimeoutMs,
    statements: () => (prepared ??= statementsFor(database)),
    forgetStatements: () => {
      prepared = null;
    },
    run: <T>(work: () => T): Promise<T> => {
      try {
        if (!database.open) throw new StoreError('unavailable', 'the store is closed');
        return Promise.resolve(work());
      } catch (error) {
        return Promise.reject(toStoreError(error));
      }
    },
  };
}
