/**
 * Two bot instances on one PostgreSQL database (each its own pool, as separate processes would have),
 * the real Teams notifier sending to a loopback stand-in Bot Connector, and sends slower than the
 * notification lease. Each attempt of a send first renews its lease by the database's clock (the
 * fence), so:
 * - a sender still working keeps its notification: the other instance claims nothing;
 * - a sender that lost its lease while a request hung (the other instance claimed it after it ran
 *   out) withdraws its retry instead of sending a second copy.
 * Either way the clinician gets exactly one completion message.
 */
import { FakePacs } from '../../src/adapters/pacs/fake-pacs';
import { fakeAlice } from '../support/fixtures';
import { london } from '../support/instants';
import { describeWithPostgres, startPostgres, type PostgresServer } from '../support/postgres-harness';
import { InProcessBot, isCompletion, sleep, StandInConnector, startedRetrieval, type ConnectorAnswer } from './fault-support';

const nhs = '9434765919';
const ctHead = { studyInstanceUid: '2.25.2', date: '2023-11-05', description: 'CT Head', modalities: ['CT'], instanceCount: 5 };
/** Shorter than the slow requests below, so only renewal keeps a working sender's lease. */
const leaseMs = 2_000;
const unavailable: ConnectorAnswer = { status: 503, body: { error: { code: 'ServiceUnavailable' } } };

describeWithPostgres('notification leases between two instances, with sends slower than the lease', () => {
  let server: PostgresServer;
  let databases = 0;
  let connector: StandInConnector;
  let pacs: FakePacs;
  let a: InProcessBot;
  let b: InProcessBot;
  const now = london('2026-12-02T02:00');

  beforeAll(async () => {
    server = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  }, 30_000);

  beforeEach(async () => {
    connector = await StandInConnector.start();
    pacs = new FakePacs({ local: [{ identity: fakeAlice, studies: [] }], sites: { exeter: { studies: { [nhs]: [ctHead] } } } });
    const url = await server.createDatabase(`fence_${(databases += 1)}`);
    const env = { DATABASE_URL: url, TEST_LAB: 'true' };
    a = await InProcessBot.start({ connector, clock: () => now, pacs, env, tuning: { leaseMs } });
    b = await InProcessBot.start({ connector, clock: () => now, pacs, env, tuning: { leaseMs } });
    // A retrieval confirmed through instance A, its job finished at the PACS: a completion is owed.
    const retrieval = await startedRetrieval({ store: a.app.store, pacs, connector }, 'a:fence-chat', nhs, ctHead, now);
    pacs.completeJob(retrieval.pacsJobId!);
  }, 60_000);
  afterEach(async () => {
    connector.responder = undefined;
    await a?.stop();
    await b?.stop();
    await connector?.close();
  }, 30_000);

  const delivered = () => connector.deliveredCompletions('a:fence-chat');

  /** A promise that resolves when the connector first sees a completion request (not when it answers it). */
  function firstArrival(): { arrived: Promise<void>; arrive: () => void } {
    let arrive = (): void => undefined;
    const arrived = new Promise<void>((resolve) => (arrive = resolve));
    return { arrived, arrive };
  }

  it('keeps the notification with the sender that renews it, although its first request outlasts the lease', async () => {
    let completionRequests = 0;
    const { arrived, arrive } = firstArrival();
    // A's first request hangs 1.2 s and fails; its retry (after at most 0.5 s of backoff) renews the lease and hangs 2 s.
    connector.responder = async (request) => {
      if (!isCompletion(request)) return undefined;
      const n = (completionRequests += 1);
      arrive();
      await sleep(n === 1 ? 1_200 : 2_000);
      return n === 1 ? unavailable : undefined;
    };
    const first = a.app.pollOnce();
    await arrived;
    // Past the lease as first renewed (2 s), inside the one renewed for the retry, which is still in flight.
    await sleep(leaseMs + 300);
    expect(completionRequests).toBe(2);
    expect(delivered()).toHaveLength(0);
    await b.app.pollOnce();
    await first;
    await Promise.all([a.app.pollOnce(), b.app.pollOnce()]);

    expect(delivered()).toHaveLength(1);
    expect(connector.requests.filter(isCompletion)).toHaveLength(2);
    expect(b.events('notifications')).toEqual([]);
    const [notification] = await a.app.store.notificationsFor((await a.app.store.retrievalsFor('29:a:fence-chat', 1))[0]!.id);
    expect(notification).toMatchObject({ state: 'sent', attempts: 1 });
  }, 60_000);

  it('withdraws the retry of a sender whose lease ran out and was claimed by the other instance while its request hung', async () => {
    let completionRequests = 0;
    const { arrived, arrive } = firstArrival();
    // A's first request hangs past the lease and fails; B's request, made meanwhile, succeeds at once.
    connector.responder = async (request) => {
      if (!isCompletion(request)) return undefined;
      completionRequests += 1;
      if (completionRequests > 1) return undefined;
      arrive();
      await sleep(leaseMs + 1_500);
      return unavailable;
    };
    const first = a.app.pollOnce();
    await arrived;
    await sleep(leaseMs + 300);
    expect(delivered()).toHaveLength(0);
    await b.app.pollOnce();
    expect(delivered()).toHaveLength(1);
    await first;
    await Promise.all([a.app.pollOnce(), b.app.pollOnce()]);

    expect(delivered()).toHaveLength(1);
    expect(connector.requests.filter(isCompletion)).toHaveLength(2);
    expect(a.events('notify-attempt').map((e) => e.outcome)).toEqual(['retrying', 'withdrawn']);
    const [notification] = await a.app.store.notificationsFor((await a.app.store.retrievalsFor('29:a:fence-chat', 1))[0]!.id);
    expect(notification).toMatchObject({ state: 'sent', attempts: 2 });
  }, 60_000);
});
