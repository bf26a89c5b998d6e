/**
 * A Bot Connector that never answers, under the real bot in-process (restify + botbuilder + the Teams
 * notifier, an SQLite file, an injected clock) with a loopback stand-in connector that holds some
 * conversations' requests open for ever:
 * - every request gives up after CONNECTOR_TIMEOUT_S, the message is owed for a later round, and the
 *   other chats' messages still go out in the same poll;
 * - a poll cycle held up longer than the watchdog is left behind: the next cycle runs (retrievals keep
 *   settling), /readyz?pacs=1 says the poll is stalled until the held cycle ends, then ready again
 *   (plain /readyz, the database only, stays 200: turns are still served).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakePacs } from '../../src/adapters/pacs/fake-pacs';
import type { Retrieval } from '../../src/ports/store-port';
import { fakeAlice } from '../support/fixtures';
import { london } from '../support/instants';
import { InProcessBot, StandInConnector, startedRetrieval, waitFor } from './fault-support';

const nhs = '9434765919';
const study = (n: number) => ({
  studyInstanceUid: `2.25.9${n}`,
  date: '2024-01-0' + String(n),
  description: `Study ${n}`,
  modalities: ['CT'],
  instanceCount: 1,
});
const studies = [study(1), study(2), study(3)];

describe('a Bot Connector that never answers', () => {
  let dir: string;
  let connector: StandInConnector;
  let pacs: FakePacs;
  let bot: InProcessBot;
  const now = london('2026-12-02T02:00');

  async function start(pollWatchdogMs?: number): Promise<void> {
    bot = await InProcessBot.start({
      connector,
      clock: () => now,
      pacs,
      env: { DATABASE_URL: `sqlite:${path.join(dir, 'bot.sqlite')}`, CONNECTOR_TIMEOUT_S: '0.3' },
      ...(pollWatchdogMs ? { tuning: { pollWatchdogMs } } : {}),
    });
  }

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'connector-hang-'));
    connector = await StandInConnector.start();
    // Requests into the "hung" chat are held open and never answered.
    connector.responder = (request) => (request.conversationId === 'a:hung-chat' ? new Promise(() => undefined) : undefined);
    pacs = new FakePacs({ local: [{ identity: fakeAlice, studies: [] }], sites: { exeter: { studies: { [nhs]: studies } } } });
  });
  afterEach(async () => {
    await bot?.stop();
    await connector?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  const retrievalIn = (chat: string, which: ReturnType<typeof study>): Promise<Retrieval> =>
    startedRetrieval({ store: bot.app.store, pacs, connector }, chat, nhs, which, now);

  const completionsIn = (chat: string) => connector.deliveredCompletions(chat);
  /** /readyz?pacs=1: the PACS side (the PACS and the poll loop) as well as the database. */
  const readiness = async (
    query = '?pacs=1',
  ): Promise<{ status: number; body: { checks: Record<string, { ok: boolean; reason: string | null }> } }> => {
    const res = await fetch(`${bot.url}/readyz${query}`, { signal: AbortSignal.timeout(10_000) });
    return { status: res.status, body: (await res.json()) as { checks: Record<string, { ok: boolean; reason: string | null }> } };
  };

  it('gives each request up after CONNECTOR_TIMEOUT_S, owes the message for later, and still sends to the other chats', async () => {
    await start();
    const hung = await retrievalIn('a:hung-chat', studies[0]!);
    const fine = await retrievalIn('a:fine-chat', studies[1]!);
    for (const r of [hung, fine]) pacs.completeJob(r.pacsJobId!);

    await bot.app.pollOnce();
    expect(completionsIn('a:fine-chat')).toHaveLength(1);
    expect(completionsIn('a:hung-chat')).toHaveLength(0);
    const [owed] = await bot.app.store.notificationsFor(hung.id);
    expect(owed).toMatchObject({ state: 'pending', leaseOwner: null, lastError: expect.any(String) });
    expect(Date.parse(owed!.nextAttemptAt)).toBeGreaterThan(now.getTime());
    // Four attempts, each given up by the deadline, then handed back as a retry for later.
    const attempts = bot.events('notify-attempt').filter((e) => e.conversation === 'a:hung-chat');
    expect(attempts.map((e) => e.outcome)).toEqual(['retrying', 'retrying', 'retrying', 'retry-later']);
    expect(await bot.app.store.getRetrieval(hung.id)).toMatchObject({ state: 'stored' });
    expect((await readiness()).status).toBe(200);
  }, 30_000);

  it('leaves a held-up cycle behind: the next runs and settles retrievals, and /readyz says stalled until the held one ends', async () => {
    // A watchdog shorter than the hung chat's four timed-out attempts.
    await start(200);
    const hung = await retrievalIn('a:hung-chat', studies[0]!);
    const later = await retrievalIn('a:fine-chat', studies[2]!);
    pacs.completeJob(hung.pacsJobId!);

    const held = bot.app.pollOnce();
    await held;
    expect(bot.events('poll-stalled')).toHaveLength(1);
    const stalled = await readiness();
    expect(stalled.status).toBe(503);
    expect(stalled.body.checks.poll).toEqual({ ok: false, reason: 'stalled' });
    // Turns are still served: the instance stays in the load balancer (plain /readyz is the database only).
    expect(await readiness('')).toEqual({ status: 200, body: { status: 'ready', checks: { database: { ok: true, reason: null } } } });

    // The loop goes on without the held cycle: a retrieval that finishes now is settled and announced.
    pacs.completeJob(later.pacsJobId!);
    await bot.app.pollOnce();
    expect(await bot.app.store.getRetrieval(later.id)).toMatchObject({ state: 'stored' });
    expect(completionsIn('a:fine-chat')).toHaveLength(1);

    // The held cycle ends once its requests time out; the loop is ready again.
    await waitFor('the held cycle to end', () => (bot.events('poll-recovered').length > 0 ? true : undefined), 10_000);
    expect((await readiness()).status).toBe(200);
    expect(completionsIn('a:hung-chat')).toHaveLength(0);
  }, 30_000);
});
