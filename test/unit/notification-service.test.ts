/**
 * Delivering the notification outbox: a round drains everything due (not one small batch), serves
 * different conversations concurrently but never more than the limit at once, keeps the order of the
 * messages within one conversation, and stops at the round's limit.
 */
import type { ConversationReference } from 'botbuilder';
import { FakeNotifier } from '../support/fakes/fake-notifier';
import { createMemoryStore } from '../support/fakes/memory-store';
import type { NotifierPort, Reply, SendOutcome } from '../../src/ports/notifier-port';
import type { StorePort } from '../../src/ports/store-port';
import { deliverNotifications, type DeliveryDeps } from '../../src/retrieval/notification-service';

const at = '2026-12-02T02:00:00.000Z';
const now = new Date('2026-12-02T02:00:05.000Z');

/** Stores `count` finished retrievals in conversation `chat`, each with its pending notification. */
async function finished(store: StorePort, chat: string, count: number, first: number): Promise<void> {
  await store.saveReference({
    teamsUserId: `user-${chat}`,
    entraObjectId: null,
    conversationId: chat,
    reference: JSON.stringify({ conversation: { id: chat }, serviceUrl: 'http://127.0.0.1:1/' }),
    updatedAt: at,
  });
  for (let i = first; i < first + count; i += 1) {
    const id = `r-${i}`;
    await store.createRetrieval({
      id,
      requester: { teamsUserId: `user-${chat}`, entraObjectId: null, displayName: 'Dr Test', tenantId: null, conversationId: chat },
      site: 'exeter',
      nhsNumber: '9434765919',
      study: { studyInstanceUid: `2.25.${i}`, date: '2024-03-12', description: `Study ${i}`, modalities: ['CT'], instanceCount: 1 },
      createdAt: at,
      keptUntil: '2027-01-01T00:00:00.000Z',
      cardActivityId: null,
    });
    await store.transition(id, ['requested'], 'retrieving', at, { pacsJobId: `job-${i}` });
    await store.transition(id, ['retrieving'], 'stored', at);
  }
}

/** A notifier that records how many sends are in flight at once, each send taking a few event-loop turns. */
class CountingNotifier implements NotifierPort {
  readonly inner = new FakeNotifier();
  inFlight = 0;
  maxInFlight = 0;

  async send(reference: Partial<ConversationReference>, message: Reply): Promise<SendOutcome> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((resolve) => setImmediate(resolve));
    this.inFlight -= 1;
    return this.inner.send(reference, message);
  }

  typing(reference: Partial<ConversationReference>): Promise<SendOutcome> {
    return this.inner.typing(reference);
  }

  reply(reference: Partial<ConversationReference>, replyToId: string, message: Reply): Promise<SendOutcome> {
    return this.inner.reply(reference, replyToId, message);
  }

  update(reference: Partial<ConversationReference>, activityId: string, message: Reply): Promise<SendOutcome> {
    return this.inner.update(reference, activityId, message);
  }
}

function deps(store: StorePort, notifier: NotifierPort): DeliveryDeps {
  return {
    store,
    notifier,
    owner: 'test-owner',
    leaseMs: 60_000,
    leaseClock: async () => new Date(await store.clockNow()),
    compose: (retrieval) => Promise.resolve({ message: { text: `${retrieval.id} is on UH Bristol PACS` }, card: null }),
  };
}

describe('deliverNotifications', () => {
  it('drains every due notification in one round, across many batches', async () => {
    const store = createMemoryStore();
    for (let chat = 0; chat < 130; chat += 1) await finished(store, `chat-${chat}`, 1, chat);
    const notifier = new FakeNotifier();

    const report = await deliverNotifications(deps(store, notifier), now, { batchSize: 50 });

    expect(report).toEqual({ sent: 130, retrying: 0, undeliverable: 0 });
    expect(new Set(notifier.sent.map((s) => s.message.text)).size).toBe(130);
    // Nothing is owed any more, so a second round sends nothing.
    expect(await deliverNotifications(deps(store, notifier), now)).toEqual({ sent: 0, retrying: 0, undeliverable: 0 });
    expect(notifier.sent).toHaveLength(130);
  });

  it('sends to different conversations concurrently, never more than the limit at once', async () => {
    const store = createMemoryStore();
    for (let chat = 0; chat < 20; chat += 1) await finished(store, `chat-${chat}`, 1, chat);
    const notifier = new CountingNotifier();

    await deliverNotifications(deps(store, notifier), now, { concurrency: 4 });

    expect(notifier.inner.sent).toHaveLength(20);
    expect(notifier.maxInFlight).toBe(4);
  });

  it('keeps the order of the messages within one conversation, one at a time', async () => {
    const store = createMemoryStore();
    await finished(store, 'busy-chat', 6, 0);
    await finished(store, 'other-chat', 1, 100);
    const notifier = new CountingNotifier();

    await deliverNotifications(deps(store, notifier), now, { concurrency: 8 });

    const busy = notifier.inner.sent.filter((s) => s.conversationId === 'busy-chat').map((s) => s.message.text);
    expect(busy).toEqual([0, 1, 2, 3, 4, 5].map((i) => `r-${i} is on UH Bristol PACS`));
    // Two conversations: at most two sends at once, however many messages one of them has.
    expect(notifier.maxInFlight).toBe(2);
  });

  it('stops at the round limit and leaves the rest for the next round', async () => {
    const store = createMemoryStore();
    for (let chat = 0; chat < 30; chat += 1) await finished(store, `chat-${chat}`, 1, chat);
    const notifier = new FakeNotifier();

    expect((await deliverNotifications(deps(store, notifier), now, { batchSize: 10, maxPerRound: 25 })).sent).toBe(25);
    expect((await deliverNotifications(deps(store, notifier), now, { batchSize: 10, maxPerRound: 25 })).sent).toBe(5);
    expect(notifier.sent).toHaveLength(30);
  });

  it('finishes every send before passing on a store failure', async () => {
    const store = createMemoryStore();
    for (let chat = 0; chat < 5; chat += 1) await finished(store, `chat-${chat}`, 1, chat);
    const notifier = new CountingNotifier();
    const failing: StorePort = {
      ...store,
      settleNotification: (id, owner, outcome) =>
        id === (firstId ??= id) ? Promise.reject(new Error('disk full')) : store.settleNotification(id, owner, outcome),
    };
    let firstId: string | undefined;

    await expect(deliverNotifications(deps(failing, notifier), now, { concurrency: 2 })).rejects.toThrow('disk full');
    expect(notifier.inFlight).toBe(0);
    expect(notifier.inner.sent).toHaveLength(5);
  });

  it('never sends again a message Teams accepted but the store could not record as sent', async () => {
    const store = createMemoryStore();
    await finished(store, 'chat-1', 1, 0);
    const notifier = new FakeNotifier();
    let storeDown = true;
    const flaky: StorePort = {
      ...store,
      settleNotification: (id, owner, outcome) =>
        storeDown ? Promise.reject(new Error('database is locked')) : store.settleNotification(id, owner, outcome),
    };
    const unrecorded = new Map();
    const withMemory = { ...deps(flaky, notifier), unrecorded, leaseMs: 1000 };

    await expect(deliverNotifications(withMemory, now)).rejects.toThrow('database is locked');
    expect(notifier.sent).toHaveLength(1);
    // Still down a round later: nothing is claimed or sent meanwhile.
    await expect(deliverNotifications(withMemory, new Date(now.getTime() + 500))).rejects.toThrow('database is locked');
    // Back, and the lease long gone: the message is recorded as sent, not sent again.
    storeDown = false;
    expect(await deliverNotifications(withMemory, new Date(now.getTime() + 60_000))).toEqual({ sent: 0, retrying: 0, undeliverable: 0 });
    expect(notifier.sent).toHaveLength(1);
    expect((await store.notificationsFor('r-0'))[0]).toMatchObject({ state: 'sent' });
    expect(unrecorded.size).toBe(0);
  });
});
