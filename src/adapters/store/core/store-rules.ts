/**
 * What every store checks and decides the same way: instants, the arguments of each call, the
 * notification leases and settlements, the activity claims. Shared by the SQLite and PostgreSQL
 * adapters and the in-memory fake, so the three keep one contract.
 */
import { randomUUID } from 'node:crypto';
import {
  StoreError,
  type ActivityClaim,
  type ActivityClaimRequest,
  type ActivityRecord,
  type Confirmation,
  type NewRetrieval,
  type Notification,
  type NotificationKind,
  type NotificationOutcome,
  type StoredReference,
  type TurnClaim,
} from '../../../ports/store-port';
import { corrupt } from './store-rows';

export const isoInstant = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

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

/** A new notification's id: random, so that processes sharing a database never pick the same one. */
export function newNotificationId(): string {
  return randomUUID();
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

export const isNonEmptyString = (value: unknown): value is string => typeof value === 'string' && value !== '';

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

/** The claims a confirmation marks done with it: the turn's, and the card's decision. */
export function claimsOf(confirmation: Confirmation): TurnClaim[] {
  return [confirmation.activity, confirmation.decision ?? null].filter((claim): claim is TurnClaim => claim !== null);
}

/** Checks a confirmation's entries before anything is written; returns each new retrieval's creation instant (ms), or null. */
export function checkConfirmation(confirmation: Confirmation): Array<number | null> {
  for (const claim of claimsOf(confirmation)) {
    checkActivityKey(claim.key);
    if (!isNonEmptyString(claim.owner)) throw new StoreError('invalid', "a confirmation's activity needs an owner");
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

/** Checks a page of a list: a limit and an offset, whole numbers, 0 or more. */
export function checkPage(limit: number, offset: number): void {
  if (!Number.isInteger(limit) || limit < 0) throw new StoreError('invalid', 'limit must be a whole number, 0 or more');
  if (!Number.isInteger(offset) || offset < 0) throw new StoreError('invalid', 'offset must be a whole number, 0 or more');
}

/** The most study UIDs one history look-up may name (a studies card lists far fewer). */
export const maxHistoryStudies = 500;

/** Checks the studies of a history look-up: a list of at most maxHistoryStudies strings. */
export function checkStudyUids(uids: readonly string[]): void {
  if (!Array.isArray(uids) || uids.some((uid) => typeof uid !== 'string'))
    throw new StoreError('invalid', 'study instance UIDs must be a list of strings');
  if (uids.length > maxHistoryStudies) throw new StoreError('invalid', `at most ${maxHistoryStudies} study instance UIDs at a time`);
}
