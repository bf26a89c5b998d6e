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
 */
import pg from 'pg';
import {
  StoreError,
  type ActivityClaim,
  type AuditEvent,
  type Confirmation,
  type MigrationReport,
  type NewRetrieval,
  type Notification,
  type NotificationOutcome,
  type Retrieval,
  type RetrievalState,
  type RetrievalTransition,
  type StorePort,
} from '../../../ports/store-port';
import {
  activityRecordOf,
  applySettlement,
  checkActivityClaim,
  checkActivityKey,
  checkClaim,
  checkConfirmation,
  checkNewRetrieval,
  checkOwner,
  checkReference,
  checkRenewal,
  checkSettlement,
  checkSilence,
  decideActivityClaim,
  holdsLease,
  instantMs,
  newNotificationId,
  pruneEvery,
} from '../core/store-rules';
import {
  auditFromColumns,
  corrupt,
  fromNotificationRow,
  fromReferenceRow,
  retrievalFromColumns,
  stateOf,
  type RetrievalColumns,
} from '../core/store-rows';
import { applyTransition, checkMove, notificationKindFor, type TransitionChanges } from '../../../retrieval/retrieval-states';
import { postgresMigrations } from './postgres-migrations';

/**
 * The key of the advisory lock that migrations hold (an arbitrary constant, the same in every
 * instance): the second instance to start waits on it, then finds the work done.
 */
const migrationLockKey = 72_616_263_001;

// ---------------------------------------------------------------------------------------------
// Rows as node-postgres hands them back (text as string, INTEGER as number, TEXT[] as string[];
// BIGINT columns are never read back, so their string form never matters).

type RetrievalRow = RetrievalColumns & { readonly study_modalities: unknown };

type TransitionRow = {
  readonly retrieval_id: string;
  readonly from_state: string | null;
  readonly to_state: string;
  readonly at: string;
  readonly detail: string | null;
};

type AuditRow = {
  readonly at: string;
  readonly action: string;
  readonly teams_user_id: string;
  readonly entra_object_id: string | null;
  readonly display_name: string;
  readonly nhs_number: string | null;
  readonly site: string | null;
  readonly studies: unknown;
  readonly outcome: string;
};

type ReferenceRow = {
  readonly teams_user_id: string;
  readonly entra_object_id: string | null;
  readonly conversation_id: string;
  readonly reference: string;
  readonly updated_at: string;
};

type NotificationRow = {
  readonly id: string;
  readonly retrieval_id: string;
  readonly kind: string;
  readonly state: string;
  readonly attempts: number;
  readonly next_attempt_at: string;
  readonly lease_owner: string | null;
  readonly lease_until: string | null;
  readonly last_error: string | null;
  readonly created_at: string;
  readonly sent_at: string | null;
};

const retrievalColumns = `id, requester_teams_user_id, requester_entra_object_id, requester_display_name,
  requester_tenant_id, requester_conversation_id, site, nhs_number, study_instance_uid, study_date,
  study_description, study_modalities, study_instance_count, state, pacs_job_id, failure_reason,
  created_at, updated_at, kept_until, card_activity_id`;

const notificationColumns = `id, retrieval_id, kind, state, attempts, next_attempt_at, lease_owner, lease_until,
  last_error, created_at, sent_at`;

const active = `state IN ('requested', 'retrieving')`;

function stringList(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string')) throw corrupt(what);
  return value;
}

function fromRow(row: RetrievalRow): Retrieval {
  return retrievalFromColumns(row, stringList(row.study_modalities, 'study'));
}

function fromTransitionRow(row: TransitionRow): RetrievalTransition {
  return {
    retrievalId: row.retrieval_id,
    from: row.from_state === null ? null : stateOf(row.from_state, 'transition'),
    to: stateOf(row.to_state, 'transition'),
    at: row.at,
    detail: row.detail,
  };
}

function fromAuditRow(row: AuditRow): AuditEvent {
  return auditFromColumns(row, stringList(row.studies, 'audit event'));
}

function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 0) throw new StoreError('invalid', 'limit must be a whole number, 0 or more');
}

// ---------------------------------------------------------------------------------------------
// Errors.

/** SQLSTATEs after which the whole transaction is worth running again. */
const retryableCodes: ReadonlySet<string> = new Set(['40001', '40P01']);
const maxAttempts = 5;

function sqlState(error: unknown): string | null {
  return error instanceof pg.DatabaseError && typeof error.code === 'string' ? error.code : null;
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  return error instanceof pg.DatabaseError && error.code === '23505' && error.constraint === constraint;
}

/**
 * Turns whatever node-postgres threw into a StoreError. PostgreSQL's messages name tables,
 * columns and constraints, never bound values, except for data exceptions (class 22, e.g.
 * "invalid input syntax ... "<value>""), whose message is left out; `detail` (which quotes key
 * values) is never used.
 */
function toStoreError(error: unknown): Error {
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
// The adapter.

/** How to open the PostgreSQL store. */
export interface PostgresStoreOptions {
  /** Connections in this instance's pool; default 10. */
  readonly poolSize?: number;
  /** Longest a statement may run on the server (statement_timeout) before it fails as unavailable; default 15 s. */
  readonly statementTimeoutMs?: number;
}

/**
 * A store on the PostgreSQL database at `url` (postgres://user:password@host:port/database, with
 * node-postgres's query parameters such as sslmode or options=-c search_path=...). Connects
 * lazily: call migrate() before anything else. Unreachable servers answer StoreError('unavailable').
 */
export function openPostgresStore(url: string, options: PostgresStoreOptions = {}): StorePort {
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

  /** One statement on any pooled connection, with errors as StoreErrors. */
  let recorded = 0;
  async function query<R extends pg.QueryResultRow>(text: string, values: readonly unknown[] = []): Promise<R[]> {
    checkOpen();
    try {
      return (await pool.query<R>(text, [...values])).rows;
    } catch (error) {
      throw toStoreError(error);
    }
  }

  /**
   * Runs `work` in one transaction on one connection, committing if it returns and rolling back
   * if it throws; runs it again (up to maxAttempts in all) after a serialization failure or deadlock.
   */
  async function transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
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

  /** As transaction(), with every error turned into a StoreError. */
  async function write<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    try {
      return await transaction(work);
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async function migrate(): Promise<MigrationReport> {
    const latestKnown = postgresMigrations.reduce((max, m) => Math.max(max, m.version), 0);
    return write(async (client) => {
      // Held until this transaction ends: instances starting together migrate one after another,
      // and CREATE TABLE IF NOT EXISTS cannot race itself.
      await client.query('SELECT pg_advisory_xact_lock($1)', [migrationLockKey]);
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        applied_at TEXT NOT NULL
      )`);
      const applied = new Set(
        (await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version),
      );
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
   * Inserts a 'requested' retrieval, or finds the active one that stopped the insert, on `client`
   * (inside a transaction). Each round either inserts or finds; it goes round again only if the
   * active one stopped being active in between (a rare race).
   */
  async function insertOrFind(
    client: pg.PoolClient,
    retrieval: NewRetrieval,
    createdMs: number,
  ): Promise<{ retrieval: Retrieval; created: boolean }> {
    for (let round = 0; round < 10; round += 1) {
      // ON CONFLICT on the partial unique index waits for a racing insert to commit or roll
      // back, then does nothing if it committed; any other conflict (the id) still raises.
      const inserted = await client.query<RetrievalRow>(
        `INSERT INTO retrievals (id, requester_teams_user_id, requester_entra_object_id, requester_display_name,
           requester_tenant_id, requester_conversation_id, site, nhs_number, study_instance_uid, study_date,
           study_description, study_modalities, study_instance_count, state, pacs_job_id, failure_reason,
           created_at, created_at_ms, updated_at, kept_until, card_activity_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'requested', NULL, NULL, $14, $15, $14, $16, $17)
         ON CONFLICT (site, study_instance_uid) WHERE ${active} DO NOTHING
         RETURNING ${retrievalColumns}`,
        [
          retrieval.id,
          retrieval.requester.teamsUserId,
          retrieval.requester.entraObjectId,
          retrieval.requester.displayName,
          retrieval.requester.tenantId,
          retrieval.requester.conversationId,
          retrieval.site,
          retrieval.nhsNumber,
          retrieval.study.studyInstanceUid,
          retrieval.study.date,
          retrieval.study.description,
          [...retrieval.study.modalities],
          retrieval.study.instanceCount,
          retrieval.createdAt,
          createdMs,
          retrieval.keptUntil,
          retrieval.cardActivityId,
        ],
      );
      const row = inserted.rows[0];
      if (row) {
        await client.query(
          'INSERT INTO retrieval_transitions (retrieval_id, from_state, to_state, at, detail) VALUES ($1, NULL, $2, $3, NULL)',
          [retrieval.id, 'requested', retrieval.createdAt],
        );
        return { retrieval: fromRow(row), created: true };
      }
      const existing = await client.query<RetrievalRow>(
        `SELECT ${retrievalColumns} FROM retrievals WHERE site = $1 AND study_instance_uid = $2 AND ${active}`,
        [retrieval.site, retrieval.study.studyInstanceUid],
      );
      if (existing.rows[0]) return { retrieval: fromRow(existing.rows[0]), created: false };
    }
    throw new StoreError('unavailable', 'the active retrieval of this study kept changing; try again');
  }

  async function createRetrieval(retrieval: NewRetrieval): Promise<{ retrieval: Retrieval; created: boolean }> {
    checkOpen();
    const createdMs = checkNewRetrieval(retrieval);
    try {
      return await transaction((client) => insertOrFind(client, retrieval, createdMs));
    } catch (error) {
      if (isUniqueViolation(error, 'retrievals_pkey'))
        throw new StoreError('conflict', `another retrieval already has the id ${retrieval.id}`);
      throw toStoreError(error);
    }
  }

  async function insertAudit(client: pg.PoolClient | pg.Pool, event: AuditEvent): Promise<void> {
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

  const finishSql =
    "UPDATE activity_claims SET state = 'done' WHERE activity_key = $1 AND owner = $2 AND state = 'claimed' RETURNING activity_key";

  /** Every retrieval, every audit line and the turn's claim in one transaction, or none of them. */
  async function recordConfirmation(confirmation: Confirmation): Promise<Array<{ retrieval: Retrieval; created: boolean } | null>> {
    checkOpen();
    const createdMs = checkConfirmation(confirmation);
    try {
      return await transaction(async (client) => {
        const results: Array<{ retrieval: Retrieval; created: boolean } | null> = [];
        for (const [i, entry] of confirmation.entries.entries()) {
          if (entry.retrieval === null) {
            await insertAudit(client, entry.audit);
            results.push(null);
            continue;
          }
          const result = await insertOrFind(client, entry.retrieval, createdMs[i]!);
          await insertAudit(client, result.created ? entry.audit.created : entry.audit.existing);
          results.push(result);
        }
        if (confirmation.activity) await client.query(finishSql, [confirmation.activity.key, confirmation.activity.owner]);
        return results;
      });
    } catch (error) {
      if (isUniqueViolation(error, 'retrievals_pkey')) throw new StoreError('conflict', 'another retrieval already has one of these ids');
      throw toStoreError(error);
    }
  }

  type ActivityRow = {
    activity_key: string;
    state: string;
    owner: string;
    claimed_at_ms: string;
    claim_until_ms: string;
    expires_at_ms: string;
  };

  /** Read, decide and write under the row's lock (or the key's insert): two owners never both claim a live key. */
  async function claimActivity(request: Parameters<StorePort['claimActivity']>[0]): Promise<ActivityClaim> {
    checkOpen();
    const checked = checkActivityClaim(request);
    recorded += 1;
    if (recorded % pruneEvery === 0) await query('DELETE FROM activity_claims WHERE expires_at_ms <= $1', [checked.atMs]);
    try {
      return await transaction(async (client) => {
        // A new key: inserted as claimed, or (another instance inserting it at once) waited for, then read below.
        const inserted = await client.query(
          `INSERT INTO activity_claims (activity_key, state, owner, claimed_at_ms, claim_until_ms, expires_at_ms)
           VALUES ($1, 'claimed', $2, $3, $4, $5) ON CONFLICT (activity_key) DO NOTHING RETURNING activity_key`,
          [request.key, request.owner, checked.atMs, checked.claimUntilMs, checked.expiresMs],
        );
        if (inserted.rows.length === 1) return { outcome: 'claimed', previousOwner: null };
        const found = await client.query<ActivityRow>('SELECT * FROM activity_claims WHERE activity_key = $1 FOR UPDATE', [request.key]);
        const row = found.rows[0];
        const decision = decideActivityClaim(row ? activityRecordOf(row) : null, request, checked.atMs);
        if (!decision.write) return decision.answer;
        await client.query(
          `INSERT INTO activity_claims (activity_key, state, owner, claimed_at_ms, claim_until_ms, expires_at_ms)
           VALUES ($1, 'claimed', $2, $3, $4, $5)
           ON CONFLICT (activity_key) DO UPDATE SET state = 'claimed', owner = EXCLUDED.owner, claimed_at_ms = EXCLUDED.claimed_at_ms,
             claim_until_ms = EXCLUDED.claim_until_ms, expires_at_ms = EXCLUDED.expires_at_ms`,
          [request.key, request.owner, checked.atMs, checked.claimUntilMs, checked.expiresMs],
        );
        return { outcome: 'claimed', previousOwner: decision.previousOwner };
      });
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async function transition(
    id: string,
    from: readonly RetrievalState[],
    to: RetrievalState,
    at: string,
    changes: TransitionChanges = {},
  ): Promise<Retrieval | null> {
    checkOpen();
    checkMove(from, to);
    const atMs = instantMs(at, 'at');
    try {
      return await transaction(async (client) => {
        // The row lock makes this a compare-and-set: a racing move waits here, then sees our state.
        const found = await client.query<RetrievalRow>(`SELECT ${retrievalColumns} FROM retrievals WHERE id = $1 FOR UPDATE`, [id]);
        const row = found.rows[0];
        if (!row) throw new StoreError('not-found', `no retrieval ${id}`);
        const current = fromRow(row);
        if (!from.includes(current.state)) return null;
        const next = applyTransition(current, to, at, changes);
        const updated = await client.query<RetrievalRow>(
          `UPDATE retrievals SET state = $2, updated_at = $3, pacs_job_id = $4, failure_reason = $5, card_activity_id = $6
           WHERE id = $1 RETURNING ${retrievalColumns}`,
          [id, next.state, next.updatedAt, next.pacsJobId, next.failureReason, next.cardActivityId],
        );
        const moved = updated.rows[0];
        if (!moved) throw corrupt('retrieval');
        const recorded = await client.query<{ seq: string }>(
          'INSERT INTO retrieval_transitions (retrieval_id, from_state, to_state, at, detail) VALUES ($1, $2, $3, $4, $5) RETURNING seq',
          [id, current.state, to, at, changes.detail ?? null],
        );
        const kind = notificationKindFor(to);
        if (kind !== null) {
          // The outbox: the message is owed in the same transaction as the state change.
          await client.query(
            `INSERT INTO notifications (id, retrieval_id, transition_seq, kind, state, attempts, next_attempt_at, next_attempt_at_ms,
               created_at, created_at_ms)
             VALUES ($1, $2, $3, $4, 'pending', 0, $5, $6, $5, $6)`,
            [newNotificationId(), id, recorded.rows[0]?.seq, kind, at, atMs],
          );
        }
        return fromRow(moved);
      });
    } catch (error) {
      // A retry while a newer retrieval of the same study from the same site is active.
      if (isUniqueViolation(error, 'retrievals_one_active')) {
        throw new StoreError('conflict', 'another retrieval of this study from this site is already active');
      }
      throw toStoreError(error);
    }
  }

  async function claimNotifications(
    owner: string,
    now: string,
    leaseMs: number,
    limit: number,
    leaseNow?: string,
  ): Promise<Notification[]> {
    checkOpen();
    const claim = checkClaim(owner, now, leaseMs, limit, leaseNow);
    if (limit === 0) return [];
    // One statement, so atomic without an explicit transaction: SKIP LOCKED passes over rows that
    // another claim is taking right now, and FOR UPDATE re-checks (on the newest row version) that a
    // row is still claimable, so a row claimed and committed since this statement began is left out.
    const rows = await query<NotificationRow>(
      `WITH claimed AS (
         UPDATE notifications SET attempts = attempts + 1, lease_owner = $1, lease_until = $2, lease_until_ms = $3
         WHERE id IN (
           SELECT id FROM notifications
           WHERE state = 'pending' AND next_attempt_at_ms <= $4 AND (lease_until_ms IS NULL OR lease_until_ms <= $6)
           ORDER BY created_at_ms, transition_seq
           LIMIT $5
           FOR UPDATE SKIP LOCKED
         )
         RETURNING ${notificationColumns}, created_at_ms, transition_seq
       )
       SELECT ${notificationColumns} FROM claimed ORDER BY created_at_ms, transition_seq`,
      [owner, claim.leaseUntil, claim.leaseUntilMs, claim.nowMs, limit, claim.leaseNowMs],
    );
    return rows.map(fromNotificationRow);
  }

  async function settleNotification(id: string, owner: string, outcome: NotificationOutcome): Promise<boolean> {
    checkOpen();
    checkSettlement(id, owner, outcome);
    return write(async (client) => {
      // The row lock keeps a claim by another owner out until this settlement is written.
      const found = await client.query<NotificationRow>(`SELECT ${notificationColumns} FROM notifications WHERE id = $1 FOR UPDATE`, [id]);
      const row = found.rows[0];
      if (!row) return false;
      const current = fromNotificationRow(row);
      if (!holdsLease(current, owner)) return false;
      const next = applySettlement(current, outcome);
      const settled = await client.query(
        `UPDATE notifications SET state = $3, next_attempt_at = $4, next_attempt_at_ms = $5, last_error = $6, sent_at = $7,
           lease_owner = NULL, lease_until = NULL, lease_until_ms = NULL
         WHERE id = $1 AND state = 'pending' AND lease_owner = $2`,
        [id, owner, next.state, next.nextAttemptAt, instantMs(next.nextAttemptAt, 'nextAttemptAt'), next.lastError, next.sentAt],
      );
      return settled.rowCount === 1;
    });
  }

  return {
    migrate,
    createRetrieval,
    transition,

    getRetrieval: async (id) => {
      const rows = await query<RetrievalRow>(`SELECT ${retrievalColumns} FROM retrievals WHERE id = $1`, [id]);
      return rows[0] ? fromRow(rows[0]) : null;
    },

    activeRetrievals: async () =>
      (await query<RetrievalRow>(`SELECT ${retrievalColumns} FROM retrievals WHERE ${active} ORDER BY created_at_ms, seq`)).map(fromRow),

    retrievalsFor: async (teamsUserId, limit) => {
      checkOpen();
      checkLimit(limit);
      const rows = await query<RetrievalRow>(
        `SELECT ${retrievalColumns} FROM retrievals WHERE requester_teams_user_id = $1 ORDER BY created_at_ms DESC, seq DESC LIMIT $2`,
        [teamsUserId, limit],
      );
      return rows.map(fromRow);
    },

    transitions: async (retrievalId) =>
      (
        await query<TransitionRow>(
          'SELECT retrieval_id, from_state, to_state, at, detail FROM retrieval_transitions WHERE retrieval_id = $1 ORDER BY seq',
          [retrievalId],
        )
      ).map(fromTransitionRow),

    appendAudit: async (event) => {
      checkOpen();
      try {
        await insertAudit(pool, event);
      } catch (error) {
        throw toStoreError(error);
      }
    },

    auditSince: async (since) => {
      checkOpen();
      const sinceMs = instantMs(since, 'since');
      const rows = await query<AuditRow>(
        `SELECT at, action, teams_user_id, entra_object_id, display_name, nhs_number, site, studies, outcome
         FROM audit_events WHERE at_ms >= $1 ORDER BY at_ms, seq`,
        [sinceMs],
      );
      return rows.map(fromAuditRow);
    },

    saveReference: async (reference) => {
      checkOpen();
      const updatedMs = checkReference(reference);
      // One statement: a refresh replaces the saved reference whole, and two saves cannot race into a duplicate.
      await query(
        `INSERT INTO conversation_references (teams_user_id, conversation_id, entra_object_id, reference, updated_at, updated_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (teams_user_id, conversation_id) DO UPDATE SET entra_object_id = EXCLUDED.entra_object_id,
           reference = EXCLUDED.reference, updated_at = EXCLUDED.updated_at, updated_at_ms = EXCLUDED.updated_at_ms`,
        [reference.teamsUserId, reference.conversationId, reference.entraObjectId, reference.reference, reference.updatedAt, updatedMs],
      );
    },

    referenceFor: async (teamsUserId, conversationId) => {
      const rows = await query<ReferenceRow>(
        `SELECT teams_user_id, entra_object_id, conversation_id, reference, updated_at
         FROM conversation_references WHERE teams_user_id = $1 AND conversation_id = $2`,
        [teamsUserId, conversationId],
      );
      return rows[0] ? fromReferenceRow(rows[0]) : null;
    },

    claimNotifications,
    settleNotification,

    notificationsFor: async (retrievalId) =>
      (
        await query<NotificationRow>(
          `SELECT ${notificationColumns} FROM notifications WHERE retrieval_id = $1 ORDER BY created_at_ms, transition_seq`,
          [retrievalId],
        )
      ).map(fromNotificationRow),

    countAudit: async (teamsUserId, action, since) => {
      checkOpen();
      const sinceMs = instantMs(since, 'since');
      const rows = await query<{ n: string }>(
        'SELECT COUNT(*) AS n FROM audit_events WHERE teams_user_id = $1 AND action = $2 AND at_ms >= $3',
        [teamsUserId, action, sinceMs],
      );
      return Number(rows[0]?.n ?? 0);
    },

    purgeAudit: async (before, record) => {
      checkOpen();
      const beforeMs = instantMs(before, 'before');
      try {
        return await transaction(async (client) => {
          const purged = (await client.query('DELETE FROM audit_events WHERE at_ms < $1', [beforeMs])).rowCount ?? 0;
          if (purged > 0) await insertAudit(client, record(purged));
          return purged;
        });
      } catch (error) {
        throw toStoreError(error);
      }
    },

    claimActivity,

    finishActivity: async (key, owner) => {
      checkOpen();
      checkActivityKey(key);
      return (await query(finishSql, [key, owner])).length === 1;
    },

    releaseActivity: async (key, owner) => {
      checkOpen();
      checkActivityKey(key);
      return (
        (
          await query("DELETE FROM activity_claims WHERE activity_key = $1 AND owner = $2 AND state = 'claimed' RETURNING activity_key", [
            key,
            owner,
          ])
        ).length === 1
      );
    },

    activityFor: async (key) => {
      const rows = await query<ActivityRow>('SELECT * FROM activity_claims WHERE activity_key = $1', [key]);
      return rows[0] ? activityRecordOf(rows[0]) : null;
    },

    recordConfirmation,

    ping: async () => {
      await query('SELECT 1');
    },

    leaseHolders: async () =>
      (
        await query<{ owner: string }>(
          "SELECT DISTINCT lease_owner AS owner FROM notifications WHERE state = 'pending' AND lease_owner IS NOT NULL ORDER BY owner",
        )
      ).map((row) => row.owner),

    releaseLeases: async (owner) => {
      checkOpen();
      if (typeof owner !== 'string' || owner.trim() === '') throw new StoreError('invalid', 'releasing leases needs an owner');
      const rows = await query(
        'UPDATE notifications SET lease_owner = NULL, lease_until = NULL, lease_until_ms = NULL ' +
          "WHERE state = 'pending' AND lease_owner = $1 RETURNING id",
        [owner],
      );
      return rows.length;
    },

    renewLease: async (id, owner, now, leaseMs) => {
      checkOpen();
      const checked = checkRenewal(id, owner, now, leaseMs);
      const rows = await query(
        'UPDATE notifications SET lease_until = $3, lease_until_ms = $4 WHERE id = $1 AND state = ' +
          "'pending' AND lease_owner = $2 RETURNING id",
        [id, owner, checked.leaseUntil, checked.leaseUntilMs],
      );
      return rows.length === 1;
    },

    // The server's clock, not this host's: every instance reads the same one.
    clockNow: async () => {
      const [row] = await query<{ ms: string }>('SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS ms');
      return new Date(Number(row!.ms)).toISOString();
    },

    heartbeat: async (owner, at) => {
      checkOpen();
      checkOwner(owner);
      await query(
        'INSERT INTO owner_heartbeats (owner, beat_at_ms) VALUES ($1, $2) ON CONFLICT (owner) DO ' +
          'UPDATE SET beat_at_ms = GREATEST(owner_heartbeats.beat_at_ms, excluded.beat_at_ms)',
        [owner, instantMs(at, 'at')],
      );
    },

    silentOwners: async (owners, now, silentMs) => {
      checkOpen();
      const cutoffMs = checkSilence(owners, now, silentMs);
      if (owners.length === 0) return [];
      const rows = await query<{ owner: string }>('SELECT owner FROM owner_heartbeats WHERE owner = ANY($1::text[]) AND beat_at_ms > $2', [
        [...owners],
        cutoffMs,
      ]);
      const beating = new Set(rows.map((row) => row.owner));
      return owners.filter((owner) => !beating.has(owner));
    },

    retireOwner: async (owner) => {
      checkOpen();
      checkOwner(owner);
      await query('DELETE FROM owner_heartbeats WHERE owner = $1', [owner]);
    },

    close: async () => {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
