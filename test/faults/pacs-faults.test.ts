/**
 * PACS faults against real Orthanc servers (LOCAL = UH Bristol, EXETER and PLYMOUTH), the real bot
 * in-process over HTTP (restify + botbuilder + the Teams notifier) with a loopback stand-in Bot
 * Connector, and a real SQLite file. It proves that when UH Bristol's Orthanc is stopped or hung
 * (SIGSTOP), or a remote site is hung or paused for a while then resumed:
 * - every activity is answered 200 (never a 500 to the connector) and the bot keeps working;
 * - the clinician gets a reply that names the PACS that is unreachable or timed out, within the
 *   configured timeouts (PACS_QUERY_TIMEOUT_S for a site; the adapter's 15 s request timeout for
 *   UH Bristol's Orthanc, which no setting changes);
 * - a retrieval in flight is not lost: it completes and is announced exactly once after the PACS
 *   comes back (resumed, or restarted having forgotten its jobs);
 * - nothing is left half-written in the store (no retrieval stuck 'requested', every ending with
 *   exactly one notification).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { london } from '../support/instants';
import { describeWithOrthanc, orthancBotEnv, startOrthancLab, type OrthancLab, type OrthancServer } from '../support/orthanc-harness';
import { distractorStudy, exeterStudies, localStudies, plymouthStudy, seedStudies } from '../support/orthanc-seed';
import {
  clinician,
  InProcessBot,
  msSince,
  orthancJobs,
  restartOrthanc,
  shownText,
  sleep,
  StandInConnector,
  storeProblems,
  waitFor,
} from './fault-support';

const uid = { ctHead: '2.25.94347659192', xrChest: '2.25.94347659191', mrKnee: '2.25.94347659193', ctAbdomen: plymouthStudy.uid } as const;

/** PACS_QUERY_TIMEOUT_S for these tests. */
const queryTimeoutS = 3;
/** The Orthanc adapter's own timeout for every REST call to UH Bristol's Orthanc (defaultRequestTimeoutMs; not configurable). */
const localRequestTimeoutMs = 15_000;

/** A reply that tells the clinician which PACS failed: UH Bristol's, and how. */
const namesUhBristol = /UH Bristol/;
const saysUnreachable = /could not be reached|unreachable|not reachable|is down|not available|unavailable/i;
const saysTimedOut = /timed out|did not answer|not answering|no answer|too long/i;

describeWithOrthanc('PACS faults: UH Bristol Orthanc stopped or hung, a remote site hung or slow', () => {
  let lab: OrthancLab;
  /** Each server as it runs now, by name (a restart replaces the harness's server object). */
  const current = new Map<'local' | 'exeter' | 'plymouth', OrthancServer>();
  const server = (name: 'local' | 'exeter' | 'plymouth'): OrthancServer => current.get(name)!;
  let connector: StandInConnector;
  let bot: InProcessBot;
  let dir: string;
  const now = london('2026-12-02T02:00');
  let cards = 0;

  beforeAll(async () => {
    lab = await startOrthancLab({
      remotes: [
        { modality: 'EXETER', aet: 'EXETER_PACS' },
        { modality: 'PLYMOUTH', aet: 'PLYMOUTH_PACS' },
      ],
    });
    current.set('local', lab.local).set('exeter', lab.remote('EXETER')).set('plymouth', lab.remote('PLYMOUTH'));
    await Promise.all([
      seedStudies(lab.remote('EXETER'), [...exeterStudies, distractorStudy]),
      seedStudies(lab.remote('PLYMOUTH'), [plymouthStudy]),
      seedStudies(lab.local, localStudies),
    ]);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pacs-faults-'));
    connector = await StandInConnector.start();
    bot = await InProcessBot.start({
      connector,
      clock: () => now,
      env: {
        ...orthancBotEnv(lab, 'exeter:EXETER,plymouth:PLYMOUTH', queryTimeoutS),
        DATABASE_URL: `sqlite:${path.join(dir, 'bot.sqlite')}`,
      },
    });
  }, 120_000);

  afterAll(async () => {
    await bot?.stop();
    await connector?.close();
    // A restarted server is not among those lab.stop() knows.
    for (const [name, running] of current) if (running !== (name === 'local' ? lab.local : lab.remote(name))) await running.stop();
    await lab?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 90_000);

  /** Whatever the test did, every server runs again afterwards. */
  afterEach(async () => {
    for (const [name, running] of current) {
      running.resume();
      if (!running.running) current.set(name, await restartOrthanc(running));
    }
  }, 60_000);

  const search = () => bot.search(now);
  const confirmButtonFor = (description: string) => bot.confirmButtonFor([description], now);
  const pressConfirm = (data: Record<string, unknown>) => bot.pressConfirm(data, now, `status-card-${(cards += 1)}`);
  const retrievalOf = (studyUid: string) => bot.retrievalOf(studyUid);

  /** Polls as the bot's timer does until the retrieval has ended. */
  async function pollUntilEnded(studyUid: string, timeoutMs = 30_000) {
    return waitFor(
      `the retrieval of ${studyUid} to end`,
      async () => {
        await bot.app.pollOnce();
        const r = await retrievalOf(studyUid);
        return r && (r.state === 'stored' || r.state === 'failed') ? r : undefined;
      },
      timeoutMs,
      100,
    );
  }

  const completionsOf = (description: string) => connector.deliveredCompletions().filter((r) => (r.body.text ?? '').includes(description));

  /** The bot still answers, and /healthz is up. */
  async function expectStillWorking(): Promise<void> {
    const before = connector.requests.length;
    expect(await bot.say('help', now)).toBe(200);
    expect(connector.requests.length).toBeGreaterThan(before);
    expect((await fetch(`${bot.url}/healthz`)).status).toBe(200);
  }

  it("a remote site hung (SIGSTOP) during a search: the reply names it as timed out within PACS_QUERY_TIMEOUT_S, and the other site's studies are still listed", async () => {
    const exeter = server('exeter');
    exeter.pause();
    try {
      const result = await search();
      expect(result.status).toBe(200);
      expect(result.turnMs).toBeLessThan(2_000);
      // The site's C-FIND timeout, the adapter's 1 s of grace, and slack for a loaded machine.
      expect(result.ms).toBeLessThan(queryTimeoutS * 1000 + 1_000 + 3_000);
      const text = result.later.map((r) => shownText(r.body)).join('\n');
      expect(text).toMatch(/Exeter\s*\n\s*timed out/);
      expect(text).toMatch(/Plymouth\s*\n\s*linked/);
      expect(text).toContain('CT Abdomen');
      expect(text).not.toContain('CT Head');
    } finally {
      exeter.resume();
    }
    // Once it answers again, so does the bot.
    const again = await search();
    expect(again.later.map((r) => shownText(r.body)).join('\n')).toMatch(/Exeter\s*\n\s*linked/);
    expect(await storeProblems(bot.app.store, clinician.id)).toEqual([]);
    await expectStillWorking();
  }, 60_000);

  it('a remote site paused for a while then resumed while a retrieval starts: the retrieval starts once it answers, completes, and is announced exactly once', async () => {
    const data = await confirmButtonFor('CT Head');
    const exeter = server('exeter');
    exeter.pause();
    const resumed = sleep(2_500).then(() => exeter.resume());
    try {
      const result = await pressConfirm(data);
      expect(result.status).toBe(200);
      expect(result.later).toContain('Started: CT Head');
      expect(result.ms).toBeGreaterThanOrEqual(2_000);
      expect(result.ms).toBeLessThan(localRequestTimeoutMs);
    } finally {
      await resumed;
    }
    const ended = await pollUntilEnded(uid.ctHead);
    expect(ended.state).toBe('stored');
    for (let i = 0; i < 3; i += 1) await bot.app.pollOnce();
    expect(completionsOf('CT Head')).toHaveLength(1);
    expect(await storeProblems(bot.app.store, clinician.id)).toEqual([]);
  }, 60_000);

  it("a retrieval in flight when UH Bristol's Orthanc hangs (SIGSTOP): the poll waits, nothing is announced early, and after it resumes the study is announced exactly once", async () => {
    const data = await confirmButtonFor('MR Knee');
    const result = await pressConfirm(data);
    expect(result.later).toContain('Started: MR Knee');
    server('local').pause();
    let polled = false;
    const polling = bot.app.pollOnce().then(() => (polled = true));
    try {
      await sleep(2_500);
      // Hung, not failed: the poll is still waiting and nothing has been announced or changed.
      expect(polled).toBe(false);
      expect(completionsOf('MR Knee')).toHaveLength(0);
      expect((await retrievalOf(uid.mrKnee))?.state).toBe('retrieving');
    } finally {
      server('local').resume();
    }
    const started = process.hrtime.bigint();
    await polling;
    expect(msSince(started)).toBeLessThan(localRequestTimeoutMs);
    const ended = await pollUntilEnded(uid.mrKnee);
    expect(ended.state).toBe('stored');
    for (let i = 0; i < 3; i += 1) await bot.app.pollOnce();
    expect(completionsOf('MR Knee')).toHaveLength(1);
    expect(await storeProblems(bot.app.store, clinician.id)).toEqual([]);
  }, 60_000);

  it("a retrieval in flight when UH Bristol's Orthanc is stopped, then restarted having forgotten its jobs: announced exactly once, nothing early", async () => {
    const data = await confirmButtonFor('CT Abdomen');
    const result = await pressConfirm(data);
    expect(result.later).toContain('Started: CT Abdomen');
    const retrieval = await retrievalOf(uid.ctAbdomen);
    expect(retrieval?.pacsJobId).toBeTruthy();
    // The C-MOVE finishes inside Orthanc before the bot has looked at it.
    await waitFor(
      'the C-MOVE job to succeed',
      async () => ((await orthancJobs(server('local'))).find((j) => j.ID === retrieval!.pacsJobId)?.State === 'Success' ? true : undefined),
      20_000,
      50,
    );
    await server('local').stop();
    const failuresBefore = bot.events('poll-failed').length;
    for (let i = 0; i < 3; i += 1) await bot.app.pollOnce();
    expect(bot.events('poll-failed').length).toBe(failuresBefore + 3);
    expect((await retrievalOf(uid.ctAbdomen))?.state).toBe('retrieving');
    expect(completionsOf('CT Abdomen')).toHaveLength(0);

    current.set('local', await restartOrthanc(server('local')));
    const ended = await pollUntilEnded(uid.ctAbdomen);
    expect(ended.state).toBe('stored');
    for (let i = 0; i < 3; i += 1) await bot.app.pollOnce();
    expect(completionsOf('CT Abdomen')).toHaveLength(1);
    expect(await storeProblems(bot.app.store, clinician.id)).toEqual([]);
  }, 90_000);

  it('a remote site stopped when Confirm is pressed: answered 200, the reply names it as unreachable, and the retrieval ends failed with exactly one "Try again" notice', async () => {
    const data = await confirmButtonFor('XR Chest');
    await server('exeter').stop();
    const result = await pressConfirm(data);
    expect(result.status).toBe(200);
    expect(result.ms).toBeLessThan(localRequestTimeoutMs);
    expect(result.later).toMatch(/Exeter/);
    expect(result.later).toMatch(saysUnreachable);
    expect(await retrievalOf(uid.xrChest)).toMatchObject({ state: 'failed', failureReason: 'unreachable' });
    for (let i = 0; i < 3; i += 1) await bot.app.pollOnce();
    const notices = connector
      .deliveredRequests()
      .filter((r) => r.method === 'POST' && shownText(r.body).includes('Retrieval failed') && shownText(r.body).includes('XR Chest'));
    expect(notices).toHaveLength(1);
    expect(shownText(notices[0]!.body)).toContain('Try again');
    expect(await storeProblems(bot.app.store, clinician.id)).toEqual([]);
    await expectStillWorking();
  }, 60_000);

  it("UH Bristol's Orthanc stopped: a search is answered 200 at once, and the reply says UH Bristol PACS could not be reached", async () => {
    await server('local').stop();
    const result = await search();
    expect(result.status).toBe(200);
    expect(result.ms).toBeLessThan(5_000);
    expect(result.later.length).toBeGreaterThan(0);
    expect(await storeProblems(bot.app.store, clinician.id)).toEqual([]);
    await expectStillWorking();
    const text = result.later.map((r) => shownText(r.body)).join('\n');
    expect(text).toMatch(namesUhBristol);
    expect(text).toMatch(saysUnreachable);
  }, 60_000);

  it("UH Bristol's Orthanc stopped when Confirm is pressed: answered 200, the reply says UH Bristol PACS could not be reached, and nothing is half-written", async () => {
    const data = await confirmButtonFor('XR Chest');
    await server('local').stop();
    const result = await pressConfirm(data);
    expect(result.status).toBe(200);
    expect(result.ms).toBeLessThan(5_000);
    expect(result.later).not.toBe('');
    expect(await bot.app.store.activeRetrievals()).toEqual([]);
    expect(await storeProblems(bot.app.store, clinician.id)).toEqual([]);
    await expectStillWorking();
    expect(result.later).toMatch(namesUhBristol);
    expect(result.later).toMatch(saysUnreachable);
  }, 60_000);

  /** /readyz (the database: what the cloud's health probe reads) and /readyz?pacs=1 (the PACS side). */
  async function readiness(
    query: '' | '?pacs=1',
  ): Promise<{ status: number; checks: Record<string, { ok: boolean; reason: string | null }>; ms: number }> {
    const started = Date.now();
    const res = await fetch(`${bot.url}/readyz${query}`, { signal: AbortSignal.timeout(10_000) });
    const { checks } = (await res.json()) as { checks: Record<string, { ok: boolean; reason: string | null }> };
    return { status: res.status, checks, ms: Date.now() - started };
  }

  /** A guide question answered over HTTP: the reply's words. */
  async function askGuide(): Promise<string> {
    const before = connector.requests.length;
    expect(await bot.say('how do I get Taunton access at 2am?', now)).toBe(200);
    return connector.requests
      .slice(before)
      .map((r) => shownText(r.body))
      .join('\n');
  }

  it("UH Bristol's Orthanc stopped: /readyz stays 200 (the instance stays in service), ?pacs=1 names the PACS, and the guide still answers", async () => {
    expect(await readiness('?pacs=1')).toMatchObject({ status: 200, checks: { pacs: { ok: true } } });
    await server('local').stop();
    expect(await readiness('')).toMatchObject({ status: 200, checks: { database: { ok: true, reason: null } } });
    expect(await readiness('?pacs=1')).toMatchObject({
      status: 503,
      checks: { database: { ok: true }, pacs: { ok: false, reason: 'unreachable' } },
    });
    const answer = await askGuide();
    expect(answer).toContain('01823 343317');
    expect(answer).toContain('emergency access applies');
    await bot.app.pollOnce();
    expect(await readiness('')).toMatchObject({ status: 200 });
  }, 60_000);

  it("UH Bristol's Orthanc hung (SIGSTOP): /readyz answers 200 at once, ?pacs=1 reports the PACS not ready within its 3 s limit, and the guide still answers", async () => {
    server('local').pause();
    try {
      const ready = await readiness('');
      expect(ready).toMatchObject({ status: 200, checks: { database: { ok: true } } });
      expect(ready.ms).toBeLessThan(2_000);
      const detail = await readiness('?pacs=1');
      expect(detail).toMatchObject({ status: 503, checks: { pacs: { ok: false } } });
      expect(detail.ms).toBeLessThan(6_000);
      expect(await askGuide()).toContain('01823 343317');
    } finally {
      server('local').resume();
    }
  }, 60_000);

  it("UH Bristol's Orthanc hung (SIGSTOP): a search is answered 200 at once and replied to within the 15 s request timeout, naming UH Bristol PACS as not answering", async () => {
    server('local').pause();
    let result: Awaited<ReturnType<typeof search>>;
    try {
      result = await search();
    } finally {
      server('local').resume();
    }
    expect(result.status).toBe(200);
    expect(result.turnMs).toBeLessThan(2_000);
    expect(result.ms).toBeLessThan(localRequestTimeoutMs + 3_000);
    expect(result.later.length).toBeGreaterThan(0);
    expect(await storeProblems(bot.app.store, clinician.id)).toEqual([]);
    await expectStillWorking();
    const text = result.later.map((r) => shownText(r.body)).join('\n');
    expect(text).toMatch(namesUhBristol);
    expect(text).toMatch(saysTimedOut);
  }, 60_000);
});
