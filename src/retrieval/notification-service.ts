/**
 * Delivering the outbox: the proactive "your study is on UH Bristol PACS" (or "it failed") messages.
 * The store wrote each notification in the same transaction as the state change, so nothing is owed
 * that did not happen; a sender leases a notification before sending, so two bot instances never send
 * the same one; transient send failures are retried later, permanent ones are recorded.
 */
import type { NotifierPort, OutgoingMessage } from '../ports/notifier-port';
import type { Notification, Retrieval, StorePort } from '../ports/store-port';

/** What delivery needs. */
export interface DeliveryDeps {
  readonly store: StorePort;
  readonly notifier: NotifierPort;
  /** This process's identity for leases (unique per instance). */
  readonly owner: string;
  /** How long a lease lasts: longer than any send with its in-process retries. */
  readonly leaseMs: number;
  /** Words and cards for the messages. */
  readonly compose: (retrieval: Retrieval, notification: Notification) => Promise<{ readonly message: OutgoingMessage; readonly card: OutgoingMessage | null }>;
}

/** What one delivery round did (for logs and tests: counts only). */
export interface DeliveryReport {
  readonly sent: number;
  readonly retrying: number;
  readonly undeliverable: number;
}

/** A notification that cannot be sent because the store no longer knows where to. */
const noReference = 'no conversation reference for the requester';

/** Claims due notifications and sends them; returns what happened. */
export async function deliverNotifications(deps: DeliveryDeps, now: Date, limit = 50): Promise<DeliveryReport> {
  const { store, notifier, owner } = deps;
  const at = now.toISOString();
  const claimed = await store.claimNotifications(owner, at, deps.leaseMs, limit);
  let sent = 0;
  let retrying = 0;
  let undeliverable = 0;
  for (const notification of claimed) {
    const retrieval = await store.getRetrieval(notification.retrievalId);
    const saved = retrieval ? await store.referenceFor(retrieval.requester.teamsUserId, retrieval.requester.conversationId) : null;
    if (!retrieval || !saved) {
      await store.settleNotification(notification.id, owner, { state: 'undeliverable', at, error: noReference });
      undeliverable += 1;
      continue;
    }
    const reference = JSON.parse(saved.reference) as Parameters<NotifierPort['send']>[0];
    const { message, card } = await deps.compose(retrieval, notification);
    const outcome = await notifier.send(reference, message);
    switch (outcome.kind) {
      case 'sent':
        await store.settleNotification(notification.id, owner, { state: 'sent', at });
        sent += 1;
        // The status card is refreshed after the message is recorded as sent; an update is idempotent.
        if (card && retrieval.cardActivityId) await notifier.update(reference, retrieval.cardActivityId, card);
        break;
      case 'retry':
        await store.settleNotification(notification.id, owner, {
          state: 'pending',
          nextAttemptAt: new Date(now.getTime() + outcome.afterMs).toISOString(),
          error: outcome.reason,
        });
        retrying += 1;
        break;
      case 'permanent':
        await store.settleNotification(notification.id, owner, { state: 'undeliverable', at, error: outcome.reason });
        undeliverable += 1;
        break;
    }
  }
  return { sent, retrying, undeliverable };
}

