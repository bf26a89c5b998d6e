/**
 * The tables' column shapes shared by the SQL stores, and the conversions from rows to the port's
 * records (a value the database should never hold is reported as corrupt, not passed on).
 */
import {
  StoreError,
  type AuditEvent,
  type Notification,
  type NotificationKind,
  type NotificationState,
  type Retrieval,
  type RetrievalState,
  type StoredReference,
} from '../../../ports/store-port';
import { isRetrievalState } from '../../../retrieval/retrieval-states';

export interface RetrievalRow {
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
  readonly study_accession_number: string | null;
}

export interface NotificationRow {
  readonly id: string;
  readonly retrieval_id: string;
  readonly transition_seq: number;
  readonly kind: string;
  readonly state: string;
  readonly attempts: number;
  readonly next_attempt_at: string;
  readonly next_attempt_at_ms: number;
  readonly lease_owner: string | null;
  readonly lease_until: string | null;
  readonly lease_until_ms: number | null;
  readonly last_error: string | null;
  readonly created_at: string;
  readonly created_at_ms: number;
  readonly sent_at: string | null;
}

export interface ReferenceRow {
  readonly teams_user_id: string;
  readonly conversation_id: string;
  readonly entra_object_id: string | null;
  readonly reference: string;
  readonly updated_at: string;
  readonly updated_at_ms: number;
}

/** The store holds something unreadable. */
export function corrupt(what: string): StoreError {
  return new StoreError('unavailable', `the database holds an unreadable ${what}`);
}

/** A stored state, checked (a row no build wrote is reported, not trusted). */
export function stateOf(value: unknown, what: string): RetrievalState {
  if (!isRetrievalState(value)) throw corrupt(what);
  return value;
}

export function stringList(json: string, what: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw corrupt(what);
  }
  if (!Array.isArray(parsed) || !parsed.every((item): item is string => typeof item === 'string')) throw corrupt(what);
  return parsed;
}

export const notificationKinds: readonly NotificationKind[] = ['stored', 'failed'];

export const notificationStates: readonly NotificationState[] = ['pending', 'sent', 'undeliverable'];

/** The notification columns both SQL stores share. */
export type NotificationColumns = Pick<
  NotificationRow,
  | 'id'
  | 'retrieval_id'
  | 'kind'
  | 'state'
  | 'attempts'
  | 'next_attempt_at'
  | 'lease_owner'
  | 'lease_until'
  | 'last_error'
  | 'created_at'
  | 'sent_at'
>;

/** A Notification from its columns, checked; shared with the PostgreSQL store. */
export function fromNotificationRow(row: NotificationColumns): Notification {
  const kind = notificationKinds.find((k) => k === row.kind);
  const state = notificationStates.find((k) => k === row.state);
  if (!kind || !state) throw corrupt('notification');
  return {
    id: row.id,
    retrievalId: row.retrieval_id,
    kind,
    state,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    leaseOwner: row.lease_owner,
    leaseUntil: row.lease_until,
    lastError: row.last_error,
    createdAt: row.created_at,
    sentAt: row.sent_at,
  };
}

/** A StoredReference from its columns; shared with the PostgreSQL store. */
export function fromReferenceRow(row: Omit<ReferenceRow, 'updated_at_ms'>): StoredReference {
  return {
    teamsUserId: row.teams_user_id,
    entraObjectId: row.entra_object_id,
    conversationId: row.conversation_id,
    reference: row.reference,
    updatedAt: row.updated_at,
  };
}

/** The retrieval columns both SQL stores share (modalities are decoded by each store). */
export type RetrievalColumns = Omit<RetrievalRow, 'study_modalities' | 'created_at_ms'>;

/** A Retrieval from its columns; shared with the PostgreSQL store so the two read rows alike. */
export function retrievalFromColumns(row: RetrievalColumns, modalities: string[]): Retrieval {
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
      modalities,
      instanceCount: row.study_instance_count,
      // Absent when the PACS gave none, as the study came in (rows from before migration 7 have none).
      ...(row.study_accession_number === null ? {} : { accessionNumber: row.study_accession_number }),
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

/** The audit_events columns both SQL stores read back (their `studies` column differs: JSON text or TEXT[]). */
export interface AuditColumns {
  readonly at: string;
  readonly action: string;
  readonly teams_user_id: string;
  readonly entra_object_id: string | null;
  readonly display_name: string;
  readonly nhs_number: string | null;
  readonly site: string | null;
  readonly outcome: string;
}

/** An audit event from its columns and its studies, as each store decoded them. */
export function auditFromColumns(row: AuditColumns, studies: string[]): AuditEvent {
  return {
    at: row.at,
    // The column holds only what appendAudit wrote, which the type already checked.
    action: row.action as AuditEvent['action'],
    teamsUserId: row.teams_user_id,
    entraObjectId: row.entra_object_id,
    displayName: row.display_name,
    nhsNumber: row.nhs_number,
    site: row.site,
    studies,
    outcome: row.outcome,
  };
}
