/**
 * The SQLite store's retrievals: creating one (deduplicated per site and study), moving it through
 * its states (writing the outbox's notification with an ending), reading them back, and recording a
 * confirmation (retrievals, audit lines and the turn's claim) as one transaction.
 */
import {
  StoreError,
  type Confirmation,
  type NewRetrieval,
  type Retrieval,
  type RetrievalState,
  type RetrievalTransition,
  type StorePort,
} from '../../../ports/store-port';
import { applyTransition, checkMove, notificationKindFor, type TransitionChanges } from '../../../retrieval/retrieval-states';
import { corrupt, stateOf } from '../core/store-rows';
import {
  checkConfirmation,
  claimsOf,
  checkNewRetrieval,
  checkPage,
  checkStudyUids,
  instantMs,
  newNotificationId,
} from '../core/store-rules';
import { writeAudit } from './sqlite-audit';
import { isSqliteError, type SqliteConnection } from './sqlite-connection';
import { fromRow, type TransitionRow } from './sqlite-statements';

type Created = { retrieval: Retrieval; created: boolean };

function fromTransitionRow(row: TransitionRow): RetrievalTransition {
  return {
    retrievalId: row.retrieval_id,
    from: row.from_state === null ? null : stateOf(row.from_state, 'transition'),
    to: stateOf(row.to_state, 'transition'),
    at: row.at,
    detail: row.detail,
  };
}

/** Creates a 'requested' retrieval, or finds the active one of the same site and study, in one transaction. */
function createTransaction(db: SqliteConnection) {
  return db.database.transaction((retrieval: NewRetrieval, createdMs: number): Created => {
    const s = db.statements();
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
      study_accession_number: retrieval.study.accessionNumber ?? null,
    });
    s.insertTransition.run(retrieval.id, null, 'requested', retrieval.createdAt, null);
    const row = s.byId.get(retrieval.id);
    if (!row) throw corrupt('retrieval');
    return { retrieval: fromRow(row), created: true };
  });
}

/** Moves a retrieval if it is in one of `from` (compare-and-set), with its transition and notification, in one transaction. */
function moveTransaction(db: SqliteConnection) {
  return db.database.transaction(
    (id: string, from: readonly RetrievalState[], to: RetrievalState, at: string, changes: TransitionChanges): Retrieval | null => {
      const s = db.statements();
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
}

/** Every retrieval (created by `create`), every audit line and the turn's claim, or none of them. */
function confirmTransaction(db: SqliteConnection, create: ReturnType<typeof createTransaction>) {
  return db.database.transaction((confirmation: Confirmation, createdMs: ReadonlyArray<number | null>) => {
    const results = confirmation.entries.map((entry, i) => {
      if (entry.retrieval === null) {
        writeAudit(db, entry.audit);
        return null;
      }
      const result = create(entry.retrieval, createdMs[i]!);
      writeAudit(db, result.created ? entry.audit.created : entry.audit.existing);
      return result;
    });
    for (const claim of claimsOf(confirmation)) db.statements().finishActivity.run(claim.key, claim.owner);
    return results;
  });
}

/** The retrievals' part of the store (with confirmations, which record retrievals), on `db`. */
export function sqliteRetrievals(
  db: SqliteConnection,
): Pick<
  StorePort,
  | 'createRetrieval'
  | 'transition'
  | 'getRetrieval'
  | 'activeRetrievals'
  | 'retrievalsFor'
  | 'retrievalsOfStudies'
  | 'transitions'
  | 'recordConfirmation'
> {
  const create = createTransaction(db);
  const move = moveTransaction(db);
  const confirm = confirmTransaction(db, create);
  return {
    createRetrieval: (retrieval) =>
      db.run(() => {
        const createdMs = checkNewRetrieval(retrieval);
        try {
          return create.immediate(retrieval, createdMs);
        } catch (error) {
          // Another process inserted the active retrieval first (the partial unique index said no).
          if (isSqliteError(error, 'SQLITE_CONSTRAINT_UNIQUE')) {
            const existing = db.statements().activeFor.get(retrieval.site, retrieval.study.studyInstanceUid);
            if (existing) return { retrieval: fromRow(existing), created: false };
          }
          if (isSqliteError(error, 'SQLITE_CONSTRAINT_PRIMARYKEY')) {
            throw new StoreError('conflict', `another retrieval already has the id ${retrieval.id}`);
          }
          throw error;
        }
      }),

    transition: (id, from, to, at, changes) =>
      db.run(() => {
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
      db.run(() => {
        const row = db.statements().byId.get(id);
        return row ? fromRow(row) : null;
      }),

    activeRetrievals: () => db.run(() => db.statements().active.all().map(fromRow)),

    retrievalsFor: (teamsUserId, limit, offset = 0) =>
      db.run(() => {
        checkPage(limit, offset);
        return db.statements().forUser.all(teamsUserId, limit, offset).map(fromRow);
      }),

    retrievalsOfStudies: (uids, limit) =>
      db.run(() => {
        checkStudyUids(uids);
        checkPage(limit, 0);
        return uids.length === 0 ? [] : db.statements().ofStudies.all(JSON.stringify(uids), limit).map(fromRow);
      }),

    transitions: (retrievalId) => db.run(() => db.statements().transitions.all(retrievalId).map(fromTransitionRow)),

    recordConfirmation: (confirmation) =>
      db.run(() => {
        const createdMs = checkConfirmation(confirmation);
        try {
          return confirm.immediate(confirmation, createdMs);
        } catch (error) {
          if (isSqliteError(error, 'SQLITE_CONSTRAINT_PRIMARYKEY'))
            throw new StoreError('conflict', 'another retrieval already has one of these ids');
          throw error;
        }
      }),
  };
}
