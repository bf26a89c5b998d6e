/**
 * The SQLite store (better-sqlite3): the embedded default behind DATABASE_URL=sqlite:PATH.
 *
 * better-sqlite3 is synchronous, so each method does all of its work in one synchronous call and
 * hands back a settled promise: calls cannot interleave inside this process, and between processes
 * every write runs in an IMMEDIATE transaction (the write lock is taken up front, so a
 * read-then-write never fails half way with SQLITE_BUSY). The rules shared with the other stores
 * are in ../core/ and the retrieval state machine in src/retrieval/retrieval-states.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  StoreError,
  type ActivityClaim,
  type ActivityClaimRequest,
  type AuditEvent,
  type Confirmation,
  type NewRetrieval,
  type Notification,
  type NotificationOutcome,
  type Retrieval,
  type RetrievalState,
  type RetrievalTransition,
  type StorePort,
  type StoredReference,
} from '../../../ports/store-port';
import { applyTransition, checkMove, notificationKindFor, type TransitionChanges } from '../../../retrieval/retrieval-states';
import {
  instantMs,
  checkNewRetrieval,
  newNotificationId,
  isNonEmptyString,
  checkReference,
  type Claim,
  checkClaim,
  checkRenewal,
  checkOwner,
  checkSilence,
  pruneEvery,
  type CheckedActivityClaim,
  checkActivityClaim,
  checkActivityKey,
  decideActivityClaim,
  activityRecordOf,
  checkConfirmation,
  checkSettlement,
  holdsLease,
  applySettlement,
} from '../core/store-rules';
import { auditFromColumns, corrupt, fromNotificationRow, fromReferenceRow, stateOf, stringList } from '../core/store-rows';
import { fromRow, statementsFor, type Statements } from './sqlite-statements';
import { runMigrations } from './sqlite-migrations';

/** How long a heartbeat waits for another process's write lock before it gives up (ms). */
const heartbeatBusyMs = 100;

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

function isSqliteError(error: unknown, code: string): boolean {
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

/** How to open the SQLite store. */
export interface SqliteStoreOptions {
  /** How long to wait for another process's write lock before giving up (busy_timeout); default 5000. */
  readonly busyTimeoutMs?: number;
  /** The database's clock, which for an embedded database is its host's (default: the system clock; tests pass their own). */
  readonly clock?: () => Date;
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

/**
 * Opens (creating it and its folder if need be) the SQLite database at `file`, or a private
 * in-memory one for ':memory:'. Call migrate() before anything else on a new file. Throws
 * StoreError('unavailable') if the file cannot be opened.
 */
export function openSqliteStore(file: string, options: SqliteStoreOptions = {}): StorePort {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
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
  const statements = (): Statements => (prepared ??= statementsFor(database));

  /** Runs one synchronous unit of work as a settled promise, with errors as StoreErrors. */
  let recorded = 0;
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
      const seq = Number(s.insertTransition.run(id, current.state, to, at, changes.detail ?? null).lastInsertRowid);
      // The outbox: the message owed for an ending is written with the ending, or not at all.
      const kind = notificationKindFor(to);
      if (kind) {
        const atMs = instantMs(at, 'at');
        s.insertNotification.run({
          id: newNotificationId(),
          retrieval_id: id,
          transition_seq: seq,
          kind,
          next_attempt_at: at,
          next_attempt_at_ms: atMs,
          created_at: at,
          created_at_ms: atMs,
        });
      }
      const updated = s.byId.get(id);
      if (!updated) throw corrupt('retrieval');
      return fromRow(updated);
    },
  );

  const upsertReference = database.transaction((reference: StoredReference, updatedMs: number): void => {
    statements().saveReference.run({
      teams_user_id: reference.teamsUserId,
      conversation_id: reference.conversationId,
      entra_object_id: reference.entraObjectId,
      reference: reference.reference,
      updated_at: reference.updatedAt,
      updated_at_ms: updatedMs,
    });
  });

  // Select and lease in one IMMEDIATE transaction: no other process can write in between, so no
  // two owners ever lease the same notification (the UPDATE's guard says so again).
  const claim = database.transaction((owner: string, checked: Claim, limit: number): Notification[] => {
    const s = statements();
    const leased: Notification[] = [];
    for (const { id } of s.claimable.all({ now: checked.nowMs, lease_now: checked.leaseNowMs, limit })) {
      const result = s.lease.run({
        id,
        now: checked.nowMs,
        lease_now: checked.leaseNowMs,
        owner,
        lease_until: checked.leaseUntil,
        lease_until_ms: checked.leaseUntilMs,
      });
      if (result.changes !== 1) continue;
      const row = s.notificationById.get(id);
      if (!row) throw corrupt('notification');
      leased.push(fromNotificationRow(row));
    }
    return leased;
  });

  const settle = database.transaction((id: string, owner: string, outcome: NotificationOutcome): boolean => {
    const s = statements();
    const row = s.notificationById.get(id);
    if (!row) return false;
    const current = fromNotificationRow(row);
    if (!holdsLease(current, owner)) return false;
    const next = applySettlement(current, outcome);
    const result = s.settle.run({
      id,
      owner,
      state: next.state,
      next_attempt_at: next.nextAttemptAt,
      next_attempt_at_ms: instantMs(next.nextAttemptAt, 'nextAttemptAt'),
      last_error: next.lastError,
      sent_at: next.sentAt,
    });
    return result.changes === 1;
  });

  // Read, decide and write in one IMMEDIATE transaction: no other process can claim in between.
  const claimOne = database.transaction((request: ActivityClaimRequest, checked: CheckedActivityClaim): ActivityClaim => {
    const s = statements();
    // Old keys go now and then (every pruneEvery-th claim).
    recorded += 1;
    if (recorded % pruneEvery === 0) s.pruneActivities.run(checked.atMs);
    const row = s.activityByKey.get(request.key);
    const decision = decideActivityClaim(row ? activityRecordOf(row) : null, request, checked.atMs);
    if (!decision.write) return decision.answer;
    s.claimActivity.run({
      activity_key: request.key,
      state: 'claimed',
      owner: request.owner,
      claimed_at_ms: checked.atMs,
      claim_until_ms: checked.claimUntilMs,
      expires_at_ms: checked.expiresMs,
    });
    return { outcome: 'claimed', previousOwner: decision.previousOwner };
  });

  const writeAudit = (event: AuditEvent): void => {
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
  };
  // The purge and its own audit line, or neither.
  const purge = db.transaction((beforeMs: number, record: (purged: number) => AuditEvent): number => {
    const purged = statements().purgeAudit.run(beforeMs).changes;
    if (purged > 0) writeAudit(record(purged));
    return purged;
  });

  // Every retrieval, every audit line and the turn's claim, or none of them.
  const confirm = database.transaction((confirmation: Confirmation, createdMs: ReadonlyArray<number | null>) => {
    const results = confirmation.entries.map((entry, i) => {
      if (entry.retrieval === null) {
        writeAudit(entry.audit);
        return null;
      }
      const result = create(entry.retrieval, createdMs[i]!);
      writeAudit(result.created ? entry.audit.created : entry.audit.existing);
      return result;
    });
    if (confirmation.activity) statements().finishActivity.run(confirmation.activity.key, confirmation.activity.owner);
    return results;
  });

  return {
    migrate: () =>
      run(() => {
        const report = runMigrations(database);
        prepared = null;
        return report;
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
          .map((row): RetrievalTransition => ({
            retrievalId: row.retrieval_id,
            from: row.from_state === null ? null : stateOf(row.from_state, 'transition'),
            to: stateOf(row.to_state, 'transition'),
            at: row.at,
            detail: row.detail,
          })),
      ),

    appendAudit: (event) => run(() => writeAudit(event)),

    saveReference: (reference) =>
      run(() => {
        const updatedMs = checkReference(reference);
        upsertReference.immediate(reference, updatedMs);
      }),

    referenceFor: (teamsUserId, conversationId) =>
      run(() => {
        const row = statements().referenceFor.get(teamsUserId, conversationId);
        return row ? fromReferenceRow(row) : null;
      }),

    claimNotifications: (owner, now, leaseMs, limit, leaseNow) =>
      run(() => {
        const checked = checkClaim(owner, now, leaseMs, limit, leaseNow);
        return limit === 0 ? [] : claim.immediate(owner, checked, limit);
      }),

    settleNotification: (id, owner, outcome) =>
      run(() => {
        checkSettlement(id, owner, outcome);
        return settle.immediate(id, owner, outcome);
      }),

    notificationsFor: (retrievalId) => run(() => statements().notificationsFor.all(retrievalId).map(fromNotificationRow)),

    auditSince: (since) =>
      run(() =>
        statements()
          .auditSince.all(instantMs(since, 'since'))
          .map((row) => auditFromColumns(row, stringList(row.studies, 'audit event'))),
      ),

    countAudit: (teamsUserId, action, since) =>
      run(() => statements().countAudit.get(teamsUserId, action, instantMs(since, 'since'))?.n ?? 0),

    purgeAudit: (before, record) =>
      run(() => {
        const beforeMs = instantMs(before, 'before');
        return purge.immediate(beforeMs, record);
      }),

    claimActivity: (request) =>
      run(() => {
        const checked = checkActivityClaim(request);
        return claimOne.immediate(request, checked);
      }),

    finishActivity: (key, owner) =>
      run(() => {
        checkActivityKey(key);
        return statements().finishActivity.run(key, owner).changes === 1;
      }),

    releaseActivity: (key, owner) =>
      run(() => {
        checkActivityKey(key);
        return statements().releaseActivity.run(key, owner).changes === 1;
      }),

    activityFor: (key) =>
      run(() => {
        const row = statements().activityByKey.get(key);
        return row ? activityRecordOf(row) : null;
      }),

    recordConfirmation: (confirmation) =>
      run(() => {
        const createdMs = checkConfirmation(confirmation);
        try {
          return confirm.immediate(confirmation, createdMs);
        } catch (error) {
          if (isSqliteError(error, 'SQLITE_CONSTRAINT_PRIMARYKEY'))
            throw new StoreError('conflict', 'another retrieval already has one of these ids');
          throw error;
        }
      }),

    ping: () =>
      run(() => {
        statements().ping.get();
      }),

    leaseHolders: () =>
      run(() =>
        statements()
          .leaseHolders.all()
          .map((row) => row.owner),
      ),

    renewLease: (id, owner, now, leaseMs) =>
      run(() => {
        const checked = checkRenewal(id, owner, now, leaseMs);
        return (
          statements().renewLease.run({ id, owner, lease_until: checked.leaseUntil, lease_until_ms: checked.leaseUntilMs }).changes === 1
        );
      }),

    clockNow: () => run(() => (options.clock?.() ?? new Date()).toISOString()),

    heartbeat: (owner, at) =>
      run(() => {
        checkOwner(owner);
        const atMs = instantMs(at, 'at');
        // A beat must not hold the whole process up for the busy timeout while another process holds the
        // write lock (the wait is synchronous): it fails fast instead, and the next beat comes soon.
        database.pragma(`busy_timeout = ${heartbeatBusyMs}`);
        try {
          statements().heartbeat.run(owner, atMs);
        } finally {
          database.pragma(`busy_timeout = ${busyTimeoutMs}`);
        }
      }),

    silentOwners: (owners, now, silentMs) =>
      run(() => {
        const cutoffMs = checkSilence(owners, now, silentMs);
        return owners.filter((owner) => (statements().lastBeat.get(owner)?.beat_at_ms ?? Number.NEGATIVE_INFINITY) <= cutoffMs);
      }),

    retireOwner: (owner) =>
      run(() => {
        checkOwner(owner);
        statements().retireOwner.run(owner);
      }),

    releaseLeases: (owner) =>
      run(() => {
        if (!isNonEmptyString(owner)) throw new StoreError('invalid', 'releasing leases needs an owner');
        return statements().releaseLeases.run(owner).changes;
      }),

    close: () => {
      if (database.open) database.close();
      return Promise.resolve();
    },
  };
}
