/**
 * Delivering the outbox: the proactive "your study is on UH Bristol PACS" (or "it failed") messages.
 * The store wrote each notification in the same transaction as the state change, so nothing is owed
 * that did not happen; a sender leases a notification before sending, so two bot instances never send
 * the same one; transient send failures are retried later, permanent ones are recorded.
 *
 * Which notifications are due is judged by the caller's `now`; leases are timed by the database's
 * clock (read afresh for every batch and every attempt), and each attempt of a send first renews its
 * lease (the fence): a sender whose lease ran out and was claimed by another while it waited
 * (backoff, pacing, a hung request) withdraws instead of sending a second copy.
 */
import type { NotifierPort, Reply } from '../ports/notifier-port';
import type { Notification, NotificationOutcome, Retrieval, StorePort } from '../ports/store-port';

/** What delivery needs. */
export interface DeliveryDeps {
  readonly store: StorePort;
  readonly notifier: NotifierPort;
  /** This process's identity for leases (unique per instance). */
  readonly owner: string;
  /** How long a lease lasts from its claim or its last renewal: longer than any one attempt. */
  readonly leaseMs: number;
  /** The leases' clock: the database's (store.clockNow), so instances whose clocks disagree agree on who holds what. */
  readonly leaseClock: () => Promise<Date>;
  /**
   * Messages Teams accepted whose record as sent failed (the database busy or gone), by notification
   * id: recorded again at the start of every round and never sent again. Kept by the process.
   */
  readonly unrecorded?: Map<string, NotificationOutcome>;
  /** Words and cards for the messages. */
  readonly compose: (retrieval: Retrieval, notification: Notification) => Promise<{ readonly message: Reply; readonly card: Reply | null }>;
}

/** What one delivery round did (for logs and tests: counts only). */
export interface DeliveryReport {
  readonly sent: number;
  readonly retrying: number;
  readonly undeliverable: number;
}

/** How much one delivery round does; every field has a default. */
export interface DeliveryLimits {
  /** Notifications claimed (leased) at a time (default 50). */
  readonly batchSize?: number;
  /** Conversations sent to at once (default 8): one slow or throttled chat must not hold up the others. */
  readonly concurrency?: number;
  /** Most notifications handled in one round (default 1,000), so a backlog cannot starve the PACS poll. */
  readonly maxPerRound?: number;
}

/** A notification that cannot be sent because the store no longer knows where to. */
const noReference = 'no conversation reference for the requester';

type Outcome = keyof DeliveryReport;

/**
 * Claims due notifications batch by batch until none is left (or the round's limit is reached) and
 * sends them; returns what happened. Messages to one conversation go out one after another, in the
 * order they were claimed; different conversations are served concurrently.
 */
export async function deliverNotifications(deps: DeliveryDeps, now: Date, limits: DeliveryLimits = {}): Promise<DeliveryReport> {
  const batchSize = limits.batchSize ?? 50;
  const concurrency = Math.max(1, limits.concurrency ?? 8);
  const maxPerRound = limits.maxPerRound ?? 1000;
  const report = { sent: 0, retrying: 0, undeliverable: 0 };
  // First record what was sent but not recorded; a store still failing stops the round here.
  for (const [id, outcome] of deps.unrecorded ?? []) {
    await deps.store.settleNotification(id, deps.owner, outcome);
    deps.unrecorded?.delete(id);
  }
  let handled = 0;
  while (handled < maxPerRound) {
    // Each batch's leases start at the database's time now, not the round's start: a long round must not claim short leases.
    const leaseNow = (await deps.leaseClock()).toISOString();
    const claimed = await deps.store.claimNotifications(
      deps.owner,
      now.toISOString(),
      deps.leaseMs,
      Math.min(batchSize, maxPerRound - handled),
      leaseNow,
    );
    if (claimed.length === 0) break;
    handled += claimed.length;
    const queues = await conversationQueues(deps.store, claimed);
    // A fixed pool of workers, each taking whole conversations, keeps per-chat order and bounds concurrency.
    const worker = async (): Promise<void> => {
      for (let queue = queues.shift(); queue; queue = queues.shift()) {
        for (const item of queue) {
          const outcome = await deliverOne(deps, item, now);
          if (outcome !== 'withdrawn') report[outcome] += 1;
        }
      }
    };
    // Every worker finishes before a failure (a store error) is passed on: no send is left running unawaited.
    const results = await Promise.allSettled(Array.from({ length: Math.min(concurrency, queues.length) }, worker));
    const failure = results.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
    if (claimed.length < batchSize) break;
  }
  return report;
}

interface Claimed {
  readonly notification: Notification;
  readonly retrieval: Retrieval | null;
}

/** The claimed notifications with their retrievals, grouped by conversation (claim order kept). */
async function conversationQueues(store: StorePort, claimed: readonly Notification[]): Promise<Claimed[][]> {
  const groups = new Map<string, Claimed[]>();
  for (const notification of claimed) {
    const retrieval = await store.getRetrieval(notification.retrievalId);
    const key = retrieval ? `${retrieval.requester.teamsUserId}\n${retrieval.requester.conversationId}` : `missing:${notification.id}`;
    const group = groups.get(key) ?? [];
    group.push({ notification, retrieval });
    groups.set(key, group);
  }
  return [...groups.values()];
}

/** Sends one claimed notification and records the outcome; 'withdrawn' when its lease was lost before a send. */
async function deliverOne(deps: DeliveryDeps, { notification, retrieval }: Claimed, now: Date): Promise<Outcome | 'withdrawn'> {
  const { store, notifier, owner } = deps;
  const at = now.toISOString();
  const saved = retrieval ? await store.referenceFor(retrieval.requester.teamsUserId, retrieval.requester.conversationId) : null;
  if (!retrieval || !saved) {
    await store.settleNotification(notification.id, owner, { state: 'undeliverable', at, error: noReference });
    return 'undeliverable';
  }
  const reference = JSON.parse(saved.reference) as Parameters<NotifierPort['send']>[0];
  const { message, card } = await deps.compose(retrieval, notification);
  // The fence: before every attempt the lease is renewed from the database's clock, or the send withdrawn.
  const guard = async (): Promise<boolean> =>
    store.renewLease(notification.id, owner, (await deps.leaseClock()).toISOString(), deps.leaseMs);
  const outcome = await notifier.send(reference, message, guard);
  switch (outcome.kind) {
    case 'withdrawn':
      // Another sender owns it now (or the store could not say): it is theirs to send and settle.
      return 'withdrawn';
    case 'sent':
      try {
        await store.settleNotification(notification.id, owner, { state: 'sent', at });
      } catch (error) {
        // Teams has the message: remember that, so it is recorded later and never sent again.
        deps.unrecorded?.set(notification.id, { state: 'sent', at });
        throw error;
      }
      // The status card is refreshed after the message is recorded as sent; an update is idempotent.
      if (card && retrieval.cardActivityId) await notifier.update(reference, retrieval.cardActivityId, card);
      return 'sent';
    case 'retry':
      await store.settleNotification(notification.id, owner, {
        state: 'pending',
        nextAttemptAt: new Date(now.getTime() + outcome.afterMs).toISOString(),
        error: outcome.reason,
      });
      return 'retrying';
    case 'permanent':
      await store.settleNotification(notification.id, owner, { state: 'undeliverable', at, error: outcome.reason });
      return 'undeliverable';
  }
}
