/**
 * `npm run bench`: the whole benchmark in one run, on loopback only, bounded in time.
 *
 * 1. A local stand-in for the Bot Connector (its own process) answers every reply POST and PUT.
 * 2. The answering core alone: questions per second over the question corpus, on one core.
 * 3. Load, one server at a time, each pinned to its own CPU while autocannon (this process) and
 *    the connector stand-in share the others: the echo bot (same stack), then the real bot
 *    (dist/src/index.js, development mode, SQLite on a temporary file) with a knowledge question
 *    and a decision-tree button press. Same connections and duration for all; warm-up excluded;
 *    three rounds alternating echo bot and bot, medians reported.
 * 4. Notifications: N = 100, 1,000, 10,000 retrievals finishing at random times (each in a fresh
 *    process), and a what-if of 1,000 at a 1 s poll interval.
 * 5. Memory: resident set size with 10,000 conversation references and 10,000 jobs stored.
 *
 * Prints a table and writes dist/bench/latest.json. Every process started is stopped by its pid;
 * the temporary folder is removed; the whole run is aborted after 9.5 minutes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { MessageFactory, type Activity } from 'botbuilder';
import { loadGuideFile } from '../../src/adapters/guide-file';
import { loadCardRenderer } from '../../src/cards/card-renderer';
import { respond } from '../../src/conversation/conversation';
import { buildKnowledge } from '../../src/domain/questions/answer-question';
import { parseConfig, projectRoot, settings } from '../../src/config/config';
import {
  allowedCpus,
  cpuSeconds,
  finishChild,
  freePort,
  killAllNow,
  pin,
  startChild,
  stopAll,
  stopChild,
  waitForMessage,
  type Child,
} from './children';
import type { CoreResult } from './core';
import type { MemoryResult } from './memory';
import type { NotificationResult } from './notifications';
import { count, megabytes, ms, ratio, wallMs } from './stats';

/**
 * Load settings: the same for every server; rounds alternate echo bot and bot, and the median of
 * each figure is reported. A fresh server needs 15-20 s of load before its throughput settles (JIT
 * tiers, heap sizing), so the first run on each server gets a long warm-up; the bot's second
 * workload (the button) then needs only a short one.
 */
const load = { connections: 10, warmupSeconds: 15, seconds: 10, rounds: 3, secondWarmupSeconds: 3 };
/** Notification runs: completions uniform over the window; waiting capped after it. */
const notify = {
  sizes: (process.env.BENCH_SIZES ?? '100,1000,10000')
    .split(',')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0),
  windowMs: 30_000,
  capMs: 120_000,
  seed: 7,
  pollIntervalMs: parseConfig({}).pacs.pollIntervalMs,
};
/** What a longer poll interval would give (a what-if, not the app's default): 1,000 jobs polled every second. */
const whatIf = { jobs: 1000, pollIntervalMs: 1000 };
const memoryCount = 10_000;
const budgetMs = 9.5 * 60 * 1000;

const question = 'how do I get Taunton access at 2am?';
/** The decision tree's Taunton & Yeovil step, pressed from the "Which Trust holds the images?" card. */
const button = { isa: 'nav', step: 'route-b-taunton', trail: ['menu', 'where'] };

/** Where an activity names its chat; each request of the load fills in the next chat of the pool. */
const chatPlaceholder = '[<chat>]';

/**
 * The chats the load is spread over, each used in turn: a chat gets under one message a second at the
 * load's rate, as a clinician's does, well under Teams' pace of 7; and, as in use, a chat's reference is
 * saved once, not on every turn.
 */
const loadChats = 1000;

/** A body with a fresh chat of the pool (`chatPlaceholder` in `body`), round robin. */
function chatBodies(body: string): () => string {
  let next = 0;
  return () => body.replaceAll(chatPlaceholder, String((next++ % loadChats) + 1));
}

/**
 * For finding out why: BENCH_PROFILE=<folder> starts the servers and the notification processes
 * with --cpu-prof into that folder; BENCH_ONLY=core,load,notifications,memory runs only those parts.
 */
const profileDir = process.env.BENCH_PROFILE ? path.resolve(process.env.BENCH_PROFILE) : null;
const only = new Set((process.env.BENCH_ONLY ?? 'core,load,notifications,memory').split(',').map((s) => s.trim()));
const profileArgs = (name: string): string[] =>
  profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', `${name}.cpuprofile`] : [];

const distDir = __dirname;
/** Read before this process pins itself to fewer CPUs. */
const machineCpus = os.availableParallelism();
const startedAt = wallMs();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'isa-bench-'));

function log(line: string): void {
  const seconds = ((wallMs() - startedAt) / 1000).toFixed(0).padStart(3);
  process.stderr.write(`[bench ${seconds}s] ${line}\n`);
}

function removeTmp(): void {
  fs.rmSync(tmp, { recursive: true, force: true });
}

// On every way out: no child left running, no temporary file left behind.
process.on('exit', () => {
  killAllNow();
  removeTmp();
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping`);
    void stopAll().finally(() => process.exit(130));
  });
}
const watchdog = setTimeout(() => {
  log(`over the ${budgetMs / 60000}-minute budget: aborting`);
  void stopAll().finally(() => process.exit(2));
}, budgetMs);
watchdog.unref();

/**
 * The environment every child gets: nothing from the shell, and every setting of the bot present
 * (empty = its default), so a developer's .env (which never overrides a variable that is set) cannot
 * change what is measured.
 */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmp };
  for (const key of Object.keys(settings)) env[key] = '';
  env.NODE_ENV = 'development';
  if (process.env.TZ) env.TZ = process.env.TZ;
  return { ...env, ...extra };
}

/** A Teams-like message activity whose replies go to the connector stand-in. */
/** The instant every benchmark activity carries (a weekday afternoon). */
const activityInstant = new Date('2026-12-03T14:00:00.000Z');

/** The message the real bot sends for `text` at `instant`: made by its own code, for the echo bot to replay. */
function botReply(text: string, instant: Date): Partial<Activity> {
  const config = parseConfig({});
  const guide = loadGuideFile(config.guideFile);
  const deps = {
    access: { mode: config.mode, allowedTenantIds: [], retrievalAllowedUsers: [] },
    guide,
    knowledge: buildKnowledge(guide, config.timeZone),
    cards: loadCardRenderer(path.join(projectRoot, 'cards')),
    zone: config.timeZone,
  };
  const [reply] = respond({ kind: 'text', text }, deps, instant);
  if (!reply?.card) throw new Error('the bot gives no card for the benchmark question');
  return MessageFactory.attachment(reply.card, reply.text);
}

function activity(connectorUrl: string, fields: Record<string, unknown>): string {
  return JSON.stringify({
    type: 'message',
    // autocannon puts a fresh id in every request (idReplacement, every [<id>]): the bot handles an activity id once.
    id: '[<id>]',
    timestamp: activityInstant.toISOString(),
    localTimestamp: '2026-12-03T14:00:00.000+00:00',
    channelId: 'msteams',
    serviceUrl: `${connectorUrl}/`,
    from: { id: '29:bench-user', name: 'Bench Clinician', aadObjectId: '00000000-0000-0000-0000-0000000000b1' },
    recipient: { id: '28:bench-bot', name: 'Image Sharing' },
    // One of a pool of chats (loadChats), as many clinicians' load is: Teams paces a bot's messages per
    // chat (7 a second, kept by the notifier), so one chat for all the load would measure that pace instead.
    conversation: { id: `a:bench-chat-${chatPlaceholder}`, conversationType: 'personal', tenantId: 'bench-tenant' },
    locale: 'en-GB',
    ...fields,
  });
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return (await res.json()) as T;
}

/** Posts one activity and returns the body the server sent to the connector for it. */
async function replyTo(serverUrl: string, connectorUrl: string, body: string): Promise<string> {
  const id = `bench-${Math.random().toString(36).slice(2)}`;
  await getJson(`${connectorUrl}/__bench/capture?match=${id}`);
  const res = await fetch(`${serverUrl}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body.replaceAll('[<id>]', id).replaceAll(chatPlaceholder, 'check'),
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status >= 300) throw new Error(`${serverUrl}/api/messages answered ${res.status}`);
  await res.arrayBuffer();
  // Replies to the load just stopped may still arrive: wait for the one that answers this activity.
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const { body: reply } = await getJson<{ body: string | null }>(`${connectorUrl}/__bench/last`);
    if (reply?.includes(id)) return reply;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the server sent no reply to the connector stand-in for the check request');
}

/** What a load run measured. */
interface LoadResult {
  readonly turnsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly turns: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly timeouts: number;
  /** CPU the server process used during the measured run (1.0 = one full core). */
  readonly serverCpu: number | null;
  readonly connectorCpu: number | null;
  readonly loaderCpu: number;
}

function cannon(url: string, body: string, seconds: number): Promise<autocannon.Result> {
  const bodyFor = chatBodies(body);
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `${url}/api/messages`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        // Every request a chat of the pool; autocannon then puts a fresh activity id in each ([<id>]).
        requests: [{ setupRequest: (request) => ({ ...request, body: bodyFor() }) }],
        idReplacement: true,
        connections: load.connections,
        duration: seconds,
        timeout: 10,
      },
      (error: unknown, result: autocannon.Result) =>
        error ? reject(error instanceof Error ? error : new Error('autocannon failed')) : resolve(result),
    );
  });
}

/** The median of each figure over rounds (turns per second, p50 and p99 each on their own). */
function medianOf(rounds: readonly LoadResult[]): LoadResult {
  const mid = (pick: (r: LoadResult) => number): number => {
    const sorted = rounds.map(pick).sort((a, b) => a - b);
    const half = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[half]! : (sorted[half - 1]! + sorted[half]!) / 2;
  };
  const sum = (pick: (r: LoadResult) => number): number => rounds.reduce((total, r) => total + pick(r), 0);
  return {
    turnsPerSecond: mid((r) => r.turnsPerSecond),
    p50Ms: mid((r) => r.p50Ms),
    p99Ms: mid((r) => r.p99Ms),
    p999Ms: mid((r) => r.p999Ms),
    turns: sum((r) => r.turns),
    errors: sum((r) => r.errors),
    non2xx: sum((r) => r.non2xx),
    timeouts: sum((r) => r.timeouts),
    serverCpu: rounds.every((r) => r.serverCpu !== null) ? mid((r) => r.serverCpu ?? 0) : null,
    connectorCpu: rounds.every((r) => r.connectorCpu !== null) ? mid((r) => r.connectorCpu ?? 0) : null,
    loaderCpu: mid((r) => r.loaderCpu),
  };
}

/** Warm-up (discarded), then the measured run, with the CPU each process used. */
async function drive(name: string, server: Child, connector: Child, url: string, body: string, warmupSeconds: number): Promise<LoadResult> {
  await cannon(url, body, warmupSeconds);
  const serverBefore = cpuSeconds(server.pid);
  const connectorBefore = cpuSeconds(connector.pid);
  const loaderBefore = process.cpuUsage();
  const began = wallMs();
  const result = await cannon(url, body, load.seconds);
  const elapsed = (wallMs() - began) / 1000;
  const serverAfter = cpuSeconds(server.pid);
  const connectorAfter = cpuSeconds(connector.pid);
  const loader = process.cpuUsage(loaderBefore);
  const share = (before: number | null, after: number | null): number | null =>
    before === null || after === null ? null : (after - before) / elapsed;
  const measured: LoadResult = {
    turnsPerSecond: result['2xx'] / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    p999Ms: result.latency.p99_9,
    turns: result['2xx'],
    errors: result.errors,
    non2xx: result.non2xx,
    timeouts: result.timeouts,
    serverCpu: share(serverBefore, serverAfter),
    connectorCpu: share(connectorBefore, connectorAfter),
    loaderCpu: (loader.user + loader.system) / 1e6 / elapsed,
  };
  log(
    `${name}: ${count(measured.turnsPerSecond)} turns/s, p50 ${ms(measured.p50Ms)}, p99 ${ms(measured.p99Ms)}, server CPU ${((measured.serverCpu ?? 0) * 100).toFixed(0)}% (${warmupSeconds} s warm-up excluded)`,
  );
  if (measured.errors + measured.non2xx > 0) log(`${name}: ${measured.errors} errors, ${measured.non2xx} non-2xx responses`);
  return measured;
}

async function waitHealthy(url: string, child: Child, timeoutMs: number): Promise<void> {
  const until = wallMs() + timeoutMs;
  while (wallMs() < until) {
    if (child.process.exitCode !== null) throw new Error(`${child.name} exited:\n${child.stderrTail()}`);
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${child.name} was not healthy within ${timeoutMs / 1000} s:\n${child.stderrTail()}`);
}

async function main(): Promise<void> {
  const cpus = allowedCpus();
  const split = cpus.length >= 2;
  const serverCpus = split ? [cpus.at(-1)!] : undefined;
  const loadCpus = split ? cpus.slice(0, -1) : undefined;
  const pinned = split && pin(process.pid, loadCpus!);
  log(
    `temporary folder ${tmp}; ${machineCpus} CPUs; servers ${pinned ? `pinned to CPU ${serverCpus!.join(',')}, load generator and connector to ${loadCpus!.join(',')}` : 'not pinned'}`,
  );
  if (profileDir) fs.mkdirSync(profileDir, { recursive: true });

  const connector = startChild('connector stand-in', path.join(distDir, 'connector-stub.js'), [], {
    env: childEnv(),
    ...(pinned ? { cpus: loadCpus } : {}),
  });
  const connectorPort = Number((await waitForMessage(connector, (m) => m.event === 'listening', 15_000)).port);
  const connectorUrl = `http://127.0.0.1:${connectorPort}`;
  const serverPin = pinned ? { cpus: serverCpus } : {};
  const measured: { -readonly [K in Exclude<keyof Measured, 'runSeconds' | 'pinned'>]?: Measured[K] } = {};

  if (only.has('core')) {
    // The answering core alone, on the servers' CPU.
    log('answering core: 1 s warm-up, then 3 x 3 s over the question corpus');
    const coreChild = startChild('answering core', path.join(distDir, 'core.js'), [], { env: childEnv(), ...serverPin });
    const core = (await waitForMessage(coreChild, (m) => m.event === 'result', 60_000)).result as CoreResult;
    await finishChild(coreChild);
    log(`answering core: ${count(core.questionsPerSecond)} questions/s`);
    measured.core = core;
  }

  if (only.has('load')) {
    const questionBody = activity(connectorUrl, { text: question });
    const buttonBody = activity(connectorUrl, { value: button });
    const replayBody = activity(connectorUrl, { text: `replay: ${question}` });
    const replayFile = path.join(tmp, 'bot-reply.json');
    fs.writeFileSync(replayFile, JSON.stringify(botReply(question, activityInstant)));
    const rounds = { echo: [] as LoadResult[], replay: [] as LoadResult[], question: [] as LoadResult[], button: [] as LoadResult[] };
    log(
      `load: ${load.rounds} rounds of echo bot then bot, ${load.connections} connections, ${load.seconds} s measured after ${load.warmupSeconds} s warm-up (${load.secondWarmupSeconds} s for the button on the warm bot)`,
    );
    for (let round = 1; round <= load.rounds; round += 1) {
      // The echo bot: same stack, same connector stand-in.
      const echo = startChild('echo bot', path.join(distDir, 'echo-bot.js'), [replayFile], {
        env: childEnv(),
        nodeArgs: profileArgs(`echo-bot-${round}`),
        ...serverPin,
      });
      const echoUrl = `http://127.0.0.1:${Number((await waitForMessage(echo, (m) => m.event === 'listening', 30_000)).port)}`;
      const echoed = await replyTo(echoUrl, connectorUrl, questionBody);
      if (!echoed.includes(`echo: ${question}`)) throw new Error('the echo bot did not echo');
      rounds.echo.push(await drive(`round ${round}, echo bot`, echo, connector, echoUrl, questionBody, load.warmupSeconds));
      const replayed = await replyTo(echoUrl, connectorUrl, replayBody);
      if (!replayed.includes('01823 343317')) throw new Error("the echo bot did not replay the bot's answer");
      rounds.replay.push(
        await drive(`round ${round}, echo bot replaying the bot's answer`, echo, connector, echoUrl, replayBody, load.secondWarmupSeconds),
      );
      await stopChild(echo);

      // The real bot: its production entry point, development mode, SQLite on a temporary file.
      const botPort = await freePort();
      const bot = startChild('bot', path.join(projectRoot, 'dist', 'src', 'index.js'), [], {
        env: childEnv({
          PORT: String(botPort),
          HOST: '127.0.0.1',
          LOG_LEVEL: 'warn',
          DATABASE_URL: `sqlite:${path.join(tmp, `bot-${round}.sqlite`)}`,
          PACS_BACKEND: 'demo',
        }),
        nodeArgs: profileArgs(`bot-${round}`),
        ...serverPin,
      });
      const botUrl = `http://127.0.0.1:${botPort}`;
      await waitHealthy(botUrl, bot, 30_000);
      const answer = await replyTo(botUrl, connectorUrl, questionBody);
      if (!answer.includes('emergency access') || !answer.includes('01823 343317'))
        throw new Error(`the bot did not answer the knowledge question as expected: ${answer.slice(0, 300)}`);
      const pressed = await replyTo(botUrl, connectorUrl, buttonBody);
      if (!pressed.includes('01823 343317'))
        throw new Error(`the bot did not answer the button press as expected: ${pressed.slice(0, 300)}`);
      rounds.question.push(
        await drive(`round ${round}, bot, knowledge question`, bot, connector, botUrl, questionBody, load.warmupSeconds),
      );
      rounds.button.push(
        await drive(`round ${round}, bot, decision-tree button`, bot, connector, botUrl, buttonBody, load.secondWarmupSeconds),
      );
      await stopChild(bot);
    }
    measured.echoLoad = medianOf(rounds.echo);
    measured.replayLoad = medianOf(rounds.replay);
    measured.questionLoad = medianOf(rounds.question);
    measured.buttonLoad = medianOf(rounds.button);
    measured.loadRounds = rounds;
  }

  if (only.has('notifications')) {
    // Each run in a fresh process on the servers' CPU.
    const runNotifications = async (jobs: number, pollIntervalMs: number): Promise<NotificationResult> => {
      log(
        `notifications: ${count(jobs)} retrievals finishing at random over ${notify.windowMs / 1000} s, polled every ${pollIntervalMs} ms (wait capped at ${notify.capMs / 1000} s after)`,
      );
      const args = [
        String(jobs),
        connectorUrl,
        path.join(tmp, `notify-${jobs}-${pollIntervalMs}.sqlite`),
        String(notify.windowMs),
        String(notify.capMs),
        String(notify.seed),
        String(pollIntervalMs),
      ];
      const child = startChild(`notifications ${jobs}`, path.join(distDir, 'notifications.js'), args, {
        env: childEnv(),
        nodeArgs: profileArgs(`notifications-${jobs}-${pollIntervalMs}`),
        ...serverPin,
      });
      const result = (await waitForMessage(child, (m) => m.event === 'result', notify.windowMs + notify.capMs + 120_000))
        .result as NotificationResult;
      await finishChild(child);
      log(
        `notifications ${count(jobs)}: delivered ${count(result.delivered)}, p50 ${ms(result.p50Ms)}, p95 ${ms(result.p95Ms)}, ` +
          `PACS requests per cycle max ${result.requestsPerCycleMax} (status ${result.statusPerCycleMax}), setup ${count(result.setupMs)} ms`,
      );
      return result;
    };
    const notifications: NotificationResult[] = [];
    for (const jobs of notify.sizes) notifications.push(await runNotifications(jobs, notify.pollIntervalMs));
    measured.notifications = notifications;
    if (!process.env.BENCH_SIZES) measured.whatIf = await runNotifications(whatIf.jobs, whatIf.pollIntervalMs);
  }

  if (only.has('memory')) {
    log(`memory: ${count(memoryCount)} conversation references and ${count(memoryCount)} retrievals in flight`);
    const args = [String(memoryCount), connectorUrl, path.join(tmp, 'memory.sqlite')];
    const memoryChild = startChild('memory', path.join(distDir, 'memory.js'), args, {
      env: childEnv(),
      nodeArgs: ['--expose-gc'],
      ...serverPin,
    });
    measured.memory = (await waitForMessage(memoryChild, (m) => m.event === 'result', 180_000)).result as MemoryResult;
    await finishChild(memoryChild);
    log(`memory: RSS ${megabytes(measured.memory.rssBytes)}`);
  }

  await stopChild(connector);

  const runSeconds = (wallMs() - startedAt) / 1000;
  const { core, echoLoad, replayLoad, questionLoad, buttonLoad, notifications, memory, whatIf: shorterPoll, loadRounds } = measured;
  if (!core || !echoLoad || !replayLoad || !questionLoad || !buttonLoad || !notifications || !memory) {
    process.stdout.write(
      `${JSON.stringify(measured, null, 2)}\nPartial run (BENCH_ONLY): no table, nothing written; ${runSeconds.toFixed(0)} s.\n`,
    );
    return;
  }
  const report = buildReport({
    core,
    echoLoad,
    replayLoad,
    questionLoad,
    buttonLoad,
    notifications,
    memory,
    runSeconds,
    pinned,
    ...(shorterPoll ? { whatIf: shorterPoll } : {}),
    ...(loadRounds ? { loadRounds } : {}),
  });
  process.stdout.write(`\n${report.table}\n\n${report.machineLine}\n`);
  const outDir = path.join(projectRoot, 'dist', 'bench');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'latest.json'), `${JSON.stringify(report.json, null, 2)}\n`);
  process.stdout.write(
    `Written to ${path.relative(process.cwd(), path.join(outDir, 'latest.json'))}; whole run ${runSeconds.toFixed(0)} s.\n`,
  );
}

interface Measured {
  readonly core: CoreResult;
  readonly echoLoad: LoadResult;
  /** The echo bot sending the bot's own answer (same bytes, none of the bot's work). */
  readonly replayLoad: LoadResult;
  readonly questionLoad: LoadResult;
  readonly buttonLoad: LoadResult;
  readonly notifications: readonly NotificationResult[];
  /** The what-if run (shorter poll interval), when it ran. */
  readonly whatIf?: NotificationResult;
  readonly loadRounds?: {
    readonly echo: readonly LoadResult[];
    readonly replay: readonly LoadResult[];
    readonly question: readonly LoadResult[];
    readonly button: readonly LoadResult[];
  };
  readonly memory: MemoryResult;
  readonly runSeconds: number;
  readonly pinned: boolean;
}

function machine(): Record<string, string | number> {
  return {
    cpus: machineCpus,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGB: Math.round(os.totalmem() / 1e9),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString().slice(0, 10),
  };
}

function buildReport(m: Measured): { table: string; machineLine: string; json: unknown } {
  const yes = (ok: boolean): string => (ok ? 'yes' : '**no**');
  const turns = (r: LoadResult): string => {
    const failed = r.errors + r.non2xx;
    return `${count(r.turnsPerSecond)} turns/s, p50 ${ms(r.p50Ms)}, p99 ${ms(r.p99Ms)}${failed > 0 ? ` (**${count(failed)} failed requests**)` : ''}`;
  };
  const qThroughput = m.questionLoad.turnsPerSecond / m.echoLoad.turnsPerSecond;
  const qP99 = m.questionLoad.p99Ms / m.echoLoad.p99Ms;
  const rThroughput = m.questionLoad.turnsPerSecond / m.replayLoad.turnsPerSecond;
  const rP99 = m.questionLoad.p99Ms / m.replayLoad.p99Ms;
  const bThroughput = m.buttonLoad.turnsPerSecond / m.echoLoad.turnsPerSecond;
  const bP99 = m.buttonLoad.p99Ms / m.echoLoad.p99Ms;
  const at1000 = m.notifications.find((r) => r.jobs === 1000 && r.pollIntervalMs === notify.pollIntervalMs);
  const notificationMet = at1000 !== undefined && at1000.delivered === at1000.jobs && (at1000.p95Ms ?? Infinity) <= 1000;
  const statusFlat = m.notifications.every((r) => r.statusPerCycleMax <= 1);
  const latency = (r: NotificationResult): string => {
    if (r.delivered === r.jobs) return `${ms(r.p50Ms)}, ${ms(r.p95Ms)} (all posted)`;
    const over = `> ${count(r.wallMs / 1000)} s`;
    // Percentiles over all jobs: one not posted by the end counts as later than any that was.
    return `${r.p50AllMs === null ? over : ms(r.p50AllMs)}, ${r.p95AllMs === null ? over : ms(r.p95AllMs)} (${count(r.delivered)} of ${count(r.jobs)} posted within ${count(r.wallMs / 1000)} s)`;
  };
  const rows: string[][] = [
    ['echo bot (same stack, same connector stand-in)', turns(m.echoLoad), 'baseline', ''],
    [`bot, knowledge question "${question}"`, turns(m.questionLoad), '', ''],
    [
      '... bot/echo: throughput; p99',
      `${ratio(qThroughput)}; ${ratio(qP99)}`,
      '>= 0.90x; <= 1.5x',
      `${yes(qThroughput >= 0.9)}; ${yes(qP99 <= 1.5)}`,
    ],
    ["echo bot replaying the bot's answer (the same 4 KB card, none of the bot's work)", turns(m.replayLoad), '', ''],
    ["... bot/replay: throughput; p99 (the bot's own cost)", `${ratio(rThroughput)}; ${ratio(rP99)}`, '', ''],
    ['bot, decision-tree button (Taunton & Yeovil)', turns(m.buttonLoad), '', ''],
    ['... bot/echo: throughput; p99', `${ratio(bThroughput)}; ${ratio(bP99)}`, '', ''],
    [
      `answering core alone, one core (${m.core.corpusSize} corpus questions)`,
      `${count(m.core.questionsPerSecond)} questions/s`,
      '>= 20,000',
      yes(m.core.questionsPerSecond >= 20_000),
    ],
  ];
  for (const r of m.notifications) {
    const is1000 = r === at1000;
    rows.push([
      `notifications, ${count(r.jobs)} retrievals, ${r.pollIntervalMs} ms poll (the default): done -> posted p50, p95`,
      latency(r),
      is1000 ? 'p95 <= 1 s' : '',
      is1000 ? yes(notificationMet) : '',
    ]);
  }
  if (m.whatIf)
    rows.push([
      `what-if (PACS_POLL_INTERVAL_S=${m.whatIf.pollIntervalMs / 1000}): ${count(m.whatIf.jobs)} retrievals, ${m.whatIf.pollIntervalMs} ms poll`,
      latency(m.whatIf),
      '',
      '',
    ]);
  rows.push([
    `PACS status requests per poll cycle at ${m.notifications.map((r) => count(r.jobs)).join(' / ')} jobs (max)`,
    m.notifications.map((r) => String(r.statusPerCycleMax)).join(' / '),
    'not growing',
    yes(statusFlat),
  ]);
  rows.push([
    '... all PACS requests per cycle (status + batched local checks of the jobs finished in it): mean (max)',
    m.notifications.map((r) => `${r.requestsPerCycleMean.toFixed(0)} (${r.requestsPerCycleMax})`).join(' / '),
    '',
    '',
  ]);
  rows.push([
    `resident memory, ${count(m.memory.references)} conversation references + ${count(m.memory.jobs)} retrievals in flight, after GC`,
    megabytes(m.memory.rssBytes),
    '<= 200 MB',
    yes(m.memory.rssBytes <= 200e6),
  ]);
  const table = [['measured', 'result', 'target', 'met'], ['---', '---', '---', '---'], ...rows]
    .map((cells) => `| ${cells.join(' | ')} |`)
    .join('\n');
  const facts = machine();
  const machineLine =
    `Machine: ${facts.cpus} CPUs (${facts.cpuModel}), ${facts.memoryGB} GB RAM, Node ${facts.node}, ${facts.os}, ${facts.date}. ` +
    `Load: autocannon, ${load.connections} connections, ${load.rounds} rounds alternating echo bot and bot, each ${load.seconds} s measured after a warm-up (excluded) of ${load.warmupSeconds} s on a fresh server, ${load.secondWarmupSeconds} s for the bot's second workload; medians shown; ` +
    `servers ${m.pinned ? 'pinned to their own CPU' : 'not pinned'}. Whole run ${m.runSeconds.toFixed(0)} s.`;
  return {
    table,
    machineLine,
    json: {
      machine: facts,
      settings: { load, notify, whatIf, memoryCount, question, button },
      runSeconds: Math.round(m.runSeconds),
      pinned: m.pinned,
      core: m.core,
      load: { echo: m.echoLoad, replay: m.replayLoad, question: m.questionLoad, button: m.buttonLoad, rounds: m.loadRounds ?? null },
      ratios: {
        questionThroughput: qThroughput,
        questionP99: qP99,
        questionVsReplayThroughput: rThroughput,
        questionVsReplayP99: rP99,
        buttonThroughput: bThroughput,
        buttonP99: bP99,
      },
      notifications: m.notifications,
      whatIf: m.whatIf ?? null,
      memory: m.memory,
      targets: {
        questionThroughput: qThroughput >= 0.9,
        questionP99: qP99 <= 1.5,
        core: m.core.questionsPerSecond >= 20_000,
        notificationP95At1000: notificationMet,
        statusRequestsPerCycleNotGrowing: statusFlat,
        memory: m.memory.rssBytes <= 200e6,
      },
      table,
    },
  };
}

main()
  .then(() => {
    clearTimeout(watchdog);
    removeTmp();
  })
  .catch(async (error: unknown) => {
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    await stopAll();
    removeTmp();
    process.exitCode = 1;
  });
