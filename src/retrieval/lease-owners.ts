/**
 * Notification leases are held by "host:pid:nonce" owners. A process killed mid-send (SIGKILL, a
 * crash) leaves its leases until they run out (5 minutes); a process on the same machine can tell
 * that the holder is gone and release them, so a restarted bot does not wait them out.
 */

/** The owner name for this process: unique per process, readable by the rules below. */
export function ownerName(host: string, pid: number, nonce: string): string {
  return `${host}:${pid}:${nonce}`;
}

/** Whether `owner` was a process on `host`, other than `selfPid`, that `isAlive` says is gone. */
export function isGoneOwner(owner: string, host: string, selfPid: number, isAlive: (pid: number) => boolean): boolean {
  const parts = owner.split(':');
  if (parts.length !== 3 || parts[0] !== host) return false;
  const pid = Number(parts[1]);
  return Number.isSafeInteger(pid) && pid > 0 && pid !== selfPid && !isAlive(pid);
}

/** The holders that were processes on `host`, other than `selfPid`, that `isAlive` says are gone. */
export function goneOwners(holders: readonly string[], host: string, selfPid: number, isAlive: (pid: number) => boolean): string[] {
  return holders.filter((holder) => isGoneOwner(holder, host, selfPid, isAlive));
}

/** Whether a process id is alive on this machine (signal 0 checks without sending anything). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but is not ours to signal.
    return (error as { code?: string }).code === 'EPERM';
  }
}
