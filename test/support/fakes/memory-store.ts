/**
 * An in-memory store for tests: the same contract as the SQLite store (same dedupe, state machine,
 * ordering and errors; the contract suite checks both), with nothing kept after the process ends.
 * It takes the state machine and the stores' shared rules from src/ so that it cannot drift from them.
 * Everything goes in and comes out as a copy, so no caller can change what the store holds.
 */
import {
  StoreError,
  type ActivityRecord,
  type AuditEvent,
  type NewRetrieval,
  type Notification,
  type Retrieval,
  type RetrievalState,
  type RetrievalTransition,
  type StorePort,
  type StoredReference,
} from '../../../src/ports/store-port';
import {
  activityRecordOf,
  applySettlement,
  checkActivityClaim,
  checkActivityKey,
  checkClaim,
  checkConfirmation,
  checkNewRetrieval,
  checkOwner,
  checkReference,
  checkRenewal,
  checkSettlement,
  checkSilence,
  decideActivityClaim,
  holdsLease,
  instantMs,
  isClaimable,
  leaseNotification,
  newNotification,
  newNotificationId,
  checkPage,
  checkStudyUids,
  claimsOf,
} from '../../../src/adapters/store/core/store-rules';
import { activeStates, applyTransition, checkMove, notificationKindFor } from '../../../src/retrieval/retrieval-states';

function copyRetrieval(r: Retrieval): Retrieval {
  return { ...r, requester: { ...r.requester }, study: { ...r.study, modalities: [...r.study.modalities] } };
}

function copyAudit(e: AuditEvent): AuditEvent {
  return { ...e, studies: [...e.studies] };
}

interface Held {
  retrieval: Retrieval;
  /** When it was created, in epoch ms, and the order it was inserted in (ties keep insertion order). */
  readonly createdMs: number;
  readonly seq: number;
}

interface HeldNotification {
  notification: Notification;
  /** When it was created, in epoch ms, and the transition that wrote it (ties keep that order). */
  readonly createdMs: number;
  readonly transitionSeq: number;
}

/** Oldest first: by creation instant, then by the transition that wrote it. */
const byAge = (a: HeldNotification, b: HeldNotification): number => a.createdMs - b.createdMs || a.transitionSeq - b.transitionSeq;

/** Options of the in-memory store. */
export interface MemoryStoreOptions {
  /** The store's clock (clockNow): default the system clock; tests pass the clock they drive. */
  readonly clock?: () => Date;
}

/** A fresh, empty in-memory store (migrate() has nothing to do). */
export function createMemoryStore(options: MemoryStoreOptions = {}): StorePort {
  /** Last heartbeat (epoch ms) per owner. */
  const heartbeats = new Map<string, number>();
  const retrievals = new Map<string, Held>();
  const transitions = new Map<string, RetrievalTransition[]>();
  const audit: { readonly event: AuditEvent; readonly atMs: number }[] = [];
  const references = new Map<string, StoredReference>();
  const notifications = new Map<string, HeldNotification>();
  /** Activity claims by key. */
  const activities = new Map<string, ActivityRecord>();
  let seq = 0;
  /** Numbers every transition, as the SQLite store's retrieval_transitions.seq does. */
  let transitionSeq = 0;
  let open = true;

  /** The key of a user's conversation (JSON, so no separator can make two keys collide). */
  const referenceKey = (teamsUserId: string, conversationId: string): string => JSON.stringify([teamsUserId, conversationId]);

  /** As in the SQLite store: synchronous work as a settled promise, so calls cannot interleave. */
  function run<T>(work: () => T): Promise<T> {
    try {
      if (!open) throw new StoreError('unavailable', 'the store is closed');
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  const isActive = (state: RetrievalState): boolean => activeStates.includes(state);

  function activeFor(site: string, studyInstanceUid: string): Held | undefined {
    for (const held of retrievals.values()) {
      if (held.retrieval.site === site && held.retrieval.study.studyInstanceUid === studyInstanceUid && isActive(held.retrieval.state))
        return held;
    }
    return undefined;
  }

  function create(input: NewRetrieval, createdMs: number): { retrieval: Retrieval; created: boolean } {
    const existing = activeFor(input.site, input.study.studyInstanceUid);
    if (existing) return { retrieval: copyRetrieval(existing.retrieval), created: false };
    if (retrievals.has(input.id)) throw new StoreError('conflict', `another retrieval already has the id ${input.id}`);
    const retrieval = copyRetrieval({ ...input, state: 'requested', pacsJobId: null, failureReason: null, updatedAt: input.createdAt });
    retrievals.set(retrieval.id, { retrieval, createdMs, seq: seq++ });
    transitions.set(retrieval.id, [{ retrievalId: retrieval.id, from: null, to: 'requested', at: input.createdAt, detail: null }]);
    transitionSeq += 1;
    return { retrieval: copyRetrieval(retrieval), created: true };
  }

  function appendOne(event: AuditEvent): void {
    audit.push({ event: copyAudit(event), atMs: instantMs(event.at, 'at') });
  }

  function finish(key: string, owner: string): boolean {
    const record = activities.get(key);
    if (!record || record.owner !== owner || record.state !== 'claimed') return false;
    activities.set(key, { ...record, state: 'done' });
    return true;
  }

  return {
    migrate: () => run(() => ({ applied: [], version: 0 })),

    createRetrieval: (input) => run(() => create(input, checkNewRetrieval(input))),

    transition: (id, from, to, at, changes) =>
      run(() => {
        checkMove(from, to);
        instantMs(at, 'at');
        const held = retrievals.get(id);
        if (!held) throw new StoreError('not-found', `no retrieval ${id}`);
        const current = held.retrieval;
        if (!from.includes(current.state)) return null;
        // The SQLite store's partial unique index: one active retrieval per site and study.
        const other = activeFor(current.site, current.study.studyInstanceUid);
        if (isActive(to) && other && other !== held) {
          throw new StoreError('conflict', 'another retrieval of this study from this site is already active');
        }
        held.retrieval = applyTransition(current, to, at, changes ?? {});
        transitions.get(id)?.push({ retrievalId: id, from: current.state, to, at, detail: changes?.detail ?? null });
        const seqOfMove = ++transitionSeq;
        const kind = notificationKindFor(to);
        if (kind) {
          const notification = newNotification(newNotificationId(), id, kind, at);
          notifications.set(notification.id, { notification, createdMs: instantMs(at, 'at'), transitionSeq: seqOfMove });
        }
        return copyRetrieval(held.retrieval);
      }),

    getRetrieval: (id) =>
      run(() => {
        const held = retrievals.get(id);
        return held ? copyRetrieval(held.retrieval) : null;
      }),

    activeRetrievals: () =>
      run(() =>
        [...retrievals.values()]
          .filter((held) => isActive(held.retrieval.state))
          .sort((a, b) => a.createdMs - b.createdMs || a.seq - b.seq)
          .map((held) => copyRetrieval(held.retrieval)),
      ),

    retrievalsFor: (teamsUserId, limit, offset = 0) =>
      run(() => {
        checkPage(limit, offset);
        return [...retrievals.values()]
          .filter((held) => held.retrieval.requester.teamsUserId === teamsUserId)
          .sort((a, b) => b.createdMs - a.createdMs || b.seq - a.seq)
          .slice(offset, offset + limit)
          .map((held) => copyRetrieval(held.retrieval));
      }),

    retrievalsOfStudies: (uids, limit) =>
      run(() => {
        checkStudyUids(uids);
        checkPage(limit, 0);
        const wanted = new Set(uids);
        return [...retrievals.values()]
          .filter((held) => wanted.has(held.retrieval.study.studyInstanceUid))
          .sort((a, b) => b.createdMs - a.createdMs || b.seq - a.seq)
          .slice(0, limit)
          .map((held) => copyRetrieval(held.retrieval));
      }),

    transitions: (retrievalId) => run(() => (transitions.get(retrievalId) ?? []).map((t) => ({ ...t }))),

    appendAudit: (event) => run(() => appendOne(event)),

    saveReference: (reference) =>
      run(() => {
        checkReference(reference);
        references.set(referenceKey(reference.teamsUserId, reference.conversationId), { ...reference });
      }),

    referenceFor: (teamsUserId, conversationId) =>
      run(() => {
        const saved = references.get(referenceKey(teamsUserId, conversationId));
        return saved ? { ...saved } : null;
      }),

    claimNotifications: (owner, now, leaseMs, limit, leaseNow) =>
      run(() => {
        const claim = checkClaim(owner, now, leaseMs, limit, leaseNow);
        const due = [...notifications.values()]
          .filter((held) => isClaimable(held.notification, claim.nowMs, claim.leaseNowMs))
          .sort(byAge)
          .slice(0, limit);
        for (const held of due) held.notification = leaseNotification(held.notification, owner, claim);
        return due.map((held) => ({ ...held.notification }));
      }),

    settleNotification: (id, owner, outcome) =>
      run(() => {
        checkSettlement(id, owner, outcome);
        const held = notifications.get(id);
        if (!held || !holdsLease(held.notification, owner)) return false;
        held.notification = applySettlement(held.notification, outcome);
        return true;
      }),

    notificationsFor: (retrievalId) =>
      run(() =>
        [...notifications.values()]
          .filter((held) => held.notification.retrievalId === retrievalId)
          .sort(byAge)
          .map((held) => ({ ...held.notification })),
      ),

    auditSince: (since) =>
      run(() => {
        const sinceMs = instantMs(since, 'since');
        // A stable sort keeps insertion order between events at the same instant.
        return audit
          .filter((entry) => entry.atMs >= sinceMs)
          .sort((a, b) => a.atMs - b.atMs)
          .map((entry) => copyAudit(entry.event));
      }),

    countAudit: (teamsUserId, action, since) =>
      run(() => {
        const sinceMs = instantMs(since, 'since');
        return audit.filter((entry) => entry.atMs >= sinceMs && entry.event.teamsUserId === teamsUserId && entry.event.action === action)
          .length;
      }),

    purgeAudit: (before, record) =>
      run(() => {
        const beforeMs = instantMs(before, 'before');
        const kept = audit.filter((entry) => entry.atMs >= beforeMs);
        const purged = audit.length - kept.length;
        // Built before anything changes: a failing record purges nothing, as in the SQL stores.
        const line = purged > 0 ? record(purged) : null;
        const atMs = line ? instantMs(line.at, 'at') : 0;
        audit.splice(0, audit.length, ...kept);
        if (line) audit.push({ event: copyAudit(line), atMs });
        return purged;
      }),

    claimActivity: (request) =>
      run(() => {
        const checked = checkActivityClaim(request);
        for (const [old, record] of activities) if (Date.parse(record.expiresAt) <= checked.atMs) activities.delete(old);
        const decision = decideActivityClaim(activities.get(request.key) ?? null, request, checked.atMs);
        if (!decision.write) return decision.answer;
        activities.set(
          request.key,
          activityRecordOf({
            activity_key: request.key,
            state: 'claimed',
            owner: request.owner,
            claimed_at_ms: checked.atMs,
            claim_until_ms: checked.claimUntilMs,
            expires_at_ms: checked.expiresMs,
          }),
        );
        return { outcome: 'claimed', previousOwner: decision.previousOwner };
      }),

    finishActivity: (key, owner) =>
      run(() => {
        checkActivityKey(key);
        return finish(key, owner);
      }),

    releaseActivity: (key, owner) =>
      run(() => {
        checkActivityKey(key);
        const record = activities.get(key);
        if (!record || record.owner !== owner || record.state !== 'claimed') return false;
        return activities.delete(key);
      }),

    activityFor: (key) =>
      run(() => {
        const record = activities.get(key);
        return record ? { ...record } : null;
      }),

    recordConfirmation: (confirmation) =>
      run(() => {
        const createdMs = checkConfirmation(confirmation);
        // All or nothing, as in the SQL stores' transaction: what this call added is taken back on any failure.
        const added: string[] = [];
        const auditLength = audit.length;
        const counters = { seq, transitionSeq };
        let results: Array<{ retrieval: Retrieval; created: boolean } | null>;
        try {
          results = confirmation.entries.map((entry, i) => {
            if (entry.retrieval === null) {
              appendOne(entry.audit);
              return null;
            }
            const result = create(entry.retrieval, createdMs[i]!);
            if (result.created) added.push(result.retrieval.id);
            appendOne(result.created ? entry.audit.created : entry.audit.existing);
            return result;
          });
        } catch (error) {
          for (const id of added) {
            retrievals.delete(id);
            transitions.delete(id);
          }
          audit.length = auditLength;
          ({ seq, transitionSeq } = counters);
          throw error;
        }
        for (const claim of claimsOf(confirmation)) finish(claim.key, claim.owner);
        return results;
      }),

    ping: () => run(() => undefined),

    leaseHolders: () =>
      run(() => {
        const owners = new Set<string>();
        for (const held of notifications.values())
          if (held.notification.state === 'pending' && held.notification.leaseOwner !== null) owners.add(held.notification.leaseOwner);
        return [...owners].sort();
      }),

    releaseLeases: (owner) =>
      run(() => {
        if (typeof owner !== 'string' || owner.trim() === '') throw new StoreError('invalid', 'releasing leases needs an owner');
        let released = 0;
        for (const held of notifications.values()) {
          if (held.notification.state === 'pending' && held.notification.leaseOwner === owner) {
            held.notification = { ...held.notification, leaseOwner: null, leaseUntil: null };
            released += 1;
          }
        }
        return released;
      }),

    renewLease: (id, owner, now, leaseMs) =>
      run(() => {
        const checked = checkRenewal(id, owner, now, leaseMs);
        const held = notifications.get(id);
        if (!held || !holdsLease(held.notification, owner)) return false;
        held.notification = { ...held.notification, leaseUntil: checked.leaseUntil };
        return true;
      }),

    clockNow: () => run(() => (options.clock?.() ?? new Date()).toISOString()),

    heartbeat: (owner, at) =>
      run(() => {
        checkOwner(owner);
        const atMs = instantMs(at, 'at');
        heartbeats.set(owner, Math.max(atMs, heartbeats.get(owner) ?? atMs));
      }),

    silentOwners: (owners, now, silentMs) =>
      run(() => {
        const cutoffMs = checkSilence(owners, now, silentMs);
        return owners.filter((owner) => (heartbeats.get(owner) ?? Number.NEGATIVE_INFINITY) <= cutoffMs);
      }),

    retireOwner: (owner) =>
      run(() => {
        checkOwner(owner);
        heartbeats.delete(owner);
      }),

    close: () => {
      open = false;
      return Promise.resolve();
    },
  };
}
