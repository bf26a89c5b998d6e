/**
 * The store port: retrieval jobs (with every state change) and the audit trail. Adapters: SQLite
 * (embedded default, better-sqlite3), PostgreSQL (later), and an in-memory fake for tests; one
 * contract suite checks them all.
 */
import type { SiteId, StudySummary } from './pacs-port';

/** The life of a retrieval, a closed set: requested -> retrieving -> stored | failed. */
export type RetrievalState = 'requested' | 'retrieving' | 'stored' | 'failed';

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
export type AuditAction = 'patient-search' | 'retrieval-confirmed' | 'retrieval-outcome' | 'access-refused' | 'rate-limited';

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

/** Why a store operation failed. */
export type StoreErrorReason = 'conflict' | 'not-found' | 'unavailable' | 'invalid';

/** A store failure with a reason. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly reason: StoreErrorReason,
    message: string,
  ) {
    super(message);
  }
}

/** Where retrievals and the audit trail are kept. */
export interface StorePort {
  /** Creates the schema or brings it up to date; safe to run at every start. */
  migrate(): Promise<void>;
  /**
   * Records a new retrieval in state 'requested' unless one for the same site and study is already
   * requested or retrieving; then returns that one with `created: false` (no second retrieval).
   */
  createRetrieval(retrieval: NewRetrieval): Promise<{ retrieval: Retrieval; created: boolean }>;
  /**
   * Moves a retrieval to `to` only if it is in one of `from` (compare-and-set), recording the
   * transition in the same transaction. Returns the updated retrieval, or null if it was not in `from`.
   */
  transition(
    id: string,
    from: readonly RetrievalState[],
    to: RetrievalState,
    at: string,
    changes?: { readonly pacsJobId?: string; readonly failureReason?: string; readonly cardActivityId?: string; readonly detail?: string },
  ): Promise<Retrieval | null>;
  getRetrieval(id: string): Promise<Retrieval | null>;
  /** Retrievals in 'requested' or 'retrieving', oldest first. */
  activeRetrievals(): Promise<Retrieval[]>;
  /** A user's most recent retrievals, newest first. */
  retrievalsFor(teamsUserId: string, limit: number): Promise<Retrieval[]>;
  /** The state changes of a retrieval, oldest first. */
  transitions(retrievalId: string): Promise<RetrievalTransition[]>;
  appendAudit(event: AuditEvent): Promise<void>;
  /** Audit events at or after `since` (ISO), oldest first. */
  auditSince(since: string): Promise<AuditEvent[]>;
  close(): Promise<void>;
}
