/**
 * The PostgreSQL store's retrievals: creating one (deduplicated per site and study across processes),
 * moving it through its states (writing the outbox's notification with an ending), reading them back,
 * and recording a confirmation (retrievals, audit lines and the turn's claim) as one transaction.
 */
import type pg from 'pg';
import {
  StoreError,
  type Confirmation,
  type NewRetrieval,
  type Retrieval,
  type RetrievalState,
  type StorePort,
} from '../../../ports/store-port';
import { applyTransition, checkMove, notificationKindFor, type TransitionChanges } from '../../../retrieval/retrieval-states';
import { corrupt } from '../core/store-rows';
import {
  checkConfirmation,
  claimsOf,
  checkNewRetrieval,
  checkPage,
  checkStudyUids,
  instantMs,
  newNotificationId,
} from '../core/store-rules';
import { finishSql } from './postgres-activities';
import { insertAudit } from './postgres-audit';
import { isUniqueViolation, toStoreError, type PostgresConnection } from './postgres-connection';
import { active, fromRow, fromTransitionRow, retrievalColumns, type RetrievalRow, type TransitionRow } from './postgres-rows';

type Created = { retrieval: Retrieval; created: boolean };

/**
 * Inserts a 'requested' retrieval, or finds the active one that stopped the insert, on `client`
 * (inside a transaction). Each round either inserts or finds; it goes round again only if the
 * active one stopped being active in between (a rare race).
 */
async function insertOrFind(client: pg.PoolClient, retrieval: NewRetrieval, createdMs: number): Promise<Created> {
  for (let round = 0; round < 10; round += 1) {
    // ON CONFLICT on the partial unique index waits for a racing insert to commit or roll
    // back, then does nothing if it committed; any other conflict (the id) still raises.
    const inserted = await client.query<RetrievalRow>(
      `INSERT INTO retrievals (id, requester_teams_user_id, requester_entra_object_id, requester_display_name,
         requester_tenant_id, requester_conversation_id, site, nhs_number, study_instance_uid, study_date,
         study_description, study_modalities, study_instance_count, state, pacs_job_id, failure_reason,
         created_at, created_at_ms, updated_at, kept_until, card_activity_id, study_accession_number)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'requested', NULL, NULL, $14, $15, $14, $16, $17, $18)
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
        retrieval.study.accessionNumber ?? null,
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

async function createRetrieval(db: PostgresConnection, retrieval: NewRetrieval): Promise<Created> {
  db.checkOpen();
  const createdMs = checkNewRetrieval(retrieval);
  try {
    return await db.transaction((client) => insertOrFind(client, retrieval, createdMs));
  } catch (error) {
    if (isUniqueViolation(error, 'retrievals_pkey'))
      throw new StoreError('conflict', `another retrieval already has the id ${retrieval.id}`);
    throw toStoreError(error);
  }
}

async function transition(
  db: PostgresConnection,
  id: string,
  from: readonly RetrievalState[],
  to: RetrievalState,
  at: string,
  changes: TransitionChanges = {},
): Promise<Retrieval | null> {
  db.checkOpen();
  checkMove(from, to);
  const atMs = instantMs(at, 'at');
  try {
    return await db.transaction(async (client) => {
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

/** Every retrieval, every audit line and the turn's claim in one transaction, or none of them. */
async function recordConfirmation(db: PostgresConnection, confirmation: Confirmation): Promise<Array<Created | null>> {
  db.checkOpen();
  const createdMs = checkConfirmation(confirmation);
  try {
    return await db.transaction(async (client) => {
      const results: Array<Created | null> = [];
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
      for (const claim of claimsOf(confirmation)) await client.query(finishSql, [claim.key, claim.owner]);
      return results;
    });
  } catch (error) {
    if (isUniqueViolation(error, 'retrievals_pkey')) throw new StoreError('conflict', 'another retrieval already has one of these ids');
    throw toStoreError(error);
  }
}

/** The retrievals' part of the store (with confirmations, which record retrievals), on `db`. */
export function postgresRetrievals(
  db: PostgresConnection,
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
  return {
    createRetrieval: (retrieval) => createRetrieval(db, retrieval),
    transition: (id, from, to, at, changes) => transition(db, id, from, to, at, changes),

    getRetrieval: async (id) => {
      const rows = await db.query<RetrievalRow>(`SELECT ${retrievalColumns} FROM retrievals WHERE id = $1`, [id]);
      return rows[0] ? fromRow(rows[0]) : null;
    },

    activeRetrievals: async () =>
      (await db.query<RetrievalRow>(`SELECT ${retrievalColumns} FROM retrievals WHERE ${active} ORDER BY created_at_ms, seq`)).map(fromRow),

    retrievalsFor: async (teamsUserId, limit, offset = 0) => {
      db.checkOpen();
      checkPage(limit, offset);
      const rows = await db.query<RetrievalRow>(
        `SELECT ${retrievalColumns} FROM retrievals WHERE requester_teams_user_id = $1 ` +
          'ORDER BY created_at_ms DESC, seq DESC LIMIT $2 OFFSET $3',
        [teamsUserId, limit, offset],
      );
      return rows.map(fromRow);
    },

    retrievalsOfStudies: async (uids, limit) => {
      db.checkOpen();
      checkStudyUids(uids);
      checkPage(limit, 0);
      if (uids.length === 0) return [];
      const rows = await db.query<RetrievalRow>(
        `SELECT ${retrievalColumns} FROM retrievals WHERE study_instance_uid = ANY($1::text[]) ` +
          'ORDER BY created_at_ms DESC, seq DESC LIMIT $2',
        [uids, limit],
      );
      return rows.map(fromRow);
    },

    transitions: async (retrievalId) =>
      (
        await db.query<TransitionRow>(
          'SELECT retrieval_id, from_state, to_state, at, detail FROM retrieval_transitions WHERE retrieval_id = $1 ORDER BY seq',
          [retrievalId],
        )
      ).map(fromTransitionRow),

    recordConfirmation: (confirmation) => recordConfirmation(db, confirmation),
  };
}
