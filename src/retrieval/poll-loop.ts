/**
 * The poll loop, and its policy in one place. Each cycle frees the leases of instances that fell
 * silent (every few cycles), settles the retrievals that ended, delivers the notifications owed
 * (the outbox) and purges expired audit lines (hourly, when AUDIT_RETENTION_DAYS is set). Cycles
 * never overlap; a cycle still running after the watchdog's time is left behind (logged, and
 * reported as stalled on /readyz?pacs=1) so that one hung call cannot stop everything else.
 */
import { purgeEveryMs, purgeExpiredAudit } from '../audit/audit-retention';
import { AppError, reasonOf } from '../domain/app-error';
import type { Logger } from '../logging/logger';
import { withDeadline } from '../support/deadline';
import { goneOwners } from './lease-owners';
import { deliverNotifications, type DeliveryDeps } from './notification-service';
import { pollRetrievals } from './poll-retrievals';
import type { RetrievalDeps } from './retrieval-deps';

/** The loop's numbers. */
export const pollPolicy = {
  /** A retrieval still not finished this long after its attempt started is failed (timed out). */
  jobTimeoutMs: 30 * 60 * 1000,
  /** How long a notification lease lasts from its claim or its last renewal: longer than any one send. */
  leaseMs: 5 * 60 * 1000,
  /** Leases left by silent instances are looked for every this many cycles (and at the first). */
  releaseEveryCycles: 4,
} as const;

/** How long a cycle may run before the next starts without it: four connector timeouts and 30 s, at least a minute. */
export function defaultWatchdogMs(connectorTimeoutMs: number): number {
  return Math.max(60_000, 4 * connectorTimeoutMs + 30_000);
}

/** The poll loop has a cycle the watchdog left behind, still hung (reported on /readyz?pacs=1). */
export class PollStalledError extends AppError<'stalled'> {
  override readonly name = 'PollStalledError';
  constructor() {
    super('stalled', 'a poll cycle is still hung');
  }
}

/** What the loop needs. */
export interface PollLoopDeps {
  readonly retrieval: RetrievalDeps;
  readonly delivery: DeliveryDeps;
  /** How long a silence means an instance is gone (its leases are then released). */
  readonly silentMs: number;
  /** AUDIT_RETENTION_DAYS; null keeps the audit trail for ever. */
  readonly auditRetentionDays: number | null;
  readonly watchdogMs: number;
  readonly logger: Logger;
  readonly clock: () => Date;
}

/** A running poll loop. */
export interface PollLoop {
  /** One cycle, after any still running (the timer calls it every PACS_POLL_INTERVAL_S). */
  pollOnce(): Promise<void>;
  /** Resolves when the cycles started so far have finished or been left behind. */
  settled(): Promise<void>;
  /** Resolves while the loop is healthy; rejects with PollStalledError while a cycle left behind is still hung. */
  readiness(): Promise<void>;
}

/** Builds the poll loop; nothing runs until `pollOnce` is called. */
export function createPollLoop(deps: PollLoopDeps): PollLoop {
  const { retrieval, delivery, logger, clock } = deps;
  const { store } = retrieval;
  // Retrievals recorded before this process started cannot be being started by it: the first poll resumes them.
  const startedAt = clock();
  let cycles = 0;
  let lastPurge: Date | null = null;
  let polling: Promise<void> = Promise.resolve();
  /** Cycles left behind by the watchdog that have still not finished: a call somewhere is hung. */
  let hungCycles = 0;

  const releaseGoneOwners = async (): Promise<void> => {
    for (const gone of await goneOwners(store, await store.leaseHolders(), delivery.owner, deps.silentMs)) {
      logger.info('leases-released', { released: await store.releaseLeases(gone), reason: 'holder silent' });
    }
  };

  const purgeAuditWhenDue = async (now: Date): Promise<void> => {
    const days = deps.auditRetentionDays;
    if (days === null || (lastPurge && now.getTime() - lastPurge.getTime() < purgeEveryMs)) return;
    const purged = await purgeExpiredAudit(store, now, days);
    // Only a purge that happened waits an hour; a failed one (logged as poll-failed) is tried next cycle.
    lastPurge = now;
    if (purged > 0) logger.info('audit-purged', { purged, retentionDays: days });
  };

  const cycle = async (): Promise<void> => {
    try {
      if (cycles++ % pollPolicy.releaseEveryCycles === 0) await releaseGoneOwners();
      const settled = await pollRetrievals(retrieval, clock(), startedAt);
      for (const { retrieval: r } of settled)
        logger.info('retrieval-settled', { retrieval: r.id, site: r.site, state: r.state, reason: r.failureReason });
      const report = await deliverNotifications(delivery, clock());
      if (report.sent + report.retrying + report.undeliverable > 0) logger.info('notifications', { ...report });
      await purgeAuditWhenDue(clock());
    } catch (error) {
      logger.error('poll-failed', { error: error instanceof Error ? error.name : 'unknown', reason: reasonOf(error) });
    }
  };

  return {
    pollOnce() {
      // Never two polls at once: a slow PACS stretches the cycle instead of piling up requests.
      polling = polling.then(async () => {
        const running = cycle();
        try {
          await withDeadline(running, deps.watchdogMs, 'a poll cycle');
        } catch {
          hungCycles += 1;
          logger.error('poll-stalled', { afterMs: deps.watchdogMs, hungCycles });
          void running.finally(() => {
            hungCycles -= 1;
            logger.info('poll-recovered', { hungCycles });
          });
        }
      });
      return polling;
    },
    settled: () => polling,
    readiness: () => (hungCycles > 0 ? Promise.reject(new PollStalledError()) : Promise.resolve()),
  };
}
