/**
 * The one builder of audit lines: who (a requester, or the bot itself), when, what and the outcome;
 * patient fields are empty unless given.
 */
import type { AuditEvent, Requester } from '../ports/store-port';

/** Who an audit line is about. */
export type AuditSubject = Pick<Requester, 'teamsUserId' | 'entraObjectId' | 'displayName'>;

/** The bot itself, purging the audit trail (AUDIT_RETENTION_DAYS). */
export const retentionSubject: AuditSubject = {
  teamsUserId: 'system',
  entraObjectId: null,
  displayName: 'Image Sharing Assistant (audit retention)',
};

/** An audit line of `who` at `at`. */
export function auditEvent(
  who: AuditSubject,
  at: Date,
  fields: Pick<AuditEvent, 'action' | 'outcome'> & Partial<Pick<AuditEvent, 'nhsNumber' | 'site' | 'studies'>>,
): AuditEvent {
  return {
    at: at.toISOString(),
    action: fields.action,
    teamsUserId: who.teamsUserId,
    entraObjectId: who.entraObjectId,
    displayName: who.displayName,
    nhsNumber: fields.nhsNumber ?? null,
    site: fields.site ?? null,
    studies: fields.studies ?? [],
    outcome: fields.outcome,
  };
}
