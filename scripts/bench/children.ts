/**
 * Child processes for the benchmark: started with an IPC channel, optionally pinned to CPUs, and
 * always stopped by their own pid (SIGTERM, then SIGKILL). Every child started here is remembered
 * so that `stopAll` (called on any exit path of the runner) leaves nothing behind.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

/** A message a bench child sends to the runner over IPC. */
export interface ChildMessage {
  readonly event: string;
  readonly [key: string]: unknown;
}

/** A running child process. */
export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly process: ChildProcess;
  /** The last lines the child wrote to stderr (for error reports). */
  stderrTail(): string;
}

const live = new Map<number, Child>();

/** CPU ids this process may run on (from /proc; [] when unknown). */
export function allowedCpus(): number[] {
  try {
    const line = fs
      .readFileSync('/proc/self/status', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Cpus_allowed_list:'));
    if (!line) return [];
    const cpus: number[] = [];
    for (const part of line.split(':')[1]!.trim().split(',')) {
      const [from, to] = part.split('-').map(Number);
      if (from === undefined || Number.isNaN(from)) continue;
      for (let cpu = from; cpu <= (to ?? from); cpu += 1) cpus.push(cpu);
    }
    return cpus;
  } catch {
    return [];
  }
}

/** Pins every thread of `pid` to `cpus` with taskset; false when that is not possible here. */
export function pin(pid: number, cpus: readonly number[]): boolean {
  if (cpus.length === 0) return false;
  try {
    execFileSync('taskset', ['-a', '-c', '-p', cpus.join(','), String(pid)], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

/** Starts `node [nodeArgs] script [args]` with an IPC channel and the given environment. */
export function startChild(
  name: string,
  script: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; nodeArgs?: readonly string[]; cpus?: readonly number[] },
): Child {
  const proc = spawn(process.execPath, [...(options.nodeArgs ?? []), script, ...args], {
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  if (proc.pid === undefined) throw new Error(`could not start ${name}`);
  const pid = proc.pid;
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-4000);
  };
  // Both pipes are drained, so a chatty child never blocks on a full pipe.
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const child: Child = { name, pid, process: proc, stderrTail: () => tail.trim() };
  live.set(pid, child);
  proc.once('exit', () => live.delete(pid));
  if (options.cpus) pin(pid, options.cpus);
  return child;
}

/** Resolves with the first IPC message for which `accept` is true; rejects on exit or after `timeoutMs`. */
export function waitForMessage(child: Child, accept: (message: ChildMessage) => boolean, timeoutMs: number): Promise<ChildMessage> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      child.process.off('message', onMessage);
      child.process.off('exit', onExit);
    };
    const onMessage = (message: unknown): void => {
      if (typeof message !== 'object' || message === null) return;
      const typed = message as ChildMessage;
      if (typed.event === 'error') {
        done();
        reject(new Error(`${child.name} failed: ${String(typed.message)}`));
      } else if (accept(typed)) {
        done();
        resolve(typed);
      }
    };
    const onExit = (code: number | null, signal: string | null): void => {
      done();
      reject(new Error(`${child.name} exited (code ${code}, signal ${signal}) before it answered:\n${child.stderrTail()}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${child.name} did not answer within ${timeoutMs / 1000} s:\n${child.stderrTail()}`));
    }, timeoutMs);
    child.process.on('message', onMessage);
    child.process.once('exit', onExit);
  });
}

/** Stops a child by its pid: SIGTERM, then SIGKILL after `graceMs`. Resolves when it has exited. */
export async function stopChild(child: Child, graceMs = 12_000): Promise<void> {
  const proc = child.process;
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  try {
    process.kill(child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

/** Lets a one-shot child that has reported exit by itself (so a --cpu-prof profile is written); stops it after `graceMs`. */
export async function finishChild(child: Child, graceMs = 10_000): Promise<void> {
  const proc = child.process;
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<boolean>((resolve) => proc.once('exit', () => resolve(true)));
  const timer = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), graceMs).unref());
  if (!(await Promise.race([exited, timer]))) await stopChild(child);
}

/** Stops every child still running (on any exit path of the runner). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live.values()].map((child) => stopChild(child, 3000)));
}

/** Kills every child still running, synchronously (for process 'exit' handlers). */
export function killAllNow(): void {
  for (const child of live.values()) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** CPU time (user + system, in seconds) a process has used so far, from /proc; null where unavailable. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / 100;
  } catch {
    return null;
  }
}

/** Resident set size of a process in bytes, from /proc; null where unavailable. */
export function rssBytes(pid: number): number | null {
  try {
    const line = fs
      .readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:'));
    return line ? Number(line.replace(/\D+/g, '')) * 1024 : null;
  } catch {
    return null;
  }
}
