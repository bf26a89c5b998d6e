/**
 * The store port: retrieval jobs (with every state change) and the audit trail. Adapters: SQLite
 * (embedded default, better-sqlite3), PostgreSQL (several instances), and an in-memory fake for tests; one
 * contract suite checks them all.
 */
import type { SiteId, StudySummary } from './pacs-port';
import { AppError } from '../domain/app-error';

/**
 * The life of a retrieval, a closed set: requested -> retrieving -> stored | failed, or cancelled by
 * the clinician before it ended (cancelled is final: no notification, no "Try again").
 */
export type RetrievalState = 'requested' | 'retrieving' | 'stored' | 'failed' | 'cancelled';

/** Who asked: their Teams and Entra identities. */
export interface Requester {
  readonly teamsUserId: string;
  /** Microsoft Entra object id (aadObjectId); null in the Emulator. */
  readonly entraObjectId: string | null;
  readonly displayName: string;
  readonly tenantId: string | null;
  readonly conversationId: string;
}

/** A retrieval of one study from one site into UH Bristol's PACS. */
export interface Retrieval {
  readonly id: string;
  readonly requester: Requester;
  readonly site: SiteId;
  readonly nhsNumber: string;
  readonly study: StudySummary;
  readonly state: RetrievalState;
  /** The PACS job id, once the retrieval has started. */
  readonly pacsJobId: string | null;
  /** For 'failed': the reason, in the PACS port's terms. */
  readonly failureReason: string | null;
  /** ISO instants. */
  readonly createdAt: string;
  readonly updatedAt: string;
  /** When the local copy is due to go (30 days after it was requested, per the guide). */
  readonly keptUntil: string;
  /** The Teams activity id of the card to update in place, if any. */
  readonly cardActivityId: string | null;
}

/** A new retrieval to record. */
export type NewRetrieval = Omit<Retrieval, 'state' | 'pacsJobId' | 'failureReason' | 'updatedAt'>;

/** One state change, kept for the audit of a retrieval's life. */
export interface RetrievalTransition {
  readonly retrievalId: string;
  readonly from: RetrievalState | null;
  readonly to: RetrievalState;
  readonly at: string;
  readonly detail: string | null;
}

/** What is audited. */
export type AuditAction =
  | 'patient-search'
  | 'retrieval-confirmed'
  | 'retrieval-cancelled'
  | 'retrieval-outcome'
  | 'access-refused'
  | 'rate-limited'
  | 'audit-purged';

/** One line of the audit trail. */
export interface AuditEvent {
  readonly at: string;
  readonly action: AuditAction;
  readonly teamsUserId: string;
  readonly entraObjectId: string | null;
  readonly displayName: string;
  readonly nhsNumber: string | null;
  readonly site: SiteId | null;
  /** Study instance UIDs concerned, if any. */
  readonly studies: readonly string[];
  /** e.g. 'found', 'not-found', 'started', 'already-local', 'stored', 'failed: unreachable', 'refused: tenant'. */
  readonly outcome: string;
}

/** Where to post proactive messages to a user: a serialized Bot Framework conversation reference. */
export interface StoredReference {
  readonly teamsUserId: string;
  readonly entraObjectId: string | null;
  readonly conversationId: string;
  /** JSON of the ConversationReference (ids, serviceUrl, channel: never message text). */
  readonly reference: string;
  readonly updatedAt: string;
}

/** What a notification announces: the retrieval ended stored, or failed. */
export type NotificationKind = 'stored' | 'failed';

/**
 * A notification's life: pending (to send; may be leased by one sender), sent, or undeliverable
 * (a permanent failure such as the bot removed from the chat: recorded, shown in "my retrievals").
 */
export type NotificationState = 'pending' | 'sent' | 'undeliverable';

/** One proactive message owed to a requester: the outbox row written with the state change. */
export interface Notification {
  readonly id: string;
  readonly retrievalId: string;
  readonly kind: NotificationKind;
  readonly state: NotificationState;
  /** Claims so far (each claim is one delivery attempt). */
  readonly attempts: number;
  /** Not to be claimed before this instant (backoff after a transient failure). */
  readonly nextAttemptAt: string;
  /** The sender holding the lease, and until when; a lease that has run out may be claimed again. */
  readonly leaseOwner: string | null;
  readonly leaseUntil: string | null;
  readonly lastError: string | null;
  readonly createdAt: string;
  readonly sentAt: string | null;
}

/** How a leased notification ended. */
export type NotificationOutcome =
  | { readonly state: 'sent'; readonly at: string }
  | { readonly state: 'undeliverable'; readonly at: string; readonly error: string }
  | { readonly state: 'pending'; readonly nextAttemptAt: string; readonly error: string };

/** An activity key's claim: 'claimed' while a turn handles it, 'done' once that turn finished. */
export type ActivityState = 'claimed' | 'done';

/** A claim on an inbound activity, as the store holds it. */
export interface ActivityRecord {
  readonly key: string;
  readonly state: ActivityState;
  /** Who claimed it last (an instance id, unique per process). */
  readonly owner: string;
  /** ISO instants: when it was claimed, until when the claim holds, and when the key may be forgotten. */
  readonly claimedAt: string;
  readonly claimUntil: string;
  readonly expiresAt: string;
}

/** What claimActivity is asked. */
export interface ActivityClaimRequest {
  /** The activity's channel, conversation and id. */
  readonly key: string;
  readonly owner: string;
  readonly at: string;
  /** How long the claim holds before another owner may take it over (shorter than Teams' re-delivery interval). */
  readonly claimMs: number;
  /** How long the key is remembered after `at`. */
  readonly keepMs: number;
  /** An owner whose claim may be taken over at once, because it is known to be gone. */
  readonly takeOverFrom?: string | null;
}

/** What claimActivity found. */
export type ActivityClaim =
  | { readonly outcome: 'claimed'; readonly previousOwner: string | null }
  | { readonly outcome: 'done' }
  | { readonly outcome: 'held'; readonly owner: string; readonly claimUntil: string };

/** The turn whose activity a write belongs to. */
export interface TurnClaim {
  readonly key: string;
  readonly owner: string;
}

/** One entry of a confirmation: a retrieval to record with its audit line, or an audit line alone. */
export type ConfirmationEntry =
  | { readonly retrieval: NewRetrieval; readonly audit: { readonly created: AuditEvent; readonly existing: AuditEvent } }
  | { readonly retrieval: null; readonly audit: AuditEvent };

/** A confirmation to record as one unit. */
export interface Confirmation {
  readonly entries: readonly ConfirmationEntry[];
  /** The turn's claim, marked done with the confirmation (null when the turn holds none). */
  readonly activity: TurnClaim | null;
  /** The confirmation card's decision claim (Confirm, not Cancel) this turn holds, marked done with the confirmation. */
  readonly decision?: TurnClaim | null;
}

/** Why a store operation failed. */
export type StoreErrorReason = 'conflict' | 'not-found' | 'unavailable' | 'invalid';

/** A store failure with a reason. */
export class StoreError extends AppError<StoreErrorReason> {
  override readonly name = 'StoreError';
}

/** What a migration run did. */
export interface MigrationReport {
  /** Versions applied by this run, in order (empty when the schema was already up to date). */
  readonly applied: readonly number[];
  /** The schema version the database is at now (0 for a store with no schema). */
  readonly version: number;
}

/** Retrievals: their records, moves (each move to stored or failed writes its notification) and confirmations. */
export interface RetrievalStore {
  /**
   * Records a new retrieval in state 'requested' unless one for the same site and study is already
   * requested or retrieving; then returns that one with `created: false` (no second retrieval).
   */
  createRetrieval(retrieval: NewRetrieval): Promise<{ retrieval: Retrieval; created: boolean }>;
  /**
   * Moves a retrieval to `to` only if it is in one of `from` (compare-and-set), recording the
   * transition in the same transaction. A move to 'stored' or 'failed' also writes, in that same
   * transaction, one pending Notification of that kind (the outbox: the state change is persisted
   * before any message is sent, and no message is owed without it). Returns the updated retrieval,
   * or null if it was not in `from`.
   */
  transition(
    id: string,
    from: readonly RetrievalState[],
    to: RetrievalState,
    at: string,
    changes?: { readonly pacsJobId?: string; readonly failureReason?: string; readonly cardActivityId?: string; readonly detail?: string },
  ): Promise<Retrieval | null>;
  /**
   * Records a confirmation as one unit: each entry's retrieval (created 'requested', or the active
   * one found, as createRetrieval does) with its audit line, the other audit lines, and, when given,
   * the turn's activity claim marked done, all in one transaction where the store has them. Either
   * all of it is recorded or none of it. Results in the entries' order (null for an audit-only entry).
   */
  recordConfirmation(confirmation: Confirmation): Promise<Array<{ retrieval: Retrieval; created: boolean } | null>>;
  getRetrieval(id: string): Promise<Retrieval | null>;
  /** Retrievals in 'requested' or 'retrieving', oldest first. */
  activeRetrievals(): Promise<Retrieval[]>;
  /** A user's retrievals, newest first: `limit` of them after skipping the `offset` newest (for paging). */
  retrievalsFor(teamsUserId: string, limit: number, offset?: number): Promise<Retrieval[]>;
  /** Retrievals of any of these studies, by anyone, newest first, up to `limit` (a study's history). */
  retrievalsOfStudies(studyInstanceUids: readonly string[], limit: number): Promise<Retrieval[]>;
  /** The state changes of a retrieval, oldest first. */
  transitions(retrievalId: string): Promise<RetrievalTransition[]>;
}

/** The outbox: notifications owed by moves, leased to one sender at a time and settled once. */
export interface OutboxStore {
  /**
   * Leases up to `limit` pending notifications that are due at `now` and not leased by a live
   * lease, to `owner` until leaseNow + leaseMs, counting one attempt each; oldest first. Leases are
   * timed by `leaseNow` (the database's clock, so instances whose clocks disagree agree on them;
   * default `now`): a lease is live while leaseNow < leaseUntil. Atomic across processes sharing the
   * database: two owners never hold the same notification.
   */
  claimNotifications(owner: string, now: string, leaseMs: number, limit: number, leaseNow?: string): Promise<Notification[]>;
  /**
   * Extends `owner`'s lease on a pending notification to now + leaseMs, just before a send (the fence):
   * true while `owner` still holds it (even run out, if no one has claimed it since); false, and no
   * change, once another owner has claimed it, it was released, or it is settled.
   */
  renewLease(id: string, owner: string, now: string, leaseMs: number): Promise<boolean>;
  /** Records how a leased notification ended; false (and no change) if `owner` no longer holds its lease. */
  settleNotification(id: string, owner: string, outcome: NotificationOutcome): Promise<boolean>;
  /** The owners holding leases on pending notifications now (live or run out), each once. */
  leaseHolders(): Promise<string[]>;
  /** Releases every lease `owner` holds (its process is known to be gone), so others may claim at once; returns how many. */
  releaseLeases(owner: string): Promise<number>;
  /** The notifications of a retrieval, oldest first. */
  notificationsFor(retrievalId: string): Promise<Notification[]>;
}

/** Where to reach each user in each chat, for messages outside a turn. */
export interface ReferenceStore {
  /** Saves (or refreshes) where to reach a user in a conversation. */
  saveReference(reference: StoredReference): Promise<void>;
  /** The saved reference for a user's conversation, or null. */
  referenceFor(teamsUserId: string, conversationId: string): Promise<StoredReference | null>;
}

/** Inbound activities claimed for one turn each (Teams re-delivers), and the instances that claim them. */
export interface ActivityStore {
  /**
   * Claims an inbound activity for one turn (an idempotency key with a claim). A new key, or a claim
   * whose lease has run out, or one held by `takeOverFrom` (an owner known to be gone), becomes this
   * owner's: 'claimed', handle the turn. A key whose turn finished answers 'done'; one claimed by
   * another owner within its lease answers 'held' with that owner. Atomic across processes sharing
   * the database: two owners never both get 'claimed' for a live claim. Keys are kept for at least
   * `keepMs` after `at`, then may be forgotten.
   */
  claimActivity(claim: ActivityClaimRequest): Promise<ActivityClaim>;
  /** Marks this owner's claim done (its turn finished); false, and no change, if `owner` does not hold it. */
  finishActivity(key: string, owner: string): Promise<boolean>;
  /** Drops this owner's unfinished claim (its turn failed), so a re-delivery is handled afresh; false if it did not hold one. */
  releaseActivity(key: string, owner: string): Promise<boolean>;
  /** The claim on an activity key, or null (for tests and diagnosis). */
  activityFor(key: string): Promise<ActivityRecord | null>;
  /** Records that `owner` (a process's instance id) is alive at `at`, by the database's clock. */
  heartbeat(owner: string, at: string): Promise<void>;
  /**
   * Those of `owners` whose last heartbeat is older than `silentMs` at `now` (or who never beat): gone,
   * as far as anyone can tell, so their leases and claims may be taken over. Order kept.
   */
  silentOwners(owners: readonly string[], now: string, silentMs: number): Promise<string[]>;
  /** Forgets `owner`'s heartbeat (it stopped cleanly), so it reads as gone at once. */
  retireOwner(owner: string): Promise<void>;
}

/** The audit trail: appended, read, counted (the search limit) and purged (retention). */
export interface AuditStore {
  appendAudit(event: AuditEvent): Promise<void>;
  /** Audit events at or after `since` (ISO), oldest first. */
  auditSince(since: string): Promise<AuditEvent[]>;
  /** How many audit events of `action` a user has at or after `since` (ISO): the patient-search rate limit counts these. */
  countAudit(teamsUserId: string, action: AuditAction, since: string): Promise<number>;
  /**
   * Deletes the audit events older than `before` (ISO) and, when any were deleted, appends `record(count)`
   * in the same transaction, so a purge is never unrecorded and a failed record purges nothing.
   * Returns how many were deleted.
   */
  purgeAudit(before: string, record: (purged: number) => AuditEvent): Promise<number>;
}

/** Where retrievals, the outbox, conversation references, activity claims and the audit trail are kept. */
export interface StorePort extends RetrievalStore, OutboxStore, ReferenceStore, ActivityStore, AuditStore {
  /** Creates the schema or brings it up to date; safe to run at every start. */
  migrate(): Promise<MigrationReport>;
  /**
   * The database's own clock (an ISO instant). Leases and heartbeats are timed by it, so instances
   * whose clocks disagree still agree on who holds what. An embedded database's clock is its host's.
   */
  clockNow(): Promise<string>;
  /** Resolves when the database answers a trivial query; rejects with StoreError('unavailable') otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
