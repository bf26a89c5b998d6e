/**
 * Shared parts of the fault tests (test/faults/*.test.ts), none of which is a test itself:
 * - a loopback stand-in for the Bot Connector that records every request and whose answers a test
 *   can script (429 with Retry-After, 5xx, or hold a request while it breaks something else);
 * - the real bot (createApplication: restify + botbuilder + the real Teams notifier) in-process on a
 *   loopback port, talking to that stand-in, with an injected clock;
 * - restarting a stopped Orthanc of the harness's lab on its own ports, config and storage;
 * - a PostgreSQL server that can be stopped and started again on the same data folder and port;
 * - a second SQLite connection, in another process, that holds the write lock (BEGIN IMMEDIATE) on
 *   demand for a set time;
 * - a consistency check of the store ("nothing half-written").
 * Everything listens on 127.0.0.1; only processes started here are signalled, by their own pid.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { createApplication, type Application, type ApplicationDeps } from '../../src/application';
import { parseConfig, projectRoot } from '../../src/config/config';
import { createMemoryLogger } from '../../src/logging/logger';
import type { PacsPort, StudySummary } from '../../src/ports/pacs-port';
import type { Requester, Retrieval, StorePort } from '../../src/ports/store-port';
import { confirmRetrievals } from '../../src/retrieval/confirm-retrievals';
import { orthancBinary, OrthancServer } from '../support/orthanc-harness';
import { postgresBinDir } from '../support/postgres-harness';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` every `everyMs` until it returns something other than undefined; throws after `timeoutMs` (wall clock). */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Milliseconds elapsed since `start` (process.hrtime.bigint()), for bounds on real processes only. */
export function msSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

// ---------------------------------------------------------------------------------------------
// The stand-in Bot Connector.

/** An activity as the bot posts it to the connector. */
export interface PostedActivity {
  readonly type?: string;
  readonly text?: string;
  readonly attachments?: ReadonlyArray<{ readonly contentType?: string; readonly content?: unknown }>;
  readonly [key: string]: unknown;
}

/** One request the bot made to the stand-in connector. */
export interface ConnectorRequest {
  readonly seq: number;
  readonly method: string;
  readonly path: string;
  /** Decoded from /v3/conversations/{id}/...; null for other paths. */
  readonly conversationId: string | null;
  readonly body: PostedActivity;
  /** When it arrived (process.hrtime.bigint()). */
  readonly at: bigint;
  /** The HTTP status the stand-in answered (0 until answered). */
  status: number;
}

/** How the stand-in answers one request. */
export interface ConnectorAnswer {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

/** Decides the answer to a request; may wait (hold the request) before answering. */
export type Responder = (
  request: ConnectorRequest,
) => ConnectorAnswer | Promise<ConnectorAnswer> | undefined | Promise<ConnectorAnswer | undefined>;

/** All the text a person would read in an activity: its text, and every TextBlock, fact and button title of its cards. */
export function shownText(body: unknown): string {
  const parts: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const n = node as Record<string, unknown>;
      for (const key of ['text', 'title', 'value']) if (typeof n[key] === 'string') parts.push(n[key]);
      for (const [key, value] of Object.entries(n)) if (key !== 'data') walk(value);
    }
  };
  walk(body);
  return parts.join('\n');
}

/** True for a completion message ("... is now on UH Bristol PACS ..."). */
export function isCompletion(request: ConnectorRequest): boolean {
  return request.method === 'POST' && (request.body.text ?? '').includes('is now on UH Bristol PACS');
}

/** A loopback HTTP server playing the Bot Connector service (POST and PUT /v3/conversations/...). */
export class StandInConnector {
  readonly requests: ConnectorRequest[] = [];
  /** Scripted answers; undefined (or a responder returning undefined) means 200 with an id. */
  responder: Responder | undefined;
  private readonly listeners = new Set<(request: ConnectorRequest) => void>();

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(): Promise<StandInConnector> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const connector = new StandInConnector(server, `http://127.0.0.1:${port}/`);
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      let data = '';
      req.on('data', (chunk: Buffer) => (data += chunk.toString()));
      req.on('end', () => void connector.handle(req, res, data));
    });
    return connector;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse, data: string): Promise<void> {
    let body: PostedActivity = {};
    try {
      body = data ? (JSON.parse(data) as PostedActivity) : {};
    } catch {
      // Recorded as an empty body.
    }
    const match = /^\/v3\/conversations\/([^/]+)\//.exec(req.url ?? '');
    const request: ConnectorRequest = {
      seq: this.requests.length + 1,
      method: req.method ?? '',
      path: req.url ?? '',
      conversationId: match ? decodeURIComponent(match[1]!) : null,
      body,
      at: process.hrtime.bigint(),
      status: 0,
    };
    this.requests.push(request);
    let answer: ConnectorAnswer | undefined;
    try {
      answer = await this.responder?.(request);
    } catch {
      answer = { status: 500, body: { error: { code: 'StandInFailure' } } };
    }
    const final = answer ?? { status: 200, body: { id: `activity-${request.seq}` } };
    request.status = final.status;
    if (!res.destroyed) {
      res.writeHead(final.status, { 'content-type': 'application/json', ...final.headers });
      res.end(JSON.stringify(final.body ?? {}));
    }
    for (const listener of this.listeners) listener(request);
  }

  /** Requests (optionally of one conversation) so far. */
  of(conversationId?: string): ConnectorRequest[] {
    return conversationId === undefined ? [...this.requests] : this.requests.filter((r) => r.conversationId === conversationId);
  }

  /** Requests the stand-in accepted (answered 2xx): what reached the clinician. */
  deliveredRequests(conversationId?: string): ConnectorRequest[] {
    return this.of(conversationId).filter((r) => r.status >= 200 && r.status < 300);
  }

  /** Completion messages the stand-in accepted (answered 2xx): what the clinician actually received. */
  deliveredCompletions(conversationId?: string): ConnectorRequest[] {
    return this.of(conversationId).filter((r) => isCompletion(r) && r.status >= 200 && r.status < 300);
  }

  /** Waits for an answered request matching `predicate` (including ones already answered). */
  async waitFor(what: string, predicate: (request: ConnectorRequest) => boolean, timeoutMs: number): Promise<ConnectorRequest> {
    return waitFor(what, () => this.requests.find((r) => r.status !== 0 && predicate(r)), timeoutMs);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

// ---------------------------------------------------------------------------------------------
// The real bot, in-process.

/** The clinician every in-process test plays. */
export const clinician = { id: '29:user-1', name: 'Test Clinician', aadObjectId: '00000000-0000-0000-0000-000000000001' } as const;

/**
 * A retrieval of `study` from Exeter, confirmed and started through the use case for a clinician in chat
 * `chat`, with the chat's conversation reference pointing at `connector`: the state a Confirm leaves.
 */
export async function startedRetrieval(
  parts: { readonly store: StorePort; readonly pacs: PacsPort; readonly connector: StandInConnector },
  chat: string,
  nhsNumber: string,
  study: StudySummary,
  now: Date,
): Promise<Retrieval> {
  const { store, pacs, connector } = parts;
  const requester: Requester = {
    teamsUserId: `29:${chat}`,
    entraObjectId: randomUUID(),
    displayName: 'Dr Test',
    tenantId: 'tenant-1',
    conversationId: chat,
  };
  const reference = {
    channelId: 'msteams',
    serviceUrl: connector.url,
    conversation: { id: chat },
    user: { id: requester.teamsUserId },
    bot: { id: '28:bot' },
  };
  await store.saveReference({ ...requester, reference: JSON.stringify(reference), updatedAt: now.toISOString() });
  const [started] = await confirmRetrievals(
    nhsNumber,
    [{ site: 'exeter', study }],
    requester,
    { pacs, store, queryTimeoutMs: 1000 },
    now,
    randomUUID,
  );
  if (started?.outcome.kind !== 'started') throw new Error(`the retrieval did not start: ${started?.outcome.kind ?? 'nothing recorded'}`);
  return started.outcome.retrieval;
}

let activitySequence = 0;

/**
 * The real application (createApplication) on a free loopback port, with the caller's clock,
 * SQLite or PostgreSQL store and PACS, and no poll timer: the test calls pollOnce().
 */
export class InProcessBot {
  private constructor(
    readonly logger: ReturnType<typeof createMemoryLogger>,
    readonly app: Application,
    readonly url: string,
    readonly connector: StandInConnector,
  ) {}

  static async start(options: {
    readonly env: Record<string, string>;
    readonly clock: () => Date;
    readonly connector: StandInConnector;
    readonly store?: StorePort;
    readonly pacs?: PacsPort;
    /** Lease length, heartbeats, poll watchdog: the application's defaults unless given. */
    readonly tuning?: Pick<ApplicationDeps, 'leaseMs' | 'liveness' | 'pollWatchdogMs'>;
  }): Promise<InProcessBot> {
    const config = parseConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      CARD_SIGNING_SECRET: 'a-fixed-secret-for-the-fault-tests-0123456789',
      ...options.env,
    });
    const logger = createMemoryLogger('debug');
    const app = await createApplication(config, {
      logger,
      clock: options.clock,
      pollIntervalMs: 0,
      ...(options.store ? { store: options.store } : {}),
      ...(options.pacs ? { pacs: options.pacs } : {}),
      ...options.tuning,
    });
    const port = await app.listen();
    return new InProcessBot(logger, app, `http://127.0.0.1:${port}`, options.connector);
  }

  /** Log events (JSON lines parsed), for checks that something was logged rather than thrown. */
  events(name: string): Array<Record<string, unknown>> {
    return this.logger.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === name);
  }

  /** Posts an activity as Teams would; resolves with the HTTP status. */
  async send(activity: Record<string, unknown>, at: Date, conversationId = 'a:personal-chat'): Promise<number> {
    activitySequence += 1;
    const body = {
      type: 'message',
      id: `activity-${activitySequence}`,
      timestamp: at.toISOString(),
      channelId: 'msteams',
      serviceUrl: this.connector.url,
      from: clinician,
      recipient: { id: '28:bot', name: 'Image Sharing' },
      conversation: { id: conversationId, conversationType: 'personal', tenantId: 'tenant-1' },
      ...activity,
    };
    const res = await fetch(`${this.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    await res.text();
    return res.status;
  }

  say(text: string, at: Date): Promise<number> {
    return this.send({ text }, at);
  }

  press(value: unknown, at: Date, replyToId?: string): Promise<number> {
    return this.send({ value, ...(replyToId ? { replyToId } : {}) }, at);
  }

  /**
   * Posts "find images for ..." and waits for its slow part: the HTTP status, the replies it caused
   * (`later`: all but the "Searching..." one), how long the turn and the whole took.
   */
  async search(
    at: Date,
    text = 'find images for 943 476 5919',
  ): Promise<{ status: number; replies: ConnectorRequest[]; later: ConnectorRequest[]; turnMs: number; ms: number }> {
    const before = this.connector.requests.length;
    const started = process.hrtime.bigint();
    const status = await this.say(text, at);
    const turnMs = msSince(started);
    await this.app.idle();
    const ms = msSince(started);
    const replies = this.connector.requests.slice(before).filter((r) => r.method === 'POST');
    return { status, replies, later: replies.filter((r) => !(r.body.text ?? '').startsWith('Searching')), turnMs, ms };
  }

  /** Searches, ticks the studies whose descriptions are given, and returns the "Confirm retrieval" button's data. */
  async confirmButtonFor(descriptions: readonly string[], at: Date): Promise<Record<string, unknown>> {
    const { replies } = await this.search(at);
    const studies = replies.find((r) => JSON.stringify(r.body).includes('Retrieve selected'));
    if (!studies) throw new Error(`no studies card; replies: ${replies.map((r) => shownText(r.body)).join(' | ')}`);
    const picks = Object.fromEntries(descriptions.map((d) => [pickId(studies.body, d), 'true']));
    const before = this.connector.requests.length;
    const status = await this.press({ ...submitAction(studies.body, 'Retrieve selected').data, ...picks }, at);
    if (status !== 200) throw new Error(`the pick was answered ${status}`);
    const confirm = this.connector.requests.slice(before).find((r) => JSON.stringify(r.body).includes('Confirm retrieval'));
    if (!confirm) throw new Error('no confirmation card');
    return submitAction(confirm.body, 'Confirm retrieval').data;
  }

  /** Presses Confirm on status card `cardId` and waits for the slow part: the HTTP status and the text of the replies after "Starting...". */
  async pressConfirm(data: Record<string, unknown>, at: Date, cardId: string): Promise<{ status: number; later: string; ms: number }> {
    const before = this.connector.requests.length;
    const started = process.hrtime.bigint();
    const status = await this.press(data, at, cardId);
    await this.app.idle();
    const later = this.connector.requests
      .slice(before)
      .filter((r) => r.method === 'POST' && !(r.body.text ?? '').startsWith('Starting the retrieval'))
      .map((r) => shownText(r.body))
      .join('\n');
    return { status, later, ms: msSince(started) };
  }

  /** The text of every message posted since request number `since` (connector.requests.length before). */
  postedSince(since: number): string {
    return this.connector.requests
      .slice(since)
      .filter((r) => r.method === 'POST')
      .map((r) => shownText(r.body))
      .join('\n');
  }

  /** The clinician's retrieval of a study, if any. */
  async retrievalOf(studyInstanceUid: string): Promise<Retrieval | undefined> {
    return (await this.retrievals()).find((r) => r.study.studyInstanceUid === studyInstanceUid);
  }

  /** Every retrieval of the test clinician, newest first. */
  retrievals(): Promise<Retrieval[]> {
    return this.app.store.retrievalsFor(clinician.id, 100);
  }

  async stop(): Promise<void> {
    await this.app.close();
  }
}

/** The card's Action.Submit whose title is `title`, with its data. */
export function submitAction(body: unknown, title: string): { data: Record<string, unknown> } {
  let found: { data: Record<string, unknown> } | undefined;
  const walk = (node: unknown): void => {
    if (found) return;
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const n = node as Record<string, unknown>;
      if (n.type === 'Action.Submit' && n.title === title) found = { data: n.data as Record<string, unknown> };
      else Object.values(n).forEach(walk);
    }
  };
  walk(body);
  if (!found) throw new Error(`no "${title}" button on ${JSON.stringify(body).slice(0, 300)}`);
  return found;
}

/** The id of the pick toggle ("pick-N") whose title mentions `description`, on a studies card. */
export function pickId(body: unknown, description: string): string {
  const match = new RegExp(`"id":"(pick-\\d+)","title":"[^"]*${description}`).exec(JSON.stringify(body));
  if (!match) throw new Error(`no pick for ${description} on the studies card`);
  return match[1]!;
}

// ---------------------------------------------------------------------------------------------
// "Nothing half-written": what the store must look like between operations.

/**
 * Problems with the clinician's retrievals in the store: a retrieval left 'requested' (a start
 * that never finished: nothing will ever move it on), a transition chain that does not end in the
 * retrieval's state, or an ending without exactly one notification. Empty = consistent.
 */
export async function storeProblems(store: StorePort, teamsUserId: string): Promise<string[]> {
  const problems: string[] = [];
  for (const r of await store.retrievalsFor(teamsUserId, 100)) {
    const label = `${r.study.description} (${r.id.slice(0, 8)})`;
    if (r.state === 'requested') problems.push(`${label} is left 'requested' with no PACS job recorded`);
    if (r.state === 'retrieving' && !r.pacsJobId) problems.push(`${label} is 'retrieving' without a PACS job id`);
    const moves = await store.transitions(r.id);
    let previous: string | null = null;
    for (const move of moves) {
      if (move.from !== previous)
        problems.push(`${label}: transition ${String(move.from)} -> ${move.to} does not follow ${String(previous)}`);
      previous = move.to;
    }
    if (previous !== r.state) problems.push(`${label}: transitions end in ${String(previous)} but the retrieval is ${r.state}`);
    const endings = moves.filter((m) => m.to === 'stored' || m.to === 'failed').length;
    const notes = await store.notificationsFor(r.id);
    if (notes.length !== endings) problems.push(`${label}: ${endings} ending(s) but ${notes.length} notification(s)`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Orthanc: restart a stopped server, inspect and tidy LOCAL through the admin account.

/**
 * Starts a stopped lab server again with the same config file, log, ports and storage (its index
 * and stored studies survive; its jobs do not: the harness runs Orthanc with SaveJobs false).
 * The caller stops the returned server (lab.stop() only knows the servers it started).
 */
export async function restartOrthanc(stopped: OrthancServer): Promise<OrthancServer> {
  if (stopped.running) throw new Error(`${stopped.name} is still running`);
  const dir = path.dirname(stopped.logFile);
  const configFile = path.join(dir, 'orthanc.json');
  let lastError: unknown;
  // The old process's sockets may linger a moment: a start that fails at once is tried again.
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    const out = fs.openSync(stopped.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(orthancBinary, [`--logfile=${stopped.logFile}`, configFile], { cwd: dir, stdio: ['ignore', out, out] });
    } finally {
      fs.closeSync(out);
    }
    const server = new OrthancServer(stopped.name, stopped.aet, stopped.httpPort, stopped.dicomPort, stopped.logFile, child);
    try {
      await server.waitReady(30_000);
      return server;
    } catch (error) {
      lastError = error;
      await server.stop();
      await sleep(500);
    }
  }
  throw lastError;
}

/** Orthanc's ids of the studies with this StudyInstanceUID on `server`. */
export async function orthancStudyIds(server: OrthancServer, studyInstanceUid: string): Promise<string[]> {
  return server.request<string[]>('POST', '/tools/find', { Level: 'Study', Query: { StudyInstanceUID: studyInstanceUid } });
}

/** Deletes the study from `server` if it holds it (to retrieve it again in a later trial). */
export async function deleteStudy(server: OrthancServer, studyInstanceUid: string): Promise<void> {
  for (const id of await orthancStudyIds(server, studyInstanceUid)) await server.request('DELETE', `/studies/${id}`);
}

/** The jobs Orthanc knows, expanded. */
export async function orthancJobs(
  server: OrthancServer,
): Promise<Array<{ ID: string; State: string; Type: string; CreationTime: string }>> {
  return server.request('GET', '/jobs?expand');
}

// ---------------------------------------------------------------------------------------------
// A PostgreSQL server that can be stopped and started again.

function postgresUser(): { uid: number; gid: number } | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined)
    throw new Error('running as root, but there is no `postgres` system user to run PostgreSQL as');
  return { uid: Number(uid), gid: Number(gid) };
}

async function freeLoopbackPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Postmasters started here and not yet seen stopped (with their folders): stopped at once, and the folder removed, if the test process exits first. */
const livePostmasters = new Map<ChildProcess, string>();
process.once('exit', () => {
  for (const [child, folder] of livePostmasters) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGQUIT');
    fs.rmSync(folder, { recursive: true, force: true });
  }
});

/**
 * A throwaway PostgreSQL server (initdb in a temp folder, trust auth, fsync off) on a fixed loopback
 * port, which stop() shuts down (fast shutdown) and start() brings back on the same data and port:
 * what a database restart looks like to the bot. (test/support/postgres-harness.ts removes its folder
 * on stop, so it cannot restart a server.)
 */
export class RestartablePostgres {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    private readonly bin: string,
    private readonly folder: string,
    readonly port: number,
    private readonly user: { uid: number; gid: number } | null,
  ) {}

  static async create(): Promise<RestartablePostgres> {
    const bin = postgresBinDir();
    if (bin === null) throw new Error('PostgreSQL is not installed');
    const user = postgresUser();
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-fault-'));
    fs.mkdirSync(path.join(folder, 'sockets'));
    if (user) for (const entry of [folder, path.join(folder, 'sockets')]) fs.chownSync(entry, user.uid, user.gid);
    const server = new RestartablePostgres(bin, folder, await freeLoopbackPort(), user);
    const init = spawnSync(
      path.join(bin, 'initdb'),
      ['-D', path.join(folder, 'data'), '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'],
      { cwd: folder, env: server.env(), encoding: 'utf8', timeout: 60_000, ...(user ?? {}) },
    );
    if (init.status !== 0) {
      fs.rmSync(folder, { recursive: true, force: true });
      throw new Error(`initdb failed: ${init.stderr}${init.stdout}`);
    }
    try {
      await server.start();
    } catch (error) {
      await server.destroy();
      throw error;
    }
    return server;
  }

  private env(): NodeJS.ProcessEnv {
    return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: this.folder, LC_ALL: 'C', LANG: 'C', TZ: 'UTC' };
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The postmaster's pid while running. */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  url(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** Starts the postmaster on the data folder and port; resolves when it accepts connections. */
  async start(): Promise<void> {
    if (this.running) return;
    const out = fs.openSync(path.join(this.folder, 'postgres.log'), 'a');
    let child: ChildProcess;
    try {
      child = spawn(
        path.join(this.bin, 'postgres'),
        [
          '-D',
          path.join(this.folder, 'data'),
          '-p',
          String(this.port),
          '-k',
          path.join(this.folder, 'sockets'),
          '-c',
          'listen_addresses=127.0.0.1',
          '-c',
          'fsync=off',
          '-c',
          'logging_collector=off',
        ],
        { cwd: this.folder, env: this.env(), stdio: ['ignore', out, out], ...(this.user ?? {}) },
      );
    } finally {
      fs.closeSync(out);
    }
    this.child = child;
    livePostmasters.set(child, this.folder);
    this.exited = new Promise((resolve) => {
      child.once('exit', () => {
        livePostmasters.delete(child);
        resolve();
      });
      child.once('error', () => resolve());
    });
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`postgres exited during start; log:\n${this.logTail()}`);
      try {
        await this.query('postgres', 'SELECT 1');
        return;
      } catch {
        await sleep(50);
      }
    }
    throw new Error(`postgres did not accept connections; log:\n${this.logTail()}`);
  }

  /** Fast shutdown (SIGINT to the postmaster's own pid), SIGKILL if it is still alive after 15 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.kill('SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), 15_000))),
    ]);
    clearTimeout(timer);
    if (late && this.running) {
      child.kill('SIGKILL');
      await this.exited;
    }
  }

  async query(database: string, sql: string): Promise<void> {
    const client = new pg.Client({ host: '127.0.0.1', port: this.port, user: 'postgres', database, connectionTimeoutMillis: 5_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query(sql);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async createDatabase(name: string): Promise<string> {
    await this.query('postgres', `CREATE DATABASE "${name.replace(/[^a-z0-9_]/g, '_')}" TEMPLATE template0 ENCODING 'UTF8'`);
    return this.url(name.replace(/[^a-z0-9_]/g, '_'));
  }

  logTail(lines = 20): string {
    try {
      return fs.readFileSync(path.join(this.folder, 'postgres.log'), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Stops the server and removes its folder. */
  async destroy(): Promise<void> {
    await this.stop();
    fs.rmSync(this.folder, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// A second SQLite connection, in another process, holding the write lock.

const lockerScript = `
const Database = require('better-sqlite3');
const db = new Database(process.env.LOCK_FILE, { timeout: 10000 });
const say = (line) => process.stdout.write(line + '\\n');
let timer = null;
const release = () => {
  if (timer === null) return;
  clearTimeout(timer);
  timer = null;
  db.exec('COMMIT');
  say('released');
};
let buffered = '';
process.stdin.on('data', (chunk) => {
  buffered += chunk.toString();
  let at;
  while ((at = buffered.indexOf('\\n')) >= 0) {
    const [command, arg] = buffered.slice(0, at).trim().split(' ');
    buffered = buffered.slice(at + 1);
    if (command === 'lock') {
      db.exec('BEGIN IMMEDIATE');
      timer = setTimeout(release, Math.min(Number(arg), 60000));
      say('locked');
    } else if (command === 'unlock') {
      release();
    }
  }
});
process.stdin.on('end', () => {
  release();
  db.close();
  process.exit(0);
});
say('ready');
`;

/**
 * Another connection to the bot's SQLite file, in a child process (so it keeps its own timers
 * while better-sqlite3 blocks the test's thread in its busy wait), that takes the write lock with
 * BEGIN IMMEDIATE and releases it (COMMIT) when told, or after a set time by itself.
 */
export class SqliteLocker {
  private output = '';
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  static async start(file: string): Promise<SqliteLocker> {
    const child = spawn(process.execPath, ['-e', lockerScript], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH ?? '', LOCK_FILE: file },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const locker = new SqliteLocker(child);
    await locker.until('ready', 10_000);
    return locker;
  }

  private count(word: string): number {
    return this.output.split('\n').filter((l) => l === word).length;
  }

  private async until(word: string, timeoutMs: number, after = 0): Promise<void> {
    await waitFor(
      `the SQLite locker to say ${word} (output: ${this.output.trim()})`,
      () => (this.count(word) > after ? true : undefined),
      timeoutMs,
      5,
    );
  }

  /**
   * Takes the write lock (waiting for the bot's own transaction if one is open); resolves once held.
   * It is released by unlock(), or by the process itself after `holdMs` (at most 60 s).
   */
  async lock(holdMs = 60_000): Promise<void> {
    const before = this.count('locked');
    this.child.stdin?.write(`lock ${holdMs}\n`);
    await this.until('locked', 15_000, before);
  }

  /** Releases the lock now (COMMIT); resolves once released. */
  async unlock(): Promise<void> {
    const before = this.count('released');
    if (before >= this.count('locked')) return;
    this.child.stdin?.write('unlock\n');
    await this.until('released', 15_000, before);
  }

  /** Resolves when the lock taken by the `n`th lock() (1-based) has been released. */
  async released(n: number, timeoutMs = 70_000): Promise<void> {
    await this.until('released', timeoutMs, n - 1);
  }

  /** Ends the process (releasing any lock); SIGKILL by its pid if it does not go within 5 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin?.end();
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), 5_000))),
    ]);
    clearTimeout(timer);
    if (late) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}
