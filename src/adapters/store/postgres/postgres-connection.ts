/**
 * The PostgreSQL store's connection, shared by every part of the store: the node-postgres pool, one
 * statement or one transaction on it, and how whatever node-postgres throws becomes a StoreError.
 */
import pg from 'pg';
import { StoreError } from '../../../ports/store-port';

// ---------------------------------------------------------------------------------------------
// Errors.

/** SQLSTATEs after which the whole transaction is worth running again. */
const retryableCodes: ReadonlySet<string> = new Set(['40001', '40P01']);
const maxAttempts = 5;

function sqlState(error: unknown): string | null {
  return error instanceof pg.DatabaseError && typeof error.code === 'string' ? error.code : null;
}

/** True if `error` is PostgreSQL refusing a write that would break the unique `constraint`. */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  return error instanceof pg.DatabaseError && error.code === '23505' && error.constraint === constraint;
}

/**
 * Turns whatever node-postgres threw into a StoreError. PostgreSQL's messages name tables,
 * columns and constraints, never bound values, except for data exceptions (class 22, e.g.
 * "invalid input syntax ... "<value>""), whose message is left out; `detail` (which quotes key
 * values) is never used.
 */
export function toStoreError(error: unknown): Error {
  if (error instanceof StoreError) return error;
  if (error instanceof pg.DatabaseError) {
    const code = error.code ?? 'unknown';
    if (code.startsWith('23')) return new StoreError('conflict', `the database refused the write (${code}: ${error.message})`);
    if (code.startsWith('22')) return new StoreError('invalid', `the database refused a value (${code})`);
    // Connection exceptions (08), shutdown (57P0x), resources (53), a missing table before
    // migrate (42P01) and anything else: the store cannot do its job right now.
    return new StoreError('unavailable', `the database failed (${code}: ${error.message})`);
  }
  // Not an answer from the server: refused or dropped connections, timeouts, a pool being closed.
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return new StoreError('unavailable', `the database is unreachable (${typeof code === 'string' ? code : error.message})`);
  }
  return new StoreError('unavailable', `the database is unreachable (${String(error)})`);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// The connection.

/**
 * Runs `work` in one transaction on one of `pool`'s connections (see PostgresConnection.transaction),
 * after `checkOpen` at each attempt.
 */
async function transaction<T>(pool: pg.Pool, checkOpen: () => void, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    checkOpen();
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw toStoreError(error);
    }
    // A connection lost between two statements is reported as an event; the next statement fails anyway.
    const ignore = (): void => undefined;
    client.on('error', ignore);
    let broken: Error | undefined;
    try {
      // Named, not left to default_transaction_isolation: the dedupe loop in createRetrieval needs
      // each statement to see what others committed before it (READ COMMITTED).
      await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        // The connection is unusable: the pool must not hand it out again.
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      }
      const code = sqlState(error);
      if (code !== null && retryableCodes.has(code) && attempt < maxAttempts) {
        await sleep(5 * attempt + Math.random() * 20 * attempt);
        continue;
      }
      throw error instanceof StoreError || error instanceof pg.DatabaseError ? error : toStoreError(error);
    } finally {
      client.off('error', ignore);
      client.release(broken);
    }
  }
}

/** How to open the PostgreSQL store. */
export interface PostgresStoreOptions {
  /** Connections in this instance's pool; default 10. */
  readonly poolSize?: number;
  /** Longest a statement may run on the server (statement_timeout) before it fails as unavailable; default 15 s. */
  readonly statementTimeoutMs?: number;
}

/** One store's pool, and the ways its parts reach the database through it. */
export interface PostgresConnection {
  /** The pool itself, for a statement whose errors the caller turns into StoreErrors. */
  readonly pool: pg.Pool;
  /** Throws StoreError('unavailable') once the store is closed. */
  checkOpen(): void;
  /** One statement on any pooled connection, with errors as StoreErrors. */
  query<R extends pg.QueryResultRow>(text: string, values?: readonly unknown[]): Promise<R[]>;
  /**
   * Runs `work` in one transaction on one connection, committing if it returns and rolling back
   * if it throws; runs it again (up to maxAttempts in all) after a serialization failure or deadlock.
   * Errors from the server are passed on as they are (so a caller can tell which constraint refused).
   */
  transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T>;
  /** As transaction(), with every error turned into a StoreError. */
  write<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T>;
  /** Ends the pool (once); every later call answers StoreError('unavailable'). */
  close(): Promise<void>;
}

/**
 * A pool on the PostgreSQL database at `url`. Connects lazily; unreachable servers answer
 * StoreError('unavailable').
 */
export function connectPostgres(url: string, options: PostgresStoreOptions): PostgresConnection {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    // Fail (as unavailable) rather than hang when the server does not answer.
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    // A lock held elsewhere or a hung server must not stall a turn or the poll: the server cancels the
    // statement, and the client gives up a little later still if the server itself stopped answering.
    statement_timeout: options.statementTimeoutMs ?? 15_000,
    query_timeout: (options.statementTimeoutMs ?? 15_000) + 5_000,
  });
  // An idle connection that the server drops is reported here; without a listener it would crash
  // the process. The pool discards it, and the next query opens a new one.
  pool.on('error', () => undefined);
  let closed = false;

  function checkOpen(): void {
    if (closed) throw new StoreError('unavailable', 'the store is closed');
  }

  async function query<R extends pg.QueryResultRow>(text: string, values: readonly unknown[] = []): Promise<R[]> {
    checkOpen();
    try {
      return (await pool.query<R>(text, [...values])).rows;
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async function write<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    try {
      return await transaction(pool, checkOpen, work);
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    await pool.end();
  }

  return { pool, checkOpen, query, transaction: (work) => transaction(pool, checkOpen, work), write, close };
}
