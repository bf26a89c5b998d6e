/**
 * The PostgreSQL store's rows as node-postgres hands them back (text as string, INTEGER as number,
 * TEXT[] as string[], BIGINT as string: only activity_claims' are read back), the column lists its
 * statements select, and the conversions to the port's records that differ from the SQLite store's
 * (the shared ones are in ../core/store-rows.ts).
 */
import type { AuditEvent, Retrieval, RetrievalTransition } from '../../../ports/store-port';
import { auditFromColumns, corrupt, retrievalFromColumns, stateOf, type RetrievalColumns } from '../core/store-rows';

/** A row of retrievals (study_modalities is TEXT[]). */
export type RetrievalRow = RetrievalColumns & { readonly study_modalities: unknown };

/** A row of retrieval_transitions. */
export type TransitionRow = {
  readonly retrieval_id: string;
  readonly from_state: string | null;
  readonly to_state: string;
  readonly at: string;
  readonly detail: string | null;
};

/** A row of audit_events (studies is TEXT[]). */
export type AuditRow = {
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

/** A row of conversation_references. */
export type ReferenceRow = {
  readonly teams_user_id: string;
  readonly entra_object_id: string | null;
  readonly conversation_id: string;
  readonly reference: string;
  readonly updated_at: string;
};

/** A row of notifications, as notificationColumns select it. */
export type NotificationRow = {
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

/** A row of activity_claims (its BIGINT instants as node-postgres's strings). */
export type ActivityRow = {
  activity_key: string;
  state: string;
  owner: string;
  claimed_at_ms: string;
  claim_until_ms: string;
  expires_at_ms: string;
};

/** The retrieval columns every statement that reads retrievals selects. */
export const retrievalColumns = `id, requester_teams_user_id, requester_entra_object_id, requester_display_name,
  requester_tenant_id, requester_conversation_id, site, nhs_number, study_instance_uid, study_date,
  study_description, study_modalities, study_instance_count, state, pacs_job_id, failure_reason,
  created_at, updated_at, kept_until, card_activity_id, study_accession_number`;

/** The notification columns every statement that reads notifications selects. */
export const notificationColumns = `id, retrieval_id, kind, state, attempts, next_attempt_at, lease_owner, lease_until,
  last_error, created_at, sent_at`;

/** The SQL condition of an active retrieval (the partial unique index's). */
export const active = `state IN ('requested', 'retrieving')`;

function stringList(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string')) throw corrupt(what);
  return value;
}

/** A Retrieval from its row, checked. */
export function fromRow(row: RetrievalRow): Retrieval {
  return retrievalFromColumns(row, stringList(row.study_modalities, 'study'));
}

/** A RetrievalTransition from its row, checked. */
export function fromTransitionRow(row: TransitionRow): RetrievalTransition {
  return {
    retrievalId: row.retrieval_id,
    from: row.from_state === null ? null : stateOf(row.from_state, 'transition'),
    to: stateOf(row.to_state, 'transition'),
    at: row.at,
    detail: row.detail,
  };
}

/** An AuditEvent from its row, checked. */
export function fromAuditRow(row: AuditRow): AuditEvent {
  return auditFromColumns(row, stringList(row.studies, 'audit event'));
}
