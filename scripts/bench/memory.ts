/**
 * Memory benchmark (a fresh process, started with --expose-gc): the real bot, listening, with
 * 10,000 conversation references and 10,000 retrievals in flight stored in SQLite through the
 * store and the app's use case, after poll cycles have read them all. Reports the resident set
 * size after a full garbage collection.
 *
 * Usage (started by run-bench): node --expose-gc memory.js <references/jobs> <connectorUrl> <databaseFile>
 */
import { runChild } from './child-main';
import { buildWorld } from './retrieval-world';

/** What the memory run measured (bytes). */
export interface MemoryResult {
  readonly references: number;
  readonly jobs: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
  readonly externalBytes: number;
  readonly rssBeforeBytes: number;
  readonly gcExposed: boolean;
  readonly inFlight: number;
}

function collect(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return false;
  gc();
  gc();
  return true;
}

async function main(): Promise<MemoryResult> {
  const [countArg, connectorUrl, databaseFile] = process.argv.slice(2);
  const count = Number(countArg);
  if (!connectorUrl || !databaseFile || !(count > 0)) throw new Error('usage: memory <count> <connectorUrl> <databaseFile>');
  collect();
  const rssBeforeBytes = process.memoryUsage().rss;
  const world = await buildWorld({ jobs: count, databaseFile, connectorUrl });
  await world.app.listen();
  // Poll cycles read every retrieval in flight and ask the PACS about all of them.
  for (let i = 0; i < 3; i += 1) await world.app.pollOnce();
  const health = await fetch(`http://127.0.0.1:${world.app.server.address().port}/healthz`, { signal: AbortSignal.timeout(10_000) });
  if (!health.ok) throw new Error(`healthz answered ${health.status}`);
  const inFlight = (await world.store.activeRetrievals()).length;
  const gcExposed = collect();
  const usage = process.memoryUsage();
  const result: MemoryResult = {
    references: count,
    jobs: world.jobs.length,
    rssBytes: usage.rss,
    heapUsedBytes: usage.heapUsed,
    heapTotalBytes: usage.heapTotal,
    externalBytes: usage.external,
    rssBeforeBytes,
    gcExposed,
    inFlight,
  };
  await world.app.close();
  return result;
}

runChild(main);
