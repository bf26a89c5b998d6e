/**
 * Notifications benchmark (one run, in a fresh process): N retrievals in flight on a simulated PACS
 * (FakePacs) that finishes them at random times, uniform over a window; the real bot's poll cycle
 * (app.pollOnce, on a 1 s setInterval: exactly what the app's own timer does, but counted here) settles them and the
 * real Teams notifier posts the proactive messages to the connector stand-in.
 *
 * Measured per job: from "the PACS reports done" (the instant completeJob is called) to "the
 * proactive message is posted" (the instant the connector stand-in receives its POST); and the
 * PACS requests of every poll cycle.
 *
 * Usage (started by run-bench): node notifications.js <jobs> <connectorUrl> <databaseFile> <windowMs> <capMs> <seed> [pollIntervalMs, default 1000]
 */
import { runChild } from './child-main';
import { buildWorld } from './retrieval-world';
import { percentile, seededRandom, wallMs } from './stats';

/** What one notification run measured. */
export interface NotificationResult {
  readonly jobs: number;
  readonly windowMs: number;
  readonly capMs: number;
  readonly pollIntervalMs: number;
  readonly setupMs: number;
  readonly delivered: number;
  readonly duplicates: number;
  /** Latencies from "done" to "posted", over delivered jobs, in ms. */
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly maxMs: number | null;
  /** p50 and p95 over all jobs, counting those not posted as later than any posted: null when too few were posted to know. */
  readonly p50AllMs: number | null;
  readonly p95AllMs: number | null;
  readonly cycles: number;
  /** PACS requests per poll cycle (cycles with jobs in flight): status queries and per-job verifications. */
  readonly statusPerCycleMax: number;
  readonly verifyPerCycleMax: number;
  readonly requestsPerCycleMean: number;
  readonly requestsPerCycleMax: number;
  /** Longest poll cycle (settle + deliver), ms. */
  readonly cycleMsMax: number;
  readonly cycleMsMean: number;
  readonly wallMs: number;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return (await res.json()) as T;
}

async function main(): Promise<NotificationResult> {
  const [jobsArg, connectorUrl, databaseFile, windowArg, capArg, seedArg, intervalArg] = process.argv.slice(2);
  const pollIntervalMs = Number(intervalArg ?? 1000);
  const jobs = Number(jobsArg);
  const windowMs = Number(windowArg);
  const capMs = Number(capArg);
  if (!connectorUrl || !databaseFile || !(jobs > 0) || !(windowMs > 0) || !(capMs > 0) || !(pollIntervalMs > 0)) {
    throw new Error('usage: notifications <jobs> <connectorUrl> <databaseFile> <windowMs> <capMs> <seed> [pollIntervalMs]');
  }
  const random = seededRandom(Number(seedArg ?? 7));

  const setupStart = wallMs();
  const world = await buildWorld({ jobs, databaseFile, connectorUrl });
  const setupMs = wallMs() - setupStart;
  const { app, pacs } = world;
  const index = new Map(world.jobs.map((job, i) => [job.conversationId, i]));

  // When each job finishes: uniform over the window, in a reproducible order.
  const plan = world.jobs.map((job, i) => ({ i, jobId: job.jobId, at: random() * windowMs })).sort((a, b) => a.at - b.at);
  const doneAt = new Array<number>(jobs).fill(Number.NaN);

  await getJson(`${connectorUrl}/__bench/record`);
  const start = wallMs();

  // The PACS: completes every job that is due, then sleeps until the next one is.
  let next = 0;
  let completer: NodeJS.Timeout | undefined;
  const complete = (): void => {
    const elapsed = wallMs() - start;
    while (next < plan.length && plan[next]!.at <= elapsed) {
      const job = plan[next]!;
      doneAt[job.i] = wallMs();
      pacs.fake.completeJob(job.jobId);
      next += 1;
    }
    if (next < plan.length) completer = setTimeout(complete, Math.max(0, plan[next]!.at - (wallMs() - start)));
  };
  complete();

  // The bot's poll cycle, as the app's timer runs it; each cycle's PACS requests are counted.
  const cycles: Array<{ status: number; verify: number; ms: number }> = [];
  let last = { ...pacs.counts };
  const poll = (): void => {
    const began = wallMs();
    void app.pollOnce().then(() => {
      // Cycles run one after another (pollOnce chains them), so the counts since the last end are this cycle's.
      const now = { ...pacs.counts };
      cycles.push({ status: now.status - last.status, verify: now.verify - last.verify, ms: wallMs() - began });
      last = now;
    });
  };
  const poller = setInterval(poll, pollIntervalMs);

  // Wait until every job's message has been posted, or the cap after the window has passed.
  const deadline = start + windowMs + capMs;
  let recorded = 0;
  while (wallMs() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    recorded = (await getJson<{ recorded: number }>(`${connectorUrl}/__bench/stats`)).recorded;
    if (recorded >= jobs && next >= plan.length) break;
  }
  clearInterval(poller);
  clearTimeout(completer);
  const end = wallMs();
  await app.pollOnce().catch(() => undefined);

  const posts = await getJson<Array<[string, number]>>(`${connectorUrl}/__bench/posts`);
  const postedAt = new Array<number>(jobs).fill(Number.NaN);
  let duplicates = 0;
  for (const [conversationId, at] of posts) {
    const i = index.get(conversationId);
    if (i === undefined) continue;
    if (Number.isNaN(postedAt[i]!)) postedAt[i] = at;
    else duplicates += 1;
  }
  const latencies: number[] = [];
  for (let i = 0; i < jobs; i += 1) if (!Number.isNaN(postedAt[i]!) && !Number.isNaN(doneAt[i]!)) latencies.push(postedAt[i]! - doneAt[i]!);
  latencies.sort((a, b) => a - b);
  const delivered = latencies.length;

  const active = cycles.filter((c) => c.status > 0);
  const requests = active.map((c) => c.status + c.verify);
  const result: NotificationResult = {
    jobs,
    windowMs,
    capMs,
    pollIntervalMs,
    setupMs: Math.round(setupMs),
    delivered,
    duplicates,
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    maxMs: latencies.at(-1) ?? null,
    p50AllMs: delivered >= Math.ceil(0.5 * jobs) ? percentile(latencies, (50 * jobs) / delivered) : null,
    p95AllMs: delivered >= Math.ceil(0.95 * jobs) ? percentile(latencies, (95 * jobs) / delivered) : null,
    cycles: active.length,
    statusPerCycleMax: Math.max(0, ...active.map((c) => c.status)),
    verifyPerCycleMax: Math.max(0, ...active.map((c) => c.verify)),
    requestsPerCycleMean: requests.length ? requests.reduce((a, b) => a + b, 0) / requests.length : 0,
    requestsPerCycleMax: Math.max(0, ...requests),
    cycleMsMax: Math.max(0, ...cycles.map((c) => c.ms)),
    cycleMsMean: cycles.length ? cycles.reduce((a, c) => a + c.ms, 0) / cycles.length : 0,
    wallMs: Math.round(end - start),
  };
  await app.close();
  return result;
}

runChild(main);
