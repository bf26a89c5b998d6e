/**
 * Assembles the bot from its parts for a given configuration. `src/index.ts` (the composition
 * root) calls it with the real environment; tests call it with their own logger, clock and parts.
 */
import fs from 'node:fs';
import path from 'node:path';
import type restify from 'restify';
import { bankHolidaysFileFor, loadGuideFile } from './adapters/guide-file';
import { listEndsWithinYear } from './domain/time/bank-holidays';
import { createDemoPacs } from './adapters/pacs/demo-pacs';
import { createOrthancPacs } from './adapters/pacs/orthanc-pacs';
import { openStore } from './adapters/store/open-store';
import { loadCardRenderer, type CardRenderer } from './cards/card-renderer';
import { projectRoot, type Config } from './config/config';
import type { RetrievalConversationDeps } from './conversation/retrieval-context';
import { createSigner } from './conversation/signed-data';
import { isReviewOverdue, monthYear, type Guide } from './domain/guide/guide';
import { buildKnowledge } from './domain/questions/answer-question';
import type { Logger } from './logging/logger';
import type { PacsPort } from './ports/pacs-port';
import type { StorePort } from './ports/store-port';
import { beat, defaultLiveness, goneOwners, instanceId, type Liveness } from './retrieval/lease-owners';
import { createPollLoop, defaultWatchdogMs, pollPolicy, type PollLoop } from './retrieval/poll-loop';
import { createTeamsNotifier } from './adapters/notifier/teams-notifier';
import { composeNotification } from './conversation/retrieval-notification';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { createAdapter, createServer, type HealthInfo } from './teams/http-server';
import { loopbackUrl, registerDevChat } from './dev/dev-chat';
import { TeamsBot } from './teams/teams-bot';
import { createSearchLimiter } from './retrieval/gatekeeper';
import { reasonOf } from './domain/app-error';
import type { AccessRules } from './retrieval/access';
import type { RetrievalDeps } from './retrieval/retrieval-deps';

/** A built bot, ready to listen. */
export interface Application {
  readonly guide: Guide;
  readonly server: restify.Server;
  readonly store: StorePort;
  readonly pacs: PacsPort;
  /** Starts listening (and following retrievals); resolves with the bound port (useful with PORT=0). */
  listen(): Promise<number>;
  /** Resolves when slow work started by turns so far has been posted. */
  idle(): Promise<void>;
  /** One poll of the retrievals in flight (the timer calls it every PACS_POLL_INTERVAL_S). */
  pollOnce(): Promise<void>;
  /** Stops accepting requests, lets in-flight work finish, stops polling, closes the store. */
  close(): Promise<void>;
}

/** What the application takes from outside besides its configuration. */
export interface ApplicationDeps {
  readonly logger: Logger;
  /** Used only when an activity carries no timestamp, for start-up checks and for polling. */
  readonly clock: () => Date;
  /** Overrides for tests: a PACS and a store instead of the configured ones. */
  readonly pacs?: PacsPort;
  readonly store?: StorePort;
  /** Poll interval in ms (default: the configured PACS_POLL_INTERVAL_S); 0 = no timer (tests call pollOnce). */
  readonly pollIntervalMs?: number;
  /** How long a poll cycle may run before the next one starts without it (default: 4 connector timeouts + 30 s, at least 60 s). */
  readonly pollWatchdogMs?: number;
  /** Heartbeat interval and the silence that means an instance is gone (default: 1 s and 5 s). */
  readonly liveness?: Liveness;
  /** How long a notification lease lasts from its claim or renewal (default 5 minutes). */
  readonly leaseMs?: number;
  /** Most messages posted into one chat in any second (default 7, Teams' limit); a test crawling every button raises it. */
  readonly perConversationPerSecond?: number;
}

function createPacs(config: Config): PacsPort {
  switch (config.pacs.backend) {
    case 'demo':
      return createDemoPacs();
    case 'orthanc':
      return createOrthancPacs({
        url: config.pacs.orthancUrl,
        username: config.pacs.username,
        password: config.pacs.password,
        localAet: config.pacs.localAet,
        sites: config.pacs.sites,
      });
  }
}

/** What an operator should know at start: the guide's review is overdue, bank holidays run out, no authentication. */
function warnAtStart(config: Config, guide: Guide, logger: Logger, now: Date): void {
  if (isReviewOverdue(guide, now)) {
    logger.warn('guide-review-overdue', {
      guide: guide.document.title,
      version: guide.document.version,
      reviewDate: monthYear(guide.document.reviewDate),
    });
  }
  if (listEndsWithinYear(guide.bankHolidays, now)) {
    logger.warn('bank-holidays-list-ending', {
      listedUntil: guide.bankHolidays.listedUntil,
      file: path.relative(projectRoot, bankHolidaysFileFor(config.guideFile)),
      detail:
        'Proclaimed bank holidays are listed for less than a year ahead: check ' +
        'https://www.gov.uk/bank-holidays, add any new ones and set listedUntil.',
    });
  }
  if (config.mode === 'development' && !config.microsoftApp.appId) {
    logger.warn('development-mode', {
      detail:
        'MicrosoftAppId is empty: requests are NOT authenticated and replies are unsigned. Use ' +
        'only for local testing (Bot Framework Emulator).',
    });
  }
}

/** What /healthz reports besides its status. */
function healthOf(version: string, guide: Guide, now: Date): HealthInfo {
  return {
    version,
    guide: {
      title: guide.document.title,
      version: guide.document.version,
      reviewDate: guide.document.reviewDate,
      reviewOverdue: isReviewOverdue(guide, now),
    },
    bankHolidays: { listedUntil: guide.bankHolidays.listedUntil, endingSoon: listEndsWithinYear(guide.bankHolidays, now) },
  };
}

/** The access rules, the retrieval use cases' dependencies, and the retrieval conversation's. */
function retrievalParts(
  config: Config,
  parts: {
    readonly guide: Guide;
    readonly cards: CardRenderer;
    readonly pacs: PacsPort;
    readonly store: StorePort;
    readonly demo: boolean;
  },
): { access: AccessRules; retrievalDeps: RetrievalDeps; retrieval: RetrievalConversationDeps } {
  const { guide, cards, pacs, store, demo } = parts;
  const access = {
    mode: config.mode,
    allowedTenantIds: config.access.allowedTenantIds,
    retrievalAllowedUsers: config.access.retrievalAllowedUsers,
  };
  const retrievalDeps = {
    pacs,
    store,
    queryTimeoutMs: config.pacs.queryTimeoutMs,
    jobTimeoutMs: pollPolicy.jobTimeoutMs,
  };
  const retrieval: RetrievalConversationDeps = {
    ...retrievalDeps,
    guide,
    cards,
    signer: createSigner(config.cardSigningSecret, config.previousCardSigningSecret),
    access,
    zone: config.timeZone,
    searches: createSearchLimiter(config.access.searchesPerMinute),
    viewerUrlTemplate: config.viewerUrlTemplate,
    demo,
  };
  return { access, retrievalDeps, retrieval };
}

/** What runs once built: listening, the poll and heartbeat timers, and a graceful close. */
function lifecycle(parts: {
  readonly config: Config;
  readonly deps: ApplicationDeps;
  readonly server: restify.Server;
  readonly bot: TeamsBot;
  readonly poll: PollLoop;
  readonly store: StorePort;
  readonly owner: string;
  readonly liveness: Liveness;
}): Pick<Application, 'listen' | 'idle' | 'pollOnce' | 'close'> {
  const { config, deps, server, bot, poll, store, owner, liveness } = parts;
  const { logger } = deps;
  // Beats on a timer of its own, so a long poll cycle or send never makes this instance look gone.
  const heartbeat = (): Promise<void> =>
    beat(store, owner).catch((error: unknown) => logger.warn('heartbeat-failed', { reason: reasonOf(error) }));
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let timer: NodeJS.Timeout | undefined;
  return {
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          const { port } = server.address();
          const interval = deps.pollIntervalMs ?? config.pacs.pollIntervalMs;
          if (interval > 0) timer = setInterval(() => void poll.pollOnce(), interval);
          heartbeatTimer = setInterval(() => void heartbeat(), liveness.heartbeatMs);
          heartbeatTimer.unref();
          logger.info('listening', { host: config.host, port, mode: config.mode, pacs: config.pacs.backend });
          resolve(port);
        });
      }),
    idle: () => bot.idle(),
    pollOnce: () => poll.pollOnce(),
    close: async () => {
      clearInterval(timer);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Idle keep-alive sockets would otherwise hold close() open.
        server.server.closeIdleConnections();
      });
      await bot.idle();
      await poll.settled();
      clearInterval(heartbeatTimer);
      // Stopped cleanly: read as gone at once, so another instance need not wait out the silence.
      await store.retireOwner(owner).catch(() => undefined);
      await store.close();
    },
  };
}

/** Builds the bot; throws ConfigError, GuideError, CardError or StoreError when something is wrong at start. */
export async function createApplication(config: Config, deps: ApplicationDeps): Promise<Application> {
  const { logger, clock } = deps;
  const guide = loadGuideFile(config.guideFile);
  const cards = loadCardRenderer(path.join(projectRoot, 'cards'));
  const { version } = JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string };
  warnAtStart(config, guide, logger, clock());

  const pacs = deps.pacs ?? createPacs(config);
  // An embedded database's clock is this host's: the application's.
  const store = deps.store ?? openStore(config.databaseUrl, { clock });
  await store.migrate();
  // Unique per process, so leases and activity claims tell instances (and a restarted process) apart;
  // whether an instance is still there is read from its heartbeats, never from its name.
  const owner = instanceId(os.hostname(), randomUUID());
  const liveness = deps.liveness ?? defaultLiveness;
  await beat(store, owner);
  if (config.pacs.backend === 'demo' && !deps.pacs)
    logger.warn('demo-pacs', { detail: 'PACS_BACKEND=demo: synthetic patients and sites only.' });

  const { access, retrievalDeps, retrieval } = retrievalParts(config, {
    guide,
    cards,
    pacs,
    store,
    demo: config.pacs.backend === 'demo' && !deps.pacs,
  });
  const adapter = createAdapter(config, logger);
  const ownership = {
    owner,
    isGone: async (other: string) => (await goneOwners(store, [other], owner, liveness.silentMs)).length === 1,
    // Long enough for an owner killed a moment ago to fall silent.
    waitMs: liveness.silentMs + liveness.heartbeatMs,
  };
  // Every message the bot posts (turn replies, later replies, notifications) goes through this one notifier.
  const notifier = createTeamsNotifier({
    adapter,
    appId: config.microsoftApp.appId,
    logger,
    attemptTimeoutMs: config.connectorTimeoutMs,
    ...(deps.perConversationPerSecond ? { perConversationPerSecond: deps.perConversationPerSecond } : {}),
  });
  const bot = new TeamsBot(
    { access, guide, knowledge: buildKnowledge(guide, config.timeZone), cards, zone: config.timeZone },
    retrieval,
    notifier,
    logger,
    clock,
    ownership,
    { connectorTimeoutMs: config.connectorTimeoutMs },
  );
  const server = createServer(adapter, bot, () => healthOf(version, guide, clock()), logger, {
    serving: { database: () => store.ping() },
    pacsSide: { pacs: () => pacs.ping(), poll: () => poll.readiness() },
  });
  // Development only: a browser chat at / that plays the Teams channel (never registered in production).
  if (config.mode === 'development') {
    registerDevChat(server, {
      botUrl: () => loopbackUrl(server, config.host),
      logger,
      clock,
      publicDir: path.join(projectRoot, 'public'),
      timeZone: config.timeZone,
    });
  }
  const poll = createPollLoop({
    retrieval: retrievalDeps,
    delivery: {
      store,
      notifier,
      owner,
      leaseMs: deps.leaseMs ?? pollPolicy.leaseMs,
      leaseClock: async () => new Date(await store.clockNow()),
      unrecorded: new Map(),
      compose: composeNotification(retrieval),
    },
    silentMs: liveness.silentMs,
    auditRetentionDays: config.auditRetentionDays,
    watchdogMs: deps.pollWatchdogMs ?? defaultWatchdogMs(config.connectorTimeoutMs),
    logger,
    clock,
  });
  return { guide, server, store, pacs, ...lifecycle({ config, deps, server, bot, poll, store, owner, liveness }) };
}
