/**
 * The Bot Connector failing for a while, then recovering, under the real bot in-process (restify +
 * botbuilder's CloudAdapter + the real Teams notifier and outbox) with a real SQLite file, a faked
 * PACS and a loopback stand-in connector answering over real HTTP. It proves that when the
 * completion message is answered 429 with Retry-After, or 500/502/503/504 (with or without a
 * Retry-After too long to wait in-process), the notification is retried (in-process, honouring
 * Retry-After, then by the outbox at the due time on the injected clock) and delivered exactly once
 * in the end: no duplicate, none lost, and nothing sent before it is due.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakePacs } from '../../src/adapters/pacs/fake-pacs';
import { london } from '../support/instants';
import {
  clinician,
  InProcessBot,
  isCompletion,
  StandInConnector,
  storeProblems,
  type ConnectorAnswer,
  type ConnectorRequest,
} from './fault-support';
import { fakeAlice } from '../support/fixtures';

const nhs = '9434765919';
const ctHead = { studyInstanceUid: '2.25.2', date: '2023-11-05', description: 'CT Head', modalities: ['CT'], instanceCount: 5 };

describe('the Bot Connector answering 429 and 5xx for a while, then recovering', () => {
  let dir: string;
  let pacs: FakePacs;
  let connector: StandInConnector;
  let bot: InProcessBot;
  let now: Date;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'connector-faults-'));
    pacs = new FakePacs({
      local: [{ identity: fakeAlice, studies: [] }],
      sites: { exeter: { studies: { [nhs]: [ctHead] } } },
    });
    now = london('2026-12-02T02:00');
    connector = await StandInConnector.start();
    bot = await InProcessBot.start({ connector, clock: () => now, pacs, env: { DATABASE_URL: `sqlite:${path.join(dir, 'bot.sqlite')}` } });
    const data = await bot.confirmButtonFor(['CT Head'], now);
    expect((await bot.pressConfirm(data, now, 'status-card')).later).toContain('Started: CT Head');
    pacs.completeJob(pacs.jobIds()[0]!);
  }, 30_000);
  afterEach(async () => {
    await bot?.stop();
    await connector?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  /** Answers completion messages with `script` in turn, then 200; everything else 200. */
  function failCompletions(script: readonly ConnectorAnswer[]): void {
    let next = 0;
    connector.responder = (request) => (isCompletion(request) && next < script.length ? script[next++] : undefined);
  }

  const attempts = (): ConnectorRequest[] => connector.requests.filter(isCompletion);
  const throttled = (seconds: number): ConnectorAnswer => ({
    status: 429,
    headers: { 'retry-after': String(seconds) },
    body: { error: { code: 'Throttled' } },
  });
  const failing = (status: number, retryAfter?: number): ConnectorAnswer => ({
    status,
    headers: retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) },
    body: { error: { code: 'ServiceError' } },
  });

  async function notificationOf(): Promise<{ state: string; attempts: number; nextAttemptAt: string }> {
    const [retrieval] = await bot.retrievals();
    const [notification] = await bot.app.store.notificationsFor(retrieval!.id);
    return notification!;
  }

  it('429 with Retry-After, six times: waits as told in-process, hands the rest to the outbox, and delivers exactly once', async () => {
    failCompletions(Array.from({ length: 6 }, () => throttled(1)));
    await bot.app.pollOnce();
    // Four attempts in-process, each after the 1 s the connector asked for; then owed, not dropped.
    expect(attempts().map((r) => r.status)).toEqual([429, 429, 429, 429]);
    const gaps = attempts()
      .slice(1)
      .map((r, i) => Number(r.at - attempts()[i]!.at) / 1e6);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(950);
    const owed = await notificationOf();
    expect(owed.state).toBe('pending');
    expect(Date.parse(owed.nextAttemptAt)).toBeGreaterThan(now.getTime());
    expect(connector.deliveredCompletions()).toHaveLength(0);

    // Not due yet: nothing is sent early.
    await bot.app.pollOnce();
    expect(attempts()).toHaveLength(4);

    now = new Date(Date.parse(owed.nextAttemptAt));
    await bot.app.pollOnce();
    expect(attempts().map((r) => r.status)).toEqual([429, 429, 429, 429, 429, 429, 200]);
    for (let i = 0; i < 3; i += 1) {
      now = new Date(now.getTime() + 10 * 60_000);
      await bot.app.pollOnce();
    }
    expect(connector.deliveredCompletions().map((r) => r.body.text)).toEqual([
      '✅ CT Head from Exeter (5 Nov 2023), 5 images, is now on UH Bristol PACS, kept until 1 Jan 2027.',
    ]);
    expect((await notificationOf()).state).toBe('sent');
    expect(await storeProblems(bot.app.store, clinician.id)).toEqual([]);
  }, 60_000);

  it('502, 503, 500, 504, then 503 with a Retry-After of two minutes, then recovery: delivered exactly once, at the due times, with the status card updated', async () => {
    failCompletions([failing(502), failing(503), failing(500), failing(504), failing(503, 120)]);
    // The status card update fails for a while too (it is idempotent, so retrying it is safe).
    let puts = 0;
    const completions = connector.responder!;
    connector.responder = (request) => (request.method === 'PUT' && (puts += 1) <= 2 ? failing(502) : completions(request));

    await bot.app.pollOnce();
    expect(attempts().map((r) => r.status)).toEqual([502, 503, 500, 504]);
    const first = await notificationOf();
    expect(first.state).toBe('pending');
    await bot.app.pollOnce();
    expect(attempts()).toHaveLength(4);

    now = new Date(Date.parse(first.nextAttemptAt));
    await bot.app.pollOnce();
    expect(attempts().map((r) => r.status)).toEqual([502, 503, 500, 504, 503]);
    const second = await notificationOf();
    expect(second.state).toBe('pending');
    // The connector's two minutes are honoured by the outbox, not slept through in-process.
    expect(Date.parse(second.nextAttemptAt) - now.getTime()).toBeGreaterThanOrEqual(120_000);
    now = new Date(now.getTime() + 60_000);
    await bot.app.pollOnce();
    expect(attempts()).toHaveLength(5);

    now = new Date(Date.parse(second.nextAttemptAt));
    await bot.app.pollOnce();
    for (let i = 0; i < 3; i += 1) {
      now = new Date(now.getTime() + 10 * 60_000);
      await bot.app.pollOnce();
    }
    expect(attempts().map((r) => r.status)).toEqual([502, 503, 500, 504, 503, 200]);
    expect(connector.deliveredCompletions()).toHaveLength(1);
    expect(await notificationOf()).toMatchObject({ state: 'sent', attempts: 3 });
    const updated = connector.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/activities/status-card') && r.status === 200);
    expect(updated.at(-1)?.body.attachments?.length).toBe(1);
    expect(JSON.stringify(updated.at(-1)?.body)).toContain('stored on UH Bristol PACS');
    expect(await storeProblems(bot.app.store, clinician.id)).toEqual([]);
  }, 60_000);
});
