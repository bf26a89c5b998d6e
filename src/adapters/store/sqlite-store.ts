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
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  StoreError,
  type ActivityClaim,
  type ActivityClaimRequest,
  type ActivityRecord,
  type AuditEvent,
  type Confirmation,
  type NewRetrieval,
  type Notification,
  type NotificationKind,
  type NotificationOutcome,
  type NotificationState,
  type Retrieval,
  type RetrievalState,
  type RetrievalTransition,
  type StorePort,
  type StoredReference,
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

/** A new notification's id: random, so that processes sharing a database never pick the same one. */
export function newNotificationId(): string {
  return randomUUID();
}

/** The notification a move to `to` owes the requester, if any: only the two endings are announced. */
export function notificationKindFor(to: RetrievalState): NotificationKind | null {
  switch (to) {
    case 'stored':
    case 'failed':
      return to;
    case 'requested':
    case 'retrieving':
      return null;
  }
}

/** The pending notification written with a move to `kind` at `at`: due at once, never tried. */
export function newNotification(id: string, retrievalId: string, kind: NotificationKind, at: string): Notification {
  return {
    id,
    retrievalId,
    kind,
    state: 'pending',
    attempts: 0,
    nextAttemptAt: at,
    leaseOwner: null,
    leaseUntil: null,
    lastError: null,
    createdAt: at,
    sentAt: null,
  };
}

const isNonEmptyString = (value: unknown): value is string => typeof value === 'string' && value !== '';

/**
 * Checks a conversation reference before it is saved; returns updatedAt in epoch ms. The reference
 * must be the JSON of an object (a Bot Framework ConversationReference), since senders parse it.
 */
export function checkReference(reference: StoredReference): number {
  if (!isNonEmptyString(reference.teamsUserId)) throw new StoreError('invalid', 'a conversation reference needs a Teams user id');
  if (!isNonEmptyString(reference.conversationId)) throw new StoreError('invalid', 'a conversation reference needs a conversation id');
  if (reference.entraObjectId !== null && typeof reference.entraObjectId !== 'string') {
    throw new StoreError('invalid', 'entraObjectId must be a string or null');
  }
  let parsed: unknown;
  try {
    parsed = typeof reference.reference === 'string' ? JSON.parse(reference.reference) : null;
  } catch {
    parsed = null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new StoreError('invalid', 'reference must be the JSON of a conversation reference object');
  }
  return instantMs(reference.updatedAt, 'updatedAt');
}

/** A checked claim: `now` (due-ness) and `leaseNow` (lease time) in epoch ms, and when the leases it hands out run out. */
export interface Claim {
  readonly nowMs: number;
  readonly leaseNowMs: number;
  readonly leaseUntil: string;
  readonly leaseUntilMs: number;
}

/**
 * Checks the arguments of claimNotifications. A lease must last at least a millisecond (a lease
 * that has already run out would let a second owner claim at once); leaseUntil is written in UTC.
 */
export function checkClaim(owner: string, now: string, leaseMs: number, limit: number, leaseNow: string = now): Claim {
  if (!isNonEmptyString(owner)) throw new StoreError('invalid', 'a claim needs an owner');
  const nowMs = instantMs(now, 'now');
  const leaseNowMs = instantMs(leaseNow, 'leaseNow');
  if (!Number.isSafeInteger(leaseMs) || leaseMs < 1)
    throw new StoreError('invalid', 'leaseMs must be a whole number of milliseconds, 1 or more');
  if (!Number.isInteger(limit) || limit < 0) throw new StoreError('invalid', 'limit must be a whole number, 0 or more');
  const until = new Date(leaseNowMs + leaseMs);
  if (Number.isNaN(until.getTime()) || until.getUTCFullYear() > 9999)
    throw new StoreError('invalid', 'leaseMs would end the lease after the year 9999');
  return { nowMs, leaseNowMs, leaseUntil: until.toISOString(), leaseUntilMs: until.getTime() };
}

/** Checks the arguments of renewLease; returns the renewed lease's end. */
export function checkRenewal(id: string, owner: string, now: string, leaseMs: number): Claim {
  if (typeof id !== 'string') throw new StoreError('invalid', 'a notification id must be a string');
  return checkClaim(owner, now, leaseMs, 0);
}

/** Checks an instance id for heartbeats (1-256 characters). */
export function checkOwner(owner: string): void {
  if (!isNonEmptyString(owner) || owner.length > 256) throw new StoreError('invalid', 'an owner must be 1-256 characters');
}

/**
 * Checks the arguments of silentOwners; returns the instant (ms) at or before which a last heartbeat
 * counts as silent (an owner is silent once `silentMs` has passed since it last beat).
 */
export function checkSilence(owners: readonly string[], now: string, silentMs: number): number {
  if (!Array.isArray(owners) || owners.some((owner) => typeof owner !== 'string'))
    throw new StoreError('invalid', 'owners must be a list of strings');
  if (!Number.isSafeInteger(silentMs) || silentMs < 1)
    throw new StoreError('invalid', 'silentMs must be a whole number of milliseconds, 1 or more');
  return instantMs(now, 'now') - silentMs;
}

/** How long a heartbeat waits for another process's write lock before it gives up (ms). */
const heartbeatBusyMs = 100;

/** Activity keys recorded between two prunes of the old ones. */
export const pruneEvery = 500;

/** A claim request's instants, in epoch ms, once checked. */
export interface CheckedActivityClaim {
  readonly atMs: number;
  readonly claimUntilMs: number;
  readonly expiresMs: number;
}

/** Checks the arguments of claimActivity (key, owner, instant, claim and keep times); returns its instants. */
export function checkActivityClaim(claim: ActivityClaimRequest): CheckedActivityClaim {
  checkActivityKey(claim.key);
  if (!isNonEmptyString(claim.owner) || claim.owner.length > 256)
    throw new StoreError('invalid', 'an activity claim needs an owner of 1-256 characters');
  const atMs = instantMs(claim.at, 'at');
  if (!Number.isSafeInteger(claim.claimMs) || claim.claimMs < 1)
    throw new StoreError('invalid', 'claimMs must be a whole number of milliseconds, 1 or more');
  if (!Number.isSafeInteger(claim.keepMs) || claim.keepMs < claim.claimMs)
    throw new StoreError('invalid', 'keepMs must be a whole number of milliseconds, at least claimMs');
  const expiresMs = atMs + claim.keepMs;
  if (!Number.isSafeInteger(expiresMs) || new Date(expiresMs).getUTCFullYear() > 9999)
    throw new StoreError('invalid', 'keepMs would keep the key past the year 9999');
  return { atMs, claimUntilMs: atMs + claim.claimMs, expiresMs };
}

/** Checks an activity key (1-1024 characters). */
export function checkActivityKey(key: string): void {
  if (!isNonEmptyString(key) || key.length > 1024) throw new StoreError('invalid', 'an activity key must be 1-1024 characters');
}

/** What a store does with a claim request, given the key's current claim (see StorePort.claimActivity). */
export type ClaimDecision =
  { readonly write: true; readonly previousOwner: string | null } | { readonly write: false; readonly answer: ActivityClaim };

/**
 * The claim rule, shared by every store: a key unknown or past its expiry is claimed; a finished
 * one is done; another owner's claim is taken over once its lease has run out, or at once when that
 * owner is known to be gone; otherwise it is held (by that owner, or by this one already).
 */
export function decideActivityClaim(current: ActivityRecord | null, claim: ActivityClaimRequest, atMs: number): ClaimDecision {
  if (current === null || Date.parse(current.expiresAt) <= atMs) return { write: true, previousOwner: null };
  if (current.state === 'done') return { write: false, answer: { outcome: 'done' } };
  const runOut = Date.parse(current.claimUntil) <= atMs;
  if (current.owner !== claim.owner && (runOut || current.owner === claim.takeOverFrom))
    return { write: true, previousOwner: current.owner };
  return { write: false, answer: { outcome: 'held', owner: current.owner, claimUntil: current.claimUntil } };
}

/** An activity claim as stored (epoch ms columns), as the port describes it. */
export function activityRecordOf(row: {
  readonly activity_key: string;
  readonly state: string;
  readonly owner: string;
  readonly claimed_at_ms: number | string;
  readonly claim_until_ms: number | string;
  readonly expires_at_ms: number | string;
}): ActivityRecord {
  if (row.state !== 'claimed' && row.state !== 'done') throw corrupt('activity claim');
  const iso = (ms: number | string): string => new Date(Number(ms)).toISOString();
  return {
    key: row.activity_key,
    state: row.state,
    owner: row.owner,
    claimedAt: iso(row.claimed_at_ms),
    claimUntil: iso(row.claim_until_ms),
    expiresAt: iso(row.expires_at_ms),
  };
}

/** Checks a confirmation's entries before anything is written; returns each new retrieval's creation instant (ms), or null. */
export function checkConfirmation(confirmation: Confirmation): Array<number | null> {
  if (confirmation.activity !== null) {
    checkActivityKey(confirmation.activity.key);
    if (!isNonEmptyString(confirmation.activity.owner)) throw new StoreError('invalid', "a confirmation's activity needs an owner");
  }
  return confirmation.entries.map((entry) => {
    const audits = entry.retrieval === null ? [entry.audit] : [entry.audit.created, entry.audit.existing];
    for (const audit of audits) instantMs(audit.at, 'at');
    return entry.retrieval === null ? null : checkNewRetrieval(entry.retrieval);
  });
}

/**
 * True if `notification` may be claimed at `nowMs`: pending, due (nextAttemptAt <= now), and not
 * under a live lease (a lease is live while now < leaseUntil). The SQLite adapter says the same in SQL.
 */
export function isClaimable(notification: Notification, nowMs: number, leaseNowMs: number = nowMs): boolean {
  return (
    notification.state === 'pending' &&
    instantMs(notification.nextAttemptAt, 'nextAttemptAt') <= nowMs &&
    (notification.leaseUntil === null || instantMs(notification.leaseUntil, 'leaseUntil') <= leaseNowMs)
  );
}

/** A notification leased to `owner` by `claim`: one more attempt. */
export function leaseNotification(notification: Notification, owner: string, claim: Claim): Notification {
  return { ...notification, attempts: notification.attempts + 1, leaseOwner: owner, leaseUntil: claim.leaseUntil };
}

/** Checks the arguments of settleNotification (what the caller can get wrong), before anything is read. */
export function checkSettlement(id: string, owner: string, outcome: NotificationOutcome): void {
  if (typeof id !== 'string') throw new StoreError('invalid', 'a notification id must be a string');
  if (!isNonEmptyString(owner)) throw new StoreError('invalid', 'a settlement needs an owner');
  const given = outcome as Partial<Record<'state' | 'at' | 'nextAttemptAt' | 'error', unknown>> | null;
  const state = typeof given === 'object' && given !== null ? given.state : undefined;
  if (state === 'sent' || state === 'undeliverable') instantMs(given?.at as string, 'at');
  else if (state === 'pending') instantMs(given?.nextAttemptAt as string, 'nextAttemptAt');
  else throw new StoreError('invalid', 'a settlement must be sent, undeliverable or pending');
  if (state !== 'sent' && typeof given?.error !== 'string') throw new StoreError('invalid', 'a settlement that is not sent needs an error');
}

/** True if `owner` holds the lease of `notification`, so may settle it. */
export function holdsLease(notification: Notification, owner: string): boolean {
  return notification.state === 'pending' && notification.leaseOwner === owner;
}

/**
 * A leased notification after `outcome`; the lease is released in every case. Attempts are kept
 * (they were counted by the claim), and so is lastError when it is sent: the last failure stays
 * on record. An undeliverable notification has no field for `at` (it was checked, not kept).
 */
export function applySettlement(notification: Notification, outcome: NotificationOutcome): Notification {
  const released: Notification = { ...notification, leaseOwner: null, leaseUntil: null };
  switch (outcome.state) {
    case 'sent':
      return { ...released, state: 'sent', sentAt: outcome.at };
    case 'undeliverable':
      return { ...released, state: 'undeliverable', lastError: outcome.error };
    case 'pending':
      return { ...released, nextAttemptAt: outcome.nextAttemptAt, lastError: outcome.error };
  }
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

interface ReferenceRow {
  readonly teams_user_id: string;
  readonly conversation_id: string;
  readonly entra_object_id: string | null;
  readonly reference: string;
  readonly updated_at: string;
  readonly updated_at_ms: number;
}

interface NotificationRow {
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

/** The columns a settlement writes, keyed for the compare-and-set UPDATE. */
interface SettleParams {
  readonly id: string;
  readonly owner: string;
  readonly state: NotificationState;
  readonly next_attempt_at: string;
  readonly next_attempt_at_ms: number;
  readonly last_error: string | null;
  readonly sent_at: string | null;
}

/** A row of activity_claims. */
interface ActivityRow {
  readonly activity_key: string;
  readonly state: string;
  readonly owner: string;
  readonly claimed_at_ms: number;
  readonly claim_until_ms: number;
  readonly expires_at_ms: number;
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
    activeFor: db.prepare<[string, string], RetrievalRow>(
      `SELECT * FROM retrievals WHERE site = ? AND study_instance_uid = ? AND ${active}`,
    ),
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

type Statements = ReturnType<typeof prepareStatements>;

/** The store holds something unreadable. */
export function corrupt(what: string): StoreError {
  return new StoreError('unavailable', `the database holds an unreadable ${what}`);
}

/** A stored state, checked (a row no build wrote is reported, not trusted). */
export function stateOf(value: unknown, what: string): RetrievalState {
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

const notificationKinds: readonly NotificationKind[] = ['stored', 'failed'];
const notificationStates: readonly NotificationState[] = ['pending', 'sent', 'undeliverable'];

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

function fromRow(row: RetrievalRow): Retrieval {
  return retrievalFromColumns(row, stringList(row.study_modalities, 'study'));
}

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
  const statements = (): Statements => (prepared ??= prepareStatements(database));

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
          .map((row): AuditEvent => ({
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
          })),
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
