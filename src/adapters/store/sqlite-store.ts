/**
 * The SQLite store (better-sqlite3): the embedded default behind DATABASE_URL=sqlite:PATH.
 *
 * better-sqlite3 is synchronous, so each method does all of its work in one synchronous call and
 * hands back a settled promise: calls cannot interleave inside this process, and between processes
 * every write runs in an IMMEDIATE transaction (the write lock is taken up front, so a
 * read-then-write never fails half way with SQLITE_BUSY). The rules that the memory store must
 * share exactly (the state machine, instants, how a transition changes a retrieval) are exported
 * from here so that the two cannot drift apart.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  StoreError,
  type AuditEvent,
  type NewRetrieval,
  type Retrieval,
  type RetrievalState,
  type RetrievalTransition,
  type StorePort,
} from '../../ports/store-port';
import { runMigrations } from './migrations';

// ---------------------------------------------------------------------------------------------
// Rules shared with the memory store.

/** The optional changes a transition may carry (the fifth argument of StorePort.transition). */
export type TransitionChanges = NonNullable<Parameters<StorePort['transition']>[4]>;

const allStates: readonly RetrievalState[] = ['requested', 'retrieving', 'stored', 'failed'];

/** The states a retrieval may be in while it blocks a second retrieval of the same study. */
export const activeStates: readonly RetrievalState[] = ['requested', 'retrieving'];

/** True for the four retrieval states (for values that come from outside the type system). */
export function isRetrievalState(value: unknown): value is RetrievalState {
  return typeof value === 'string' && (allStates as readonly string[]).includes(value);
}

/** Where a retrieval may go from `state`. 'failed' -> 'requested' is the clinician's "try again". */
export function nextStates(state: RetrievalState): readonly RetrievalState[] {
  switch (state) {
    case 'requested':
      return ['retrieving', 'failed'];
    case 'retrieving':
      return ['stored', 'failed'];
    case 'stored':
      return [];
    case 'failed':
      return ['requested'];
  }
}

/**
 * Throws StoreError('invalid') unless every state in `from` may move to `to`: a caller asking for
 * an impossible move has a bug, which should surface whatever state the retrieval happens to be in.
 */
export function checkMove(from: readonly RetrievalState[], to: RetrievalState): void {
  if (!isRetrievalState(to)) throw new StoreError('invalid', 'unknown target state');
  if (from.length === 0) throw new StoreError('invalid', `a move to ${to} needs at least one state to move from`);
  for (const state of from) {
    if (!isRetrievalState(state)) throw new StoreError('invalid', 'unknown source state');
    if (!nextStates(state).includes(to)) throw new StoreError('invalid', `a retrieval cannot move from ${state} to ${to}`);
  }
}

const isoInstant = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Epoch milliseconds of an ISO 8601 instant, which must carry Z or an offset (a bare local time
 * would mean different instants in different processes). Throws StoreError('invalid'); the
 * message names the field, never the value.
 */
export function instantMs(value: string, field: string): number {
  const match = typeof value === 'string' ? isoInstant.exec(value) : null;
  const ms = match ? Date.parse(value) : Number.NaN;
  // Date.parse rolls 30 February over into March; refuse days the month does not have.
  const day = match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : null;
  if (!match || !Number.isFinite(ms) || day?.getUTCDate() !== Number(match[3]) || day.getUTCMonth() !== Number(match[2]) - 1) {
    throw new StoreError('invalid', `${field} must be an ISO 8601 instant with Z or an offset`);
  }
  return ms;
}

/** Checks what the caller can get wrong in a new retrieval, before anything is written; returns createdAt in epoch ms. */
export function checkNewRetrieval(retrieval: NewRetrieval): number {
  if (typeof retrieval.id !== 'string' || retrieval.id === '') throw new StoreError('invalid', 'a retrieval needs an id');
  instantMs(retrieval.keptUntil, 'keptUntil');
  return instantMs(retrieval.createdAt, 'createdAt');
}

/**
 * The retrieval after a move to `to` at `at`. Going back to 'requested' (a retry) clears the old
 * PACS job and failure, which belong to the attempt that failed; other fields change only when given.
 */
export function applyTransition(current: Retrieval, to: RetrievalState, at: string, changes: TransitionChanges): Retrieval {
  const retry = to === 'requested';
  return {
    ...current,
    state: to,
    updatedAt: at,
    pacsJobId: changes.pacsJobId ?? (retry ? null : current.pacsJobId),
    failureReason: changes.failureReason ?? (retry ? null : current.failureReason),
    cardActivityId: changes.cardActivityId ?? current.cardActivityId,
  };
}

// ---------------------------------------------------------------------------------------------
// The SQLite adapter.

interface RetrievalRow {
  readonly id: string;
  readonly requester_teams_user_id: string;
  readonly requester_entra_object_id: string | null;
  readonly requester_display_name: string;
  readonly requester_tenant_id: string | null;
  readonly requester_conversation_id: string;
  readonly site: string;
  readonly nhs_number: string;
  readonly study_instance_uid: string;
  readonly study_date: string | null;
  readonly study_description: string;
  readonly study_modalities: string;
  readonly study_instance_count: number | null;
  readonly state: string;
  readonly pacs_job_id: string | null;
  readonly failure_reason: string | null;
  readonly created_at: string;
  readonly created_at_ms: number;
  readonly updated_at: string;
  readonly kept_until: string;
  readonly card_activity_id: string | null;
}

interface TransitionRow {
  readonly retrieval_id: string;
  readonly from_state: string | null;
  readonly to_state: string;
  readonly at: string;
  readonly detail: string | null;
}

interface AuditRow {
  readonly at: string;
  readonly at_ms: number;
  readonly action: string;
  readonly teams_user_id: string;
  readonly entra_object_id: string | null;
  readonly display_name: string;
  readonly nhs_number: string | null;
  readonly site: string | null;
  readonly studies: string;
  readonly outcome: string;
}

interface UpdateParams {
  readonly id: string;
  readonly from: string;
  readonly state: RetrievalState;
  readonly updated_at: string;
  readonly pacs_job_id: string | null;
  readonly failure_reason: string | null;
  readonly card_activity_id: string | null;
}

const active = `state IN ('requested', 'retrieving')`;

function prepareStatements(db: Database.Database) {
  return {
    byId: db.prepare<[string], RetrievalRow>('SELECT * FROM retrievals WHERE id = ?'),
    activeFor: db.prepare<[string, string], RetrievalRow>(`SELECT * FROM retrievals WHERE site = ? AND study_instance_uid = ? AND ${active}`),
    insertRetrieval: db.prepare<Omit<RetrievalRow, 'state' | 'pacs_job_id' | 'failure_reason' | 'updated_at'>>(`
      INSERT INTO retrievals (id, requester_teams_user_id, requester_entra_object_id, requester_display_name,
        requester_tenant_id, requester_conversation_id, site, nhs_number, study_instance_uid, study_date,
        study_description, study_modalities, study_instance_count, state, pacs_job_id, failure_reason,
        created_at, created_at_ms, updated_at, kept_until, card_activity_id)
      VALUES (@id, @requester_teams_user_id, @requester_entra_object_id, @requester_display_name,
        @requester_tenant_id, @requester_conversation_id, @site, @nhs_number, @study_instance_uid, @study_date,
        @study_description, @study_modalities, @study_instance_count, 'requested', NULL, NULL,
        @created_at, @created_at_ms, @created_at, @kept_until, @card_activity_id)`),
    // Compare-and-set: the row changes only if it is still in one of the expected states.
    update: db.prepare<UpdateParams>(`
      UPDATE retrievals SET state = @state, updated_at = @updated_at, pacs_job_id = @pacs_job_id,
        failure_reason = @failure_reason, card_activity_id = @card_activity_id
      WHERE id = @id AND state IN (SELECT value FROM json_each(@from))`),
    insertTransition: db.prepare<[string, RetrievalState | null, RetrievalState, string, string | null]>(
      'INSERT INTO retrieval_transitions (retrieval_id, from_state, to_state, at, detail) VALUES (?, ?, ?, ?, ?)',
    ),
    active: db.prepare<[], RetrievalRow>(`SELECT * FROM retrievals WHERE ${active} ORDER BY created_at_ms, rowid`),
    forUser: db.prepare<[string, number], RetrievalRow>(
      'SELECT * FROM retrievals WHERE requester_teams_user_id = ? ORDER BY created_at_ms DESC, rowid DESC LIMIT ?',
    ),
    transitions: db.prepare<[string], TransitionRow>(
      'SELECT retrieval_id, from_state, to_state, at, detail FROM retrieval_transitions WHERE retrieval_id = ? ORDER BY seq',
    ),
    appendAudit: db.prepare<AuditRow>(`
      INSERT INTO audit_events (at, at_ms, action, teams_user_id, entra_object_id, display_name, nhs_number, site, studies, outcome)
      VALUES (@at, @at_ms, @action, @teams_user_id, @entra_object_id, @display_name, @nhs_number, @site, @studies, @outcome)`),
    auditSince: db.prepare<[number], AuditRow>('SELECT * FROM audit_events WHERE at_ms >= ? ORDER BY at_ms, seq'),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

function corrupt(what: string): StoreError {
  return new StoreError('unavailable', `the database holds an unreadable ${what}`);
}

function stateOf(value: unknown, what: string): RetrievalState {
  if (!isRetrievalState(value)) throw corrupt(what);
  return value;
}

function stringList(json: string, what: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw corrupt(what);
  }
  if (!Array.isArray(parsed) || !parsed.every((item): item is string => typeof item === 'string')) throw corrupt(what);
  return parsed;
}

function fromRow(row: RetrievalRow): Retrieval {
  return {
    id: row.id,
    requester: {
      teamsUserId: row.requester_teams_user_id,
      entraObjectId: row.requester_entra_object_id,
      displayName: row.requester_display_name,
      tenantId: row.requester_tenant_id,
      conversationId: row.requester_conversation_id,
    },
    site: row.site,
    nhsNumber: row.nhs_number,
    study: {
      studyInstanceUid: row.study_instance_uid,
      date: row.study_date,
      description: row.study_description,
      modalities: stringList(row.study_modalities, 'study'),
      instanceCount: row.study_instance_count,
    },
    state: stateOf(row.state, 'retrieval'),
    pacsJobId: row.pacs_job_id,
    failureReason: row.failure_reason,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    keptUntil: row.kept_until,
    cardActivityId: row.card_activity_id,
  };
}

function isSqliteError(error: unknown, code: string): boolean {
  return error instanceof Database.SqliteError && error.code === code;
}

/**
 * Turns whatever better-sqlite3 threw into a StoreError. SQLite's own messages name tables and
 * columns, never the bound values, so they are safe to pass on.
 */
function toStoreError(error: unknown): Error {
  if (error instanceof StoreError) return error;
  if (error instanceof Database.SqliteError) {
    const code = error.code;
    if (code.startsWith('SQLITE_CONSTRAINT')) return new StoreError('conflict', `the database refused the write (${code}: ${error.message})`);
    // BUSY/LOCKED (another process held the lock past busy_timeout), IOERR, FULL, CANTOPEN, READONLY,
    // CORRUPT and anything else: the store cannot do its job right now.
    return new StoreError('unavailable', `the database failed (${code}: ${error.message})`);
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** How to open the SQLite store. */
export interface SqliteStoreOptions {
  /** How long to wait for another process's write lock before giving up (busy_timeout); default 5000. */
  readonly busyTimeoutMs?: number;
}

/**
 * Opens (creating it and its folder if need be) the SQLite database at `file`, or a private
 * in-memory one for ':memory:'. Call migrate() before anything else on a new file. Throws
 * StoreError('unavailable') if the file cannot be opened.
 */
export function openSqliteStore(file: string, options: SqliteStoreOptions = {}): StorePort {
  let db: Database.Database;
  try {
    if (file !== ':memory:' && file !== '') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    // timeout = busy_timeout: wait this long for another process's write lock before SQLITE_BUSY.
    db = new Database(file, { timeout: options.busyTimeoutMs ?? 5000 });
    // WAL lets readers go on while a writer writes; a no-op (and answers 'memory') for ':memory:'.
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
  } catch (error) {
    if (error instanceof Error && !(error instanceof Database.SqliteError)) {
      throw new StoreError('unavailable', `cannot open the database: ${error.message}`);
    }
    throw toStoreError(error);
  }
  const database = db;

  // Statements are prepared on first use, since before migrate() the tables may not exist yet.
  let prepared: Statements | null = null;
  const statements = (): Statements => (prepared ??= prepareStatements(database));

  /** Runs one synchronous unit of work as a settled promise, with errors as StoreErrors. */
  function run<T>(work: () => T): Promise<T> {
    try {
      if (!database.open) throw new StoreError('unavailable', 'the store is closed');
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(toStoreError(error));
    }
  }

  const create = database.transaction((retrieval: NewRetrieval, createdMs: number): { retrieval: Retrieval; created: boolean } => {
    const s = statements();
    const existing = s.activeFor.get(retrieval.site, retrieval.study.studyInstanceUid);
    if (existing) return { retrieval: fromRow(existing), created: false };
    s.insertRetrieval.run({
      id: retrieval.id,
      requester_teams_user_id: retrieval.requester.teamsUserId,
      requester_entra_object_id: retrieval.requester.entraObjectId,
      requester_display_name: retrieval.requester.displayName,
      requester_tenant_id: retrieval.requester.tenantId,
      requester_conversation_id: retrieval.requester.conversationId,
      site: retrieval.site,
      nhs_number: retrieval.nhsNumber,
      study_instance_uid: retrieval.study.studyInstanceUid,
      study_date: retrieval.study.date,
      study_description: retrieval.study.description,
      study_modalities: JSON.stringify(retrieval.study.modalities),
      study_instance_count: retrieval.study.instanceCount,
      created_at: retrieval.createdAt,
      created_at_ms: createdMs,
      kept_until: retrieval.keptUntil,
      card_activity_id: retrieval.cardActivityId,
    });
    s.insertTransition.run(retrieval.id, null, 'requested', retrieval.createdAt, null);
    const row = s.byId.get(retrieval.id);
    if (!row) throw corrupt('retrieval');
    return { retrieval: fromRow(row), created: true };
  });

  const move = database.transaction(
    (id: string, from: readonly RetrievalState[], to: RetrievalState, at: string, changes: TransitionChanges): Retrieval | null => {
      const s = statements();
      const row = s.byId.get(id);
      if (!row) throw new StoreError('not-found', `no retrieval ${id}`);
      const current = fromRow(row);
      if (!from.includes(current.state)) return null;
      const next = applyTransition(current, to, at, changes);
      const result = s.update.run({
        id,
        from: JSON.stringify(from),
        state: next.state,
        updated_at: next.updatedAt,
        pacs_job_id: next.pacsJobId,
        failure_reason: next.failureReason,
        card_activity_id: next.cardActivityId,
      });
      if (result.changes !== 1) return null;
      s.insertTransition.run(id, current.state, to, at, changes.detail ?? null);
      const updated = s.byId.get(id);
      if (!updated) throw corrupt('retrieval');
      return fromRow(updated);
    },
  );

  return {
    migrate: () =>
      run(() => {
        runMigrations(database);
        prepared = null;
      }),

    createRetrieval: (retrieval) =>
      run(() => {
        const createdMs = checkNewRetrieval(retrieval);
        try {
          return create.immediate(retrieval, createdMs);
        } catch (error) {
          // Another process inserted the active retrieval first (the partial unique index said no).
          if (isSqliteError(error, 'SQLITE_CONSTRAINT_UNIQUE')) {
            const existing = statements().activeFor.get(retrieval.site, retrieval.study.studyInstanceUid);
            if (existing) return { retrieval: fromRow(existing), created: false };
          }
          if (isSqliteError(error, 'SQLITE_CONSTRAINT_PRIMARYKEY')) {
            throw new StoreError('conflict', `another retrieval already has the id ${retrieval.id}`);
          }
          throw error;
        }
      }),

    transition: (id, from, to, at, changes) =>
      run(() => {
        checkMove(from, to);
        instantMs(at, 'at');
        try {
          return move.immediate(id, from, to, at, changes ?? {});
        } catch (error) {
          // A retry while a newer retrieval of the same study from the same site is active.
          if (isSqliteError(error, 'SQLITE_CONSTRAINT_UNIQUE')) {
            throw new StoreError('conflict', 'another retrieval of this study from this site is already active');
          }
          throw error;
        }
      }),

    getRetrieval: (id) =>
      run(() => {
        const row = statements().byId.get(id);
        return row ? fromRow(row) : null;
      }),

    activeRetrievals: () => run(() => statements().active.all().map(fromRow)),

    retrievalsFor: (teamsUserId, limit) =>
      run(() => {
        if (!Number.isInteger(limit) || limit < 0) throw new StoreError('invalid', 'limit must be a whole number, 0 or more');
        return statements().forUser.all(teamsUserId, limit).map(fromRow);
      }),

    transitions: (retrievalId) =>
      run(() =>
        statements()
          .transitions.all(retrievalId)
          .map(
            (row): RetrievalTransition => ({
              retrievalId: row.retrieval_id,
              from: row.from_state === null ? null : stateOf(row.from_state, 'transition'),
              to: stateOf(row.to_state, 'transition'),
              at: row.at,
              detail: row.detail,
            }),
          ),
      ),

    appendAudit: (event) =>
      run(() => {
        statements().appendAudit.run({
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
      }),

    auditSince: (since) =>
      run(() =>
        statements()
          .auditSince.all(instantMs(since, 'since'))
          .map(
            (row): AuditEvent => ({
              at: row.at,
              // The column holds only what appendAudit wrote, which the type already checked.
              action: row.action as AuditEvent['action'],
              teamsUserId: row.teams_user_id,
              entraObjectId: row.entra_object_id,
              displayName: row.display_name,
              nhsNumber: row.nhs_number,
              site: row.site,
              studies: stringList(row.studies, 'audit event'),
              outcome: row.outcome,
            }),
          ),
      ),

    close: () => {
      if (database.open) database.close();
      return Promise.resolve();
    },
  };
}
