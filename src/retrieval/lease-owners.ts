/**
 * Who holds a notification lease or an activity claim, and whether they are still there. Each
 * process is an instance with an id of its own; it beats in the database (store.heartbeat) by the
 * database's clock, and an instance silent for `silentMs` is gone: its leases are released and its
 * claims taken over. Nothing is judged from host names or pids, which containers (pid 1 each time),
 * cloned hosts and reused pids share.
 */
import type { StorePort } from '../ports/store-port';

/** How often an instance beats, and how long a silence means it is gone. */
export interface Liveness {
  readonly heartbeatMs: number;
  /** Several beats long, so a busy process (a long garbage collection, a slow write) is not taken for dead. */
  readonly silentMs: number;
}

/** Beats every second; gone after five seconds of silence. */
export const defaultLiveness: Liveness = { heartbeatMs: 1_000, silentMs: 5_000 };

/** An instance id: the host name (for people reading logs and tables) and a random part that makes it unique. */
export function instanceId(host: string, nonce: string): string {
  return `${host}:${nonce}`;
}

/** Records that `owner` is alive now, by the database's clock. */
export async function beat(store: Pick<StorePort, 'heartbeat' | 'clockNow'>, owner: string): Promise<void> {
  await store.heartbeat(owner, await store.clockNow());
}

/** Those of `owners` that have been silent for `silentMs` by the database's clock (`self` never is). */
export async function goneOwners(
  store: Pick<StorePort, 'silentOwners' | 'clockNow'>,
  owners: readonly string[],
  self: string,
  silentMs: number,
): Promise<string[]> {
  const others = owners.filter((owner) => owner !== self);
  if (others.length === 0) return [];
  return store.silentOwners(others, await store.clockNow(), silentMs);
}
