/**
 * Database faults under the real bot in-process (restify + botbuilder + the Teams notifier, a
 * loopback stand-in Bot Connector, an injected clock) with the PACS faked:
 * - SQLite (the real file store, busy timeout 5 s as in production) locked by another connection
 *   in another process holding a write transaction (BEGIN IMMEDIATE): briefly (the bot just waits),
 *   longer than the busy timeout (the clinician is told something went wrong, the poll fails
 *   without crashing, and the finished retrieval is announced exactly once after the lock goes),
 *   at the moment a retrieval is being started, and at the moment between a completion message
 *   being accepted by the connector and its being recorded as sent;
 * - PostgreSQL (a real server) stopped with a retrieval in flight and a notification owed, then
 *   started again on the same data: the clinician is told something went wrong meanwhile, and
 *   afterwards every owed notification is delivered exactly once; and stopped between a send and
 *   its record.
 * In every case nothing is lost and nothing is sent twice, including after the 5-minute lease of a
 * notification would have run out (the clock is advanced past it).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakePacs } from '../../src/adapters/pacs/fake-pacs';
import { london } from '../support/instants';
import { describeWithPostgres } from '../support/postgres-harness';
import { clinician, InProcessBot, isCompletion, RestartablePostgres, SqliteLocker, StandInConnector, storeProblems } from './fault-support';
import { fakeAlice } from '../support/fixtures';

const nhs = '9434765919';
const ctHead = { studyInstanceUid: '2.25.2', date: '2023-11-05', description: 'CT Head', modalities: ['CT'], instanceCount: 5 };
const xrChest = { studyInstanceUid: '2.25.1', date: '2024-03-12', description: 'XR Chest', modalities: ['DX'], instanceCount: 2 };

function makePacs(): FakePacs {
  return new FakePacs({
    local: [{ identity: fakeAlice, studies: [] }],
    sites: { exeter: { studies: { [nhs]: [xrChest, ctHead] } } },
  });
}

/** Words that tell the clinician something went wrong (rather than silence). */
const toldSomethingWrong = /went wrong|try again|could not|unavailable|not available/i;

/** How long a notification lease lasts (application.ts: 5 minutes), and a little more. */
const pastLeaseMs = 5 * 60 * 1000 + 60 * 1000;

describe('SQLite locked by another connection (BEGIN IMMEDIATE in another process)', () => {
  let dir: string;
  let file: string;
  let pacs: FakePacs;
  let connector: StandInConnector;
  let bot: InProcessBot;
  let locker: SqliteLocker;
  let now: Date;
  let cards = 0;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqlite-faults-'));
    file = path.join(dir, 'bot.sqlite');
    pacs = makePacs();
    now = london('2026-12-02T02:00');
    connector = await StandInConnector.start();
    bot = await InProcessBot.start({ connector, clock: () => now, pacs, env: { DATABASE_URL: `sqlite:${file}` } });
    locker = await SqliteLocker.start(file);
  });
  afterEach(async () => {
    await locker?.stop();
    await bot?.stop();
    await connector?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  const completions = (description: string) => connector.deliveredCompletions().filter((r) => (r.body.text ?? '').includes(description));

  /** Confirms the retrieval of `descriptions` (nothing locked); returns the PACS job ids started. */
  async function retrieve(descriptions: string[]): Promise<string[]> {
    const data = await bot.confirmButtonFor(descriptions, now);
    const result = await bot.pressConfirm(data, now, `status-card-${(cards += 1)}`);
    for (const d of descriptions) expect(result.later).toContain(`Started: ${d}`);
    return pacs.jobIds().slice(-descriptions.length);
  }

  it('a short lock (under the busy timeout): a search and a confirmation just wait for it, and the retrieval is announced once', async () => {
    await locker.lock(1_500);
    const search = await bot.search(now);
    expect(search.status).toBe(200);
    // It did wait for the lock, and then answered as usual.
    expect(search.ms).toBeGreaterThanOrEqual(1_000);
    expect(search.later.some((r) => JSON.stringify(r.body).includes('Retrieve selected'))).toBe(true);
    await locker.released(1);

    const data = await bot.confirmButtonFor(['CT Head'], now);
    await locker.lock(1_500);
    const result = await bot.pressConfirm(data, now, 'status-card-short');
    expect(result.later).toContain('Started: CT Head');
    await locker.released(2);
    pacs.completeJob(pacs.jobIds()[0]!);
    await locker.lock(1_500);
    await bot.app.pollOnce();
    await locker.released(3);
    await bot.app.pollOnce();
    expect(completions('CT Head')).toHaveLength(1);
    expect(await storeProblems(bot.app.store, clinician.id)).toEqual([]);
  }, 60_000);

  it('a lock longer than the busy timeout: the clinician is told something went wrong, the poll fails without crashing, and afterwards the finished retrieval is announced exactly once', async () => {
    const [job] = await retrieve(['CT Head']);
    pacs.completeJob(job!);
    await locker.lock();

    const search = await bot.search(now);
    expect(search.status).toBe(200);
    expect(search.later.map((r) => r.body.text ?? '').join('\n')).toMatch(toldSomethingWrong);

    const failures = bot.events('poll-failed').length;
    await bot.app.pollOnce();
    expect(bot.events('poll-failed').length).toBe(failures + 1);
    expect((await bot.retrievalOf(ctHead.studyInstanceUid))?.state).toBe('retrieving');
    expect(completions('CT Head')).toHaveLength(0);

    await locker.unlock();
    await bot.app.pollOnce();
    for (let i = 0; i < 3; i += 1) await bot.app.pollOnce();
    expect(completions('CT Head')).toHaveLength(1);
    expect(await storeProblems(bot.app.store, clinician.id)).toEqual([]);
    // The bot still answers.
    const before = connector.requests.length;
    expect(await bot.say('my retrievals', now)).toBe(200);
    expect(bot.postedSince(before)).toContain('stored on UH Bristol PACS');
  }, 60_000);

  it('locked while a retrieval is being started (recorded, PACS job started, not yet marked as started): the clinician is told, and after the lock goes the retrieval is not lost but announced exactly once', async () => {
    const data = await bot.confirmButtonFor(['CT Head'], now);
    const start = pacs.startRetrieval.bind(pacs);
    pacs.startRetrieval = async (site, nhsNumber, studyUid) => {
      await locker.lock();
      return start(site, nhsNumber, studyUid);
    };
    const result = await bot.pressConfirm(data, now, 'status-card-start');
    expect(result.status).toBe(200);
    await locker.unlock();
    expect(result.later).toMatch(toldSomethingWrong);
    expect(pacs.jobIds()).toHaveLength(1);
    pacs.completeJob(pacs.jobIds()[0]!);

    // Ten minutes of polls (the clock moves a minute each time), in case recovery waits a while.
    for (let minute = 0; minute < 10 && completions('CT Head').length === 0; minute += 1) {
      now = new Date(now.getTime() + 60_000);
      await bot.app.pollOnce();
    }
    for (let i = 0; i < 3; i += 1) await bot.app.pollOnce();
    expect({
      completionMessages: completions('CT Head').length,
      state: (await bot.retrievalOf(ctHead.studyInstanceUid))?.state,
      storeProblems: await storeProblems(bot.app.store, clinician.id),
    }).toEqual({ completionMessages: 1, state: 'stored', storeProblems: [] });
  }, 60_000);

  it('locked between the connector accepting a completion message and its record as sent: still exactly one message, even once the lease has run out', async () => {
    const [job] = await retrieve(['CT Head']);
    pacs.completeJob(job!);
    let locked = false;
    connector.responder = async (request) => {
      if (isCompletion(request) && !locked) {
        locked = true;
        await locker.lock();
      }
      return undefined;
    };
    await bot.app.pollOnce();
    await locker.unlock();
    expect(completions('CT Head')).toHaveLength(1);
    connector.responder = undefined;

    await bot.app.pollOnce();
    now = new Date(now.getTime() + pastLeaseMs);
    for (let i = 0; i < 3; i += 1) await bot.app.pollOnce();
    const [retrieval] = await bot.retrievals();
    expect({
      completionMessages: completions('CT Head').map((r) => r.body.text),
      notifications: (await bot.app.store.notificationsFor(retrieval!.id)).map((n) => n.state),
    }).toEqual({ completionMessages: [expect.stringContaining('CT Head from Exeter')], notifications: ['sent'] });
  }, 60_000);
});

describeWithPostgres('PostgreSQL stopped, then started again', () => {
  let server: RestartablePostgres;
  let connector: StandInConnector;
  let bot: InProcessBot | undefined;
  let pacs: FakePacs;
  let now: Date;
  let databases = 0;

  beforeAll(async () => {
    server = await RestartablePostgres.create();
  }, 60_000);
  afterAll(async () => {
    await server?.destroy();
  }, 30_000);

  beforeEach(async () => {
    pacs = makePacs();
    now = london('2026-12-02T02:00');
    connector = await StandInConnector.start();
    const url = await server.createDatabase(`faults_${(databases += 1)}`);
    bot = await InProcessBot.start({ connector, clock: () => now, pacs, env: { DATABASE_URL: url, TEST_LAB: 'true' } });
  }, 30_000);
  afterEach(async () => {
    // Closing the store needs the server (the pool ends its connections).
    await server?.start();
    await bot?.stop();
    await connector?.close();
  }, 30_000);

  const completions = (description: string) => connector.deliveredCompletions().filter((r) => (r.body.text ?? '').includes(description));

  it('with a retrieval in flight and a notification owed: the clinician is told something went wrong meanwhile, and after the restart each study is announced exactly once', async () => {
    const live = bot!;
    const data = await live.confirmButtonFor(['CT Head', 'XR Chest'], now);
    const started = await live.pressConfirm(data, now, 'status-card-pg');
    expect(started.later).toContain('Started: CT Head');
    expect(started.later).toContain('Started: XR Chest');
    const ctJob = (await live.retrievalOf(ctHead.studyInstanceUid))!.pacsJobId!;
    const xrJob = (await live.retrievalOf(xrChest.studyInstanceUid))!.pacsJobId!;

    // CT Head finishes; the connector is throttling, so its message is owed (due in 2 minutes).
    connector.responder = (request) =>
      isCompletion(request)
        ? { status: 503, headers: { 'retry-after': '120' }, body: { error: { code: 'ServiceUnavailable' } } }
        : undefined;
    pacs.completeJob(ctJob);
    await live.app.pollOnce();
    expect(completions('CT Head').length + completions('XR Chest').length).toBe(0);

    await server.stop();
    pacs.completeJob(xrJob);
    const failures = live.events('poll-failed').length;
    await live.app.pollOnce();
    await live.app.pollOnce();
    expect(live.events('poll-failed').length).toBe(failures + 2);

    // The clinician asks meanwhile: told something went wrong, not silence.
    const before = connector.requests.length;
    const status = await live.say('my retrievals', now);
    await live.app.idle();
    expect(live.postedSince(before)).toMatch(toldSomethingWrong);
    const search = await live.search(now);
    expect(search.status).toBe(200);
    expect(search.later.map((r) => r.body.text ?? '').join('\n')).toMatch(toldSomethingWrong);

    connector.responder = undefined;
    await server.start();
    now = new Date(now.getTime() + 121_000);
    await live.app.pollOnce();
    for (let i = 0; i < 3; i += 1) await live.app.pollOnce();
    expect(completions('CT Head')).toHaveLength(1);
    expect(completions('XR Chest')).toHaveLength(1);
    expect(await storeProblems(live.app.store, clinician.id)).toEqual([]);
    // Answered, not failed, while the database was away (checked last: the reply above is what matters most).
    expect(status).toBe(200);
  }, 90_000);

  it('stopped between the connector accepting a completion message and its record as sent: still exactly one message, even once the lease has run out', async () => {
    const live = bot!;
    const data = await live.confirmButtonFor(['CT Head'], now);
    expect((await live.pressConfirm(data, now, 'status-card-pg2')).later).toContain('Started: CT Head');
    pacs.completeJob(pacs.jobIds()[0]!);
    let stopped = false;
    connector.responder = async (request) => {
      if (isCompletion(request) && !stopped) {
        stopped = true;
        await server.stop();
      }
      return undefined;
    };
    await live.app.pollOnce();
    expect(completions('CT Head')).toHaveLength(1);
    connector.responder = undefined;
    await server.start();

    await live.app.pollOnce();
    now = new Date(now.getTime() + pastLeaseMs);
    for (let i = 0; i < 3; i += 1) await live.app.pollOnce();
    const [retrieval] = await live.retrievals();
    expect({
      completionMessages: completions('CT Head').map((r) => r.body.text),
      notifications: (await live.app.store.notificationsFor(retrieval!.id)).map((n) => n.state),
    }).toEqual({ completionMessages: [expect.stringContaining('CT Head from Exeter')], notifications: ['sent'] });
  }, 60_000);
});
