/**
 * SIGKILL at seeded random points of a retrieval and at held points of the Confirm turn, sixteen
 * trials: real bot processes (`node dist/src/index.js`, polling every 0.2 s), real Orthanc servers (one lab reused; the local
 * copy of the study is deleted before each trial), a SQLite file per trial, and a loopback stand-in
 * Bot Connector that also plays the Teams channel. In each trial the clinician searches, ticks
 * CT Head and presses Confirm; the bot is killed a seeded, stratified random delay after the press
 * (ten strata across the retrieval's first second, which holds the whole of a retrieval on this
 * lab, denser in the first 300 ms where the turn does its durable work), or at a point of the turn
 * held until the kill (waiting for the write lock to claim the activity; looking the clinician up
 * in Teams after the claim; replacing the card after the confirmation is recorded), checked
 * against what the store holds afterwards, or the moment the PACS job succeeds, or while its completion message is in flight (the connector never accepts that
 * request); then it is restarted from dist/ on the same SQLite file. As Teams does with a turn
 * that got no answer, the channel delivers the Confirm activity again (same id) if the killed bot
 * never answered it 200. Each trial must end with exactly ONE completion message for the
 * retrieval in the clinician's chat (counted from the stand-in's POSTs), no duplicate, the
 * retrieval 'stored', and nothing half-written in the store; a kill before the confirmation was
 * recorded must see the re-delivered press handled as a fresh one. The whole file stays under
 * three minutes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../../src/adapters/store/sqlite/sqlite-store';
import { projectRoot } from '../../src/config/config';
import { describeWithOrthanc, orthancBotEnv, startOrthancLab, type OrthancLab } from '../support/orthanc-harness';
import { distractorStudy, exeterStudies, localStudies, seedStudies } from '../support/orthanc-seed';
import {
  clinician,
  deleteStudy,
  isCompletion,
  msSince,
  orthancJobs,
  pickId,
  shownText,
  sleep,
  StandInConnector,
  storeProblems,
  submitAction,
  waitFor,
  SqliteLocker,
  type ConnectorRequest,
  type Responder,
} from './fault-support';

const ctHeadUid = '2.25.94347659192';
const clinicianDomain = 'uhbristol.nhs.uk';

/** Teams' member look-up (TeamsInfo.getMember): GET .../members/<user id>. */
function isMemberLookup(request: ConnectorRequest): boolean {
  return request.method === 'GET' && /\/members\//.test(request.path);
}

/** The stand-in answers member look-ups as Teams would, and everything else with 200. */
const teamsMembers: Responder = (request) =>
  isMemberLookup(request) ? { status: 200, body: { ...clinician, userPrincipalName: `test.clinician@${clinicianDomain}` } } : undefined;
const distIndex = path.join(projectRoot, 'dist', 'src', 'index.js');

/** The seed of the trials' delays: the same delays every run. */
const seed = 20_261_202;
/**
 * Kill delays, one drawn in each stratum (ms after the Confirm press). Denser where the turn does
 * its durable work: on this lab the activity is recorded as seen within a few ms, the card is
 * replaced at about 30 ms, the turn answered at about 40-55, the retrieval recorded at about 45-80
 * and its PACS job started and recorded at about 200; the
 * job succeeds at about 800 and the completion goes out within a poll (0.2 s) of that.
 */
const strata: ReadonlyArray<readonly [number, number]> = [
  [0, 25],
  [25, 50],
  [50, 100],
  [100, 150],
  [150, 200],
  [200, 300],
  [300, 475],
  [475, 650],
  [650, 825],
  [825, 1_000],
];

/** A small seeded PRNG (mulberry32): uniform in [0, 1). */
function seeded(value: number): () => number {
  let state = value >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Where a trial kills the bot: a seeded delay after the press, or a point of the turn itself, held
 * there so the kill lands on it whatever the timing: while the bot waits for the SQLite write lock
 * to record its claim on the activity (nothing recorded yet), while it looks the clinician up in
 * Teams (claim recorded, confirmation not), while it replaces the pressed card (confirmation recorded,
 * clinician not yet answered); or the moment the PACS job succeeds, or mid-send of the completion.
 */
type TrialKind = 'after-press' | 'claim-blocked' | 'after-claim' | 'after-record' | 'job-succeeded' | 'completion-in-flight';

interface Trial {
  readonly n: number;
  readonly kind: TrialKind;
  readonly delayMs: number;
  readonly label: string;
}

function planTrials(): Trial[] {
  const random = seeded(seed);
  const trials: Array<Omit<Trial, 'n'>> = [];
  for (const [from, to] of strata) {
    const delayMs = Math.floor(from + random() * (to - from));
    trials.push({ kind: 'after-press', delayMs, label: `${delayMs} ms after the Confirm press` });
  }
  trials.push({
    kind: 'claim-blocked',
    delayMs: 300,
    label: 'while it waits to record its claim on the Confirm activity (before any store write)',
  });
  trials.push({
    kind: 'after-claim',
    delayMs: 0,
    label: 'between its claim on the Confirm activity and the confirmation (looking the clinician up in Teams)',
  });
  trials.push({
    kind: 'after-record',
    delayMs: 0,
    label: 'after the confirmation is recorded, before the clinician is answered (replacing the card)',
  });
  for (let i = 0; i < 2; i += 1) trials.push({ kind: 'job-succeeded', delayMs: 0, label: 'the moment the PACS job succeeds' });
  trials.push({
    kind: 'completion-in-flight',
    delayMs: 0,
    label: 'while its completion message is in flight (the connector never accepts that request)',
  });
  return trials.map((t, i) => ({ ...t, n: i + 1 }));
}

/** Bot processes started here and not yet seen exiting: killed if the test process exits first. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** One `node dist/src/index.js`, signalled only through its own ChildProcess (its own pid). */
class BotProcess {
  private output = '';
  readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    running.add(child);
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => {
      child.once('exit', () => {
        running.delete(child);
        resolve();
      });
    });
  }

  static async start(env: Record<string, string>): Promise<{ bot: BotProcess; port: number }> {
    const bot = new BotProcess(spawn(process.execPath, [distIndex], { cwd: projectRoot, env: { PATH: process.env.PATH ?? '', ...env } }));
    let gone = false;
    void bot.exited.then(() => (gone = true));
    const port = await waitFor(
      'the bot to listen',
      () => {
        if (gone) throw new Error(`the bot exited during start: ${bot.output}`);
        const line = bot.output.split('\n').find((l) => l.includes('"event":"listening"'));
        return line ? (JSON.parse(line) as { port: number }).port : undefined;
      },
      20_000,
      10,
    );
    return { bot, port };
  }

  /** The names of the notable events it logged (not the routine ones). */
  events(): string[] {
    const routine = new Set([
      'listening',
      'guide-review-overdue',
      'development-mode',
      'dev-chat',
      'turn',
      'notify-attempt',
      'shutting-down',
      'stopped',
    ]);
    return this.output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => (JSON.parse(line) as { event?: string }).event ?? '')
      .filter((event) => event !== '' && !routine.has(event));
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }

  /** SIGTERM (graceful), SIGKILL if still alive after 12 s. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), 12_000))),
    ]);
    clearTimeout(timer);
    if (late) {
      this.kill();
      await this.exited;
    }
  }
}

/** What one trial must end with. */
interface Verdict {
  /** Completion messages the connector accepted in the trial's chat. */
  readonly completionMessages: number;
  readonly retrievals: string[];
  readonly storeProblems: string[];
}

/** What one trial ended with, and how it got there. */
interface Outcome {
  readonly verdict: Verdict;
  readonly diagnosis: {
    readonly killedAtMs: number;
    readonly atKill: AtKill;
    /** The restarted bot answered the re-delivered press as a fresh one ("Starting the retrieval ..."). */
    readonly freshPress: boolean;
    /** Every completion request the bot made, accepted or not. */
    readonly completionAttempts: number;
    readonly notifications: Array<{ kind: string; state: string; attempts: number; leasedUntil: string | null }>;
    readonly confirmAnswered: number | 'no answer';
    readonly cardReplaced: boolean;
    readonly redelivered: number | 'no answer' | 'not needed';
    /** What reached the clinician after the confirmation card (messages the connector accepted). */
    readonly chat: string[];
    /** Notable events logged by the killed bot, then by the restarted one. */
    readonly killedBotLogged: string[];
    readonly restartedBotLogged: string[];
  };
}

/** What the killed bot left in the store: its claim on the Confirm activity, and the retrievals. */
interface AtKill {
  readonly claim: 'claimed' | 'done' | null;
  readonly retrievals: string[];
}

async function storeAtKill(file: string, conversation: string, confirmId: string): Promise<AtKill> {
  const store = openSqliteStore(file);
  try {
    await store.migrate();
    const claim = await store.activityFor(JSON.stringify(['msteams', conversation, confirmId]));
    return { claim: claim?.state ?? null, retrievals: (await store.retrievalsFor(clinician.id, 10)).map((r) => r.state) };
  } finally {
    await store.close();
  }
}

/** What each held point must have left behind: proof that the kill landed where the trial says. */
const expectedAtKill: Partial<Record<TrialKind, AtKill>> = {
  'claim-blocked': { claim: null, retrievals: [] },
  'after-claim': { claim: 'claimed', retrievals: [] },
  'after-record': { claim: 'done', retrievals: ['requested'] },
};

describeWithOrthanc('SIGKILL at random points of a retrieval, restarted from dist/ on the same SQLite file', () => {
  let lab: OrthancLab;
  let connector: StandInConnector;
  let root: string;
  let sequence = 0;

  beforeAll(async () => {
    lab = await startOrthancLab({ remotes: [{ modality: 'EXETER', aet: 'EXETER_PACS' }] });
    await Promise.all([seedStudies(lab.remote('EXETER'), [...exeterStudies, distractorStudy]), seedStudies(lab.local, localStudies)]);
    connector = await StandInConnector.start();
    connector.responder = teamsMembers;
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kill-trials-'));
  }, 120_000);

  afterEach(async () => {
    // A trial that failed half way leaves no bot behind.
    for (const child of [...running]) {
      child.kill('SIGKILL');
      await new Promise((resolve) =>
        child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.once('exit', resolve),
      );
    }
  }, 30_000);

  afterAll(async () => {
    await connector?.close();
    await lab?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  }, 60_000);

  function botEnv(file: string): Record<string, string> {
    return {
      PORT: '0',
      HOST: '127.0.0.1',
      ...orthancBotEnv(lab),
      PACS_POLL_INTERVAL_S: '0.2',
      DATABASE_URL: `sqlite:${file}`,
      CARD_SIGNING_SECRET: 'a-fixed-secret-for-the-kill-trials-0123456789',
      // A domain in the allow-list makes every turn look the clinician up in Teams after claiming its activity.
      RETRIEVAL_ALLOWED_USERS: `@${clinicianDomain}`,
    };
  }

  /**
   * Posts an activity as the Teams channel would (no timestamp: the bot then reads its own clock,
   * so the test never does); the HTTP status, or 'no answer' if the bot died first.
   */
  async function post(port: number, conversationId: string, activity: Record<string, unknown>): Promise<number | 'no answer'> {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          type: 'message',
          id: `kill-${(sequence += 1)}`,
          channelId: 'msteams',
          serviceUrl: connector.url,
          from: clinician,
          recipient: { id: '28:bot', name: 'Image Sharing' },
          conversation: { id: conversationId, conversationType: 'personal', tenantId: 'tenant-1' },
          ...activity,
        }),
        signal: AbortSignal.timeout(20_000),
      });
      await res.text();
      return res.status;
    } catch {
      return 'no answer';
    }
  }

  async function runTrial(trial: Trial): Promise<Outcome> {
    const conversation = `a:kill-trial-${trial.n}`;
    const file = path.join(root, `trial-${trial.n}.sqlite`);
    const mine = (r: ConnectorRequest): boolean => r.conversationId === conversation;
    await deleteStudy(lab.local, ctHeadUid);
    await waitFor(
      'Orthanc to finish earlier jobs',
      async () => ((await orthancJobs(lab.local)).every((j) => ['Success', 'Failure'].includes(j.State)) ? true : undefined),
      30_000,
      100,
    );
    const jobsBefore = new Set((await orthancJobs(lab.local)).map((j) => j.ID));

    let { bot, port } = await BotProcess.start(botEnv(file));
    expect(await post(port, conversation, { text: 'find images for 943 476 5919' })).toBe(200);
    const studies = await connector.waitFor(
      'the studies card',
      (r) => mine(r) && JSON.stringify(r.body).includes('Retrieve selected'),
      20_000,
    );
    const pick = { ...submitAction(studies.body, 'Retrieve selected').data, [pickId(studies.body, 'CT Head')]: 'true' };
    expect(await post(port, conversation, { value: pick })).toBe(200);
    const confirmCard = await connector.waitFor(
      'the confirmation card',
      (r) => mine(r) && JSON.stringify(r.body).includes('Confirm retrieval'),
      10_000,
    );
    const statusCard = `status-card-${trial.n}`;
    // One activity, with its own id: a re-delivery below is this same activity again.
    const confirm = {
      id: `kill-trial-${trial.n}-confirm`,
      value: submitAction(confirmCard.body, 'Confirm retrieval').data,
      replyToId: statusCard,
    };

    const pressed = process.hrtime.bigint();
    const killed = bot;
    let held = false;
    // A request the bot makes at the trial's point is held (never answered) and the bot killed while it waits.
    const holdAt = (point: (request: ConnectorRequest) => boolean): void => {
      connector.responder = (request) => {
        if (!mine(request) || held || !point(request)) return teamsMembers(request);
        held = true;
        killed.kill();
        return { status: 503, body: { error: { code: 'BotGone' } } };
      };
    };
    const locker = trial.kind === 'claim-blocked' ? await SqliteLocker.start(file) : null;
    switch (trial.kind) {
      case 'completion-in-flight':
        holdAt(isCompletion);
        break;
      case 'after-claim':
        holdAt(isMemberLookup);
        break;
      case 'after-record':
        holdAt((r) => r.method === 'PUT' && r.path.endsWith(`/activities/${statusCard}`));
        break;
      case 'claim-blocked':
        // The bot cannot write while the lock is held: its claim waits (busy_timeout), and it dies waiting.
        await locker!.lock();
        break;
      case 'after-press':
      case 'job-succeeded':
        break;
    }
    const answer = post(port, conversation, confirm);
    try {
      switch (trial.kind) {
        case 'after-press':
        case 'claim-blocked':
          await sleep(trial.delayMs);
          break;
        case 'job-succeeded':
          await waitFor(
            'the PACS job to succeed',
            async () => ((await orthancJobs(lab.local)).some((j) => !jobsBefore.has(j.ID) && j.State === 'Success') ? true : undefined),
            20_000,
            1,
          );
          break;
        case 'completion-in-flight':
        case 'after-claim':
        case 'after-record':
          await waitFor("the bot to reach the trial's point", () => (held ? true : undefined), 20_000, 1);
          break;
      }
    } finally {
      connector.responder = teamsMembers;
    }
    bot.kill();
    const killedAtMs = Math.round(msSince(pressed));
    await bot.exited;
    await locker?.unlock();
    await locker?.stop();
    const killedBotLogged = bot.events();
    const atKill = await storeAtKill(file, conversation, confirm.id);
    const confirmAnswered = await answer;
    const cardReplaced = connector.requests.some((r) => mine(r) && r.method === 'PUT' && r.path.endsWith(`/activities/${statusCard}`));

    ({ bot, port } = await BotProcess.start(botEnv(file)));
    const restartedFrom = connector.requests.length;
    // Teams delivers a turn again when the bot did not answer it.
    const redelivered = confirmAnswered === 200 ? 'not needed' : await post(port, conversation, confirm);
    try {
      await connector.waitFor('the completion message', (r) => mine(r) && isCompletion(r) && r.status >= 200 && r.status < 300, 12_000);
    } catch {
      // Judged below, with everything the clinician saw.
    }
    // Several more poll cycles, to show that no second message comes.
    await sleep(1_500);
    await bot.stop();
    const restartedBotLogged = bot.events();

    const store = openSqliteStore(file);
    let retrievals: string[];
    let problems: string[];
    const notifications: Outcome['diagnosis']['notifications'] = [];
    try {
      const all = await store.retrievalsFor(clinician.id, 10);
      retrievals = all.map((r) => r.state);
      problems = await storeProblems(store, clinician.id);
      for (const r of all) {
        for (const n of await store.notificationsFor(r.id))
          notifications.push({ kind: n.kind, state: n.state, attempts: n.attempts, leasedUntil: n.leaseUntil });
      }
    } finally {
      await store.close();
    }
    const posts = connector.requests.filter((r) => mine(r) && r.method === 'POST');
    return {
      verdict: { completionMessages: connector.deliveredCompletions(conversation).length, retrievals, storeProblems: problems },
      diagnosis: {
        killedAtMs,
        atKill,
        freshPress: connector.requests
          .slice(restartedFrom)
          .some((r) => mine(r) && r.status >= 200 && r.status < 300 && shownText(r.body).startsWith('Starting the retrieval')),
        completionAttempts: posts.filter(isCompletion).length,
        notifications,
        confirmAnswered,
        cardReplaced,
        redelivered,
        chat: posts
          .slice(3)
          .filter((r) => r.status >= 200 && r.status < 300)
          .map((r) => shownText(r.body).split('\n')[0]!.slice(0, 90)),
        killedBotLogged,
        restartedBotLogged,
      },
    };
  }

  it.each(planTrials())(
    'trial $n: SIGKILL $label, then restart: exactly one completion message',
    async (trial) => {
      const { verdict, diagnosis } = await runTrial(trial);
      try {
        expect(verdict).toEqual({ completionMessages: 1, retrievals: ['stored'], storeProblems: [] });
        const atPoint = expectedAtKill[trial.kind];
        if (atPoint) expect(diagnosis.atKill).toEqual(atPoint);
        // Killed before the confirmation was recorded: the re-delivered press is handled as a fresh press.
        if (atPoint && atPoint.retrievals.length === 0) expect(diagnosis.freshPress).toBe(true);
      } catch (error) {
        // A failure says how it came about: what the clinician saw, what each bot logged, what the store holds.
        throw new Error(`${(error as Error).message}\n\nHow it came about:\n${JSON.stringify(diagnosis, null, 2)}`);
      }
    },
    70_000,
  );
});
