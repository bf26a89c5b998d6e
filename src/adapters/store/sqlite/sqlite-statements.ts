/**
 * The SQLite store's rows and prepared statements (prepared once the schema exists).
 */
import type Database from 'better-sqlite3';
import type { NotificationState, Retrieval, RetrievalState } from '../../../ports/store-port';
import { retrievalFromColumns, stringList, type NotificationRow, type ReferenceRow, type RetrievalRow } from '../core/store-rows';

export interface TransitionRow {
  readonly retrieval_id: string;
  readonly from_state: string | null;
  readonly to_state: string;
  readonly at: string;
  readonly detail: string | null;
}

export interface AuditRow {
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

/** The columns a settlement writes, keyed for the compare-and-set UPDATE. */
export interface SettleParams {
  readonly id: string;
  readonly owner: string;
  readonly state: NotificationState;
  readonly next_attempt_at: string;
  readonly next_attempt_at_ms: number;
  readonly last_error: string | null;
  readonly sent_at: string | null;
}

/** A row of activity_claims. */
export interface ActivityRow {
  readonly activity_key: string;
  readonly state: string;
  readonly owner: string;
  readonly claimed_at_ms: number;
  readonly claim_until_ms: number;
  readonly expires_at_ms: number;
}

export interface UpdateParams {
  readonly id: string;
  readonly from: string;
  readonly state: RetrievalState;
  readonly updated_at: string;
  readonly pacs_job_id: string | null;
  readonly failure_reason: string | null;
  readonly card_activity_id: string | null;
}

export const active = `state IN ('requested', 'retrieving')`;

function prepareStatements(db: Database.Database) {
  return {
    byId: db.prepare<[string], RetrievalRow>('SELECT * FROM retrievals WHERE id = ?'),
    activeFor: db.prepare<[string, string], RetrievalRow>(
      `SELECT * FROM retrievals WHERE site = ? AND study_instance_uid = ? AND ${active}`,
    ),
    insertRetrieval: db.prepare<Omit<RetrievalRow, 'state' | 'pacs_job_id' | 'failure_reason' | 'updated_at'>>(`
      INSERT INTO retrievals (id, requester_teams_user_id, requester_entra_object_id, requester_display_name,
        requester_tenant_id, requester_conversation_id, site, nhs_number, study_instance_uid, study_date,
        study_description, study_modalities, study_instance_count, state, pacs_job_id, failure_reason,
        created_at, created_at_ms, updated_at, kept_until, card_activity_id, study_accession_number)
      VALUES (@id, @requester_teams_user_id, @requester_entra_object_id, @requester_display_name,
        @requester_tenant_id, @requester_conversation_id, @site, @nhs_number, @study_instance_uid, @study_date,
        @study_description, @study_modalities, @study_instance_count, 'requested', NULL, NULL,
        @created_at, @created_at_ms, @created_at, @kept_until, @card_activity_id, @study_accession_number)`),
    // Compare-and-set: the row changes only if it is still in one of the expected states.
    update: db.prepare<UpdateParams>(`
      UPDATE retrievals SET state = @state, updated_at = @updated_at, pacs_job_id = @pacs_job_id,
        failure_reason = @failure_reason, card_activity_id = @card_activity_id
      WHERE id = @id AND state IN (SELECT value FROM json_each(@from))`),
    insertTransition: db.prepare<[string, RetrievalState | null, RetrievalState, string, string | null]>(
      'INSERT INTO retrieval_transitions (retrieval_id, from_state, to_state, at, detail) VALUES (?, ?, ?, ?, ?)',
    ),
    active: db.prepare<[], RetrievalRow>(`SELECT * FROM retrievals WHERE ${active} ORDER BY created_at_ms, rowid`),
    forUser: db.prepare<[string, number, number], RetrievalRow>(
      'SELECT * FROM retrievals WHERE requester_teams_user_id = ? ORDER BY created_at_ms DESC, rowid DESC LIMIT ? OFFSET ?',
    ),
    // The UIDs arrive as one JSON array: one statement whatever their number.
    ofStudies: db.prepare<[string, number], RetrievalRow>(
      'SELECT * FROM retrievals WHERE study_instance_uid IN (SELECT value FROM json_each(?)) ' +
        'ORDER BY created_at_ms DESC, rowid DESC LIMIT ?',
    ),
    transitions: db.prepare<[string], TransitionRow>(
      'SELECT retrieval_id, from_state, to_state, at, detail FROM retrieval_transitions WHERE retrieval_id = ? ORDER BY seq',
    ),
    appendAudit: db.prepare<AuditRow>(`
      INSERT INTO audit_events (at, at_ms, action, teams_user_id, entra_object_id, display_name, nhs_number, site, studies, outcome)
      VALUES (@at, @at_ms, @action, @teams_user_id, @entra_object_id, @display_name, @nhs_number, @site, @studies, @outcome)`),
    auditSince: db.prepare<[number], AuditRow>('SELECT * FROM audit_events WHERE at_ms >= ? ORDER BY at_ms, seq'),
    countAudit: db.prepare<[string, string, number], { n: number }>(
      'SELECT COUNT(*) AS n FROM audit_events WHERE teams_user_id = ? AND action = ? AND at_ms >= ?',
    ),
    purgeAudit: db.prepare<[number]>('DELETE FROM audit_events WHERE at_ms < ?'),
    activityByKey: db.prepare<[string], ActivityRow>('SELECT * FROM activity_claims WHERE activity_key = ?'),
    // A new claim, or a claim taken over: the row becomes this owner's, claimed, with new times.
    claimActivity: db.prepare<ActivityRow>(`
      INSERT INTO activity_claims (activity_key, state, owner, claimed_at_ms, claim_until_ms, expires_at_ms)
      VALUES (@activity_key, 'claimed', @owner, @claimed_at_ms, @claim_until_ms, @expires_at_ms)
      ON CONFLICT (activity_key) DO UPDATE SET state = 'claimed', owner = excluded.owner, claimed_at_ms = excluded.claimed_at_ms,
        claim_until_ms = excluded.claim_until_ms, expires_at_ms = excluded.expires_at_ms`),
    finishActivity: db.prepare<[string, string]>(
      "UPDATE activity_claims SET state = 'done' WHERE activity_key = ? AND owner = ? AND state = 'claimed'",
    ),
    releaseActivity: db.prepare<[string, string]>("DELETE FROM activity_claims WHERE activity_key = ? AND owner = ? AND state = 'claimed'"),
    pruneActivities: db.prepare<[number]>('DELETE FROM activity_claims WHERE expires_at_ms <= ?'),
    ping: db.prepare<[], { one: number }>('SELECT 1 AS one'),
    leaseHolders: db.prepare<[], { owner: string }>(
      "SELECT DISTINCT lease_owner AS owner FROM notifications WHERE state = 'pending' AND lease_owner IS NOT NULL ORDER BY owner",
    ),
    releaseLeases: db.prepare<[string]>(
      "UPDATE notifications SET lease_owner = NULL, lease_until = NULL, lease_until_ms = NULL WHERE state = 'pending' AND lease_owner = ?",
    ),
    renewLease: db.prepare<{ id: string; owner: string; lease_until: string; lease_until_ms: number }>(
      'UPDATE notifications SET lease_until = @lease_until, lease_until_ms = @lease_until_ms ' +
        "WHERE id = @id AND state = 'pending' AND lease_owner = @owner",
    ),
    heartbeat: db.prepare<[string, number]>(
      'INSERT INTO owner_heartbeats (owner, beat_at_ms) VALUES (?, ?) ' +
        'ON CONFLICT (owner) DO UPDATE SET beat_at_ms = MAX(beat_at_ms, excluded.beat_at_ms)',
    ),
    lastBeat: db.prepare<[string], { beat_at_ms: number }>('SELECT beat_at_ms FROM owner_heartbeats WHERE owner = ?'),
    retireOwner: db.prepare<[string]>('DELETE FROM owner_heartbeats WHERE owner = ?'),
    saveReference: db.prepare<ReferenceRow>(`
      INSERT INTO conversation_references (teams_user_id, conversation_id, entra_object_id, reference, updated_at, updated_at_ms)
      VALUES (@teams_user_id, @conversation_id, @entra_object_id, @reference, @updated_at, @updated_at_ms)
      ON CONFLICT (teams_user_id, conversation_id) DO UPDATE SET entra_object_id = excluded.entra_object_id,
        reference = excluded.reference, updated_at = excluded.updated_at, updated_at_ms = excluded.updated_at_ms`),
    referenceFor: db.prepare<[string, string], ReferenceRow>(
      'SELECT * FROM conversation_references WHERE teams_user_id = ? AND conversation_id = ?',
    ),
    insertNotification: db.prepare<
      Omit<NotificationRow, 'state' | 'attempts' | 'lease_owner' | 'lease_until' | 'lease_until_ms' | 'last_error' | 'sent_at'>
    >(`
      INSERT INTO notifications (id, retrieval_id, transition_seq, kind, state, attempts, next_attempt_at, next_attempt_at_ms,
        lease_owner, lease_until, lease_until_ms, last_error, created_at, created_at_ms, sent_at)
      VALUES (@id, @retrieval_id, @transition_seq, @kind, 'pending', 0, @next_attempt_at, @next_attempt_at_ms,
        NULL, NULL, NULL, NULL, @created_at, @created_at_ms, NULL)`),
    notificationById: db.prepare<[string], NotificationRow>('SELECT * FROM notifications WHERE id = ?'),
    notificationsFor: db.prepare<[string], NotificationRow>(
      'SELECT * FROM notifications WHERE retrieval_id = ? ORDER BY created_at_ms, transition_seq',
    ),
    // Due, pending and not under a live lease (isClaimable, in SQL), oldest first.
    claimable: db.prepare<{ now: number; lease_now: number; limit: number }, { id: string }>(`
      SELECT id FROM notifications
      WHERE state = 'pending' AND next_attempt_at_ms <= @now AND (lease_until_ms IS NULL OR lease_until_ms <= @lease_now)
      ORDER BY created_at_ms, transition_seq LIMIT @limit`),
    lease: db.prepare<{ id: string; now: number; lease_now: number; owner: string; lease_until: string; lease_until_ms: number }>(`
      UPDATE notifications SET attempts = attempts + 1, lease_owner = @owner, lease_until = @lease_until, lease_until_ms = @lease_until_ms
      WHERE id = @id AND state = 'pending' AND next_attempt_at_ms <= @now AND (lease_until_ms IS NULL OR lease_until_ms <= @lease_now)`),
    // Compare-and-set on the lease: only the holder of a pending notification's lease settles it.
    settle: db.prepare<SettleParams>(`
      UPDATE notifications SET state = @state, next_attempt_at = @next_attempt_at, next_attempt_at_ms = @next_attempt_at_ms,
        last_error = @last_error, sent_at = @sent_at, lease_owner = NULL, lease_until = NULL, lease_until_ms = NULL
      WHERE id = @id AND state = 'pending' AND lease_owner = @owner`),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;

/** Every statement of the store, prepared on `db` (whose schema must be migrated). */
export function statementsFor(db: Database.Database): Statements {
  return prepareStatements(db);
}

export function fromRow(row: RetrievalRow): Retrieval {
  return retrievalFromColumns(row, stringList(row.study_modalities, 'study'));
}
