/**
 * A throwaway PostgreSQL server for the PostgreSQL store's tests: initdb in a fresh temp folder,
 * then postgres on a free loopback port (and a Unix socket in that folder), trust auth, fsync off.
 * Each test file starts its own server and makes its own databases; nothing outside the folder is
 * touched, and the server is stopped by its own pid.
 *
 * PostgreSQL refuses to run as root. As root (CI, this machine) the harness spawns initdb and
 * postgres directly as the `postgres` system user (the uid/gid options of spawn: setgid,
 * setgroups([]) and setuid in the child before exec), with the folder chowned to that user; so the
 * pid we hold is the postmaster's own, with no su/runuser in between to forward signals. As any
 * other user it runs them as that user.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

const debianRoot = '/usr/lib/postgresql';

/**
 * Where initdb and postgres are: $PG_BIN_DIR if set, else the newest Debian install
 * (/usr/lib/postgresql/<version>/bin); null if neither has them.
 */
export function postgresBinDir(): string | null {
  const candidates: string[] = [];
  const fromEnv = process.env.PG_BIN_DIR;
  if (fromEnv !== undefined && fromEnv !== '') candidates.push(fromEnv);
  let versions: string[] = [];
  try {
    versions = fs.readdirSync(debianRoot).filter((v) => /^\d+(\.\d+)?$/.test(v));
  } catch {
    // No Debian install.
  }
  versions.sort((a, b) => Number(b) - Number(a));
  candidates.push(...versions.map((v) => path.join(debianRoot, v, 'bin')));
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'postgres'))) ?? null;
}

/** Whether PostgreSQL's server binaries are on this machine. */
export function postgresAvailable(): boolean {
  return postgresBinDir() !== null;
}

function inCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
}

const installHint = 'apt-get install -y postgresql (or set PG_BIN_DIR to a folder holding initdb and postgres)';

/**
 * `describe` for suites that need a real PostgreSQL server. Without its binaries: in CI the suite
 * fails with a clear message (CI must install them); elsewhere it is skipped with a loud notice.
 */
export function describeWithPostgres(name: string, body: () => void): void {
  if (postgresAvailable()) {
    describe(name, body);
    return;
  }
  if (inCi()) {
    describe(name, () => {
      it('needs PostgreSQL', () => {
        throw new Error(`PostgreSQL's initdb and postgres were not found under ${debianRoot}/<version>/bin and CI is set: ${installHint}`);
      });
    });
    return;
  }
  // eslint-disable-next-line no-console -- the notice must be seen: these tests are not running.
  console.warn(`\n*** PostgreSQL is not installed: PostgreSQL store tests skipped; ${installHint} ***\n`);
  describe.skip(name, body);
}

/** A failure to start or drive the test server. */
export class PostgresHarnessError extends Error {
  override readonly name = 'PostgresHarnessError';
  constructor(
    readonly reason: 'not-installed' | 'no-user' | 'initdb-failed' | 'start-failed',
    message: string,
  ) {
    super(message);
  }
}

/** Who runs the server: as root, the `postgres` system user; otherwise whoever we are (no switch). */
interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

function runAs(): RunAs | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  let passwd = '';
  try {
    passwd = fs.readFileSync('/etc/passwd', 'utf8');
  } catch {
    // Reported below.
  }
  const line = passwd.split('\n').find((l) => l.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) {
    throw new PostgresHarnessError(
      'no-user',
      'running as root, but there is no `postgres` system user to run PostgreSQL as (the postgresql package creates it)',
    );
  }
  return { uid: Number(uid), gid: Number(gid) };
}

/** A free TCP port on 127.0.0.1 (bound, then released: a race with other processes is retried by the caller). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port assigned');
  return address.port;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Servers this process started and has not yet seen stopped: on exit, an immediate shutdown and the folder removed. */
const live = new Map<ChildProcess, string>();
process.once('exit', () => {
  for (const [child, folder] of live) {
    // SIGQUIT: immediate shutdown, which also ends the server's own children.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGQUIT');
    fs.rmSync(folder, { recursive: true, force: true });
  }
});

/** One running throwaway server. */
export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  /** The postmaster's pid. */
  readonly pid: number | undefined;
  /** How long initdb and the start took, in ms. */
  readonly startupMs: number;
  /** A connection URL for `database` (as the superuser `postgres`, trust auth). */
  url(database: string, searchPath?: string): string;
  /** Creates a new, empty database named from `label` and returns its URL. */
  createDatabase(label: string): Promise<string>;
  /** Runs one statement on `database` on a connection of its own (superuser). */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(database: string, sql: string, values?: unknown[]): Promise<R[]>;
  /** SIGINT (fast shutdown), wait for the exit, SIGKILL after 15 s; then the folder is removed. */
  stop(): Promise<void>;
  /** The last lines of the server's log. */
  logTail(lines?: number): string;
}

let databases = 0;

/**
 * Starts a server in a new temp folder: initdb (C locale, UTF8, trust, no fsync), then postgres on
 * a free loopback port, retried on a fresh port if another process took it first. Resolves once it
 * accepts connections.
 */
export async function startPostgres(): Promise<PostgresServer> {
  const started = Date.now();
  const bin = postgresBinDir();
  if (bin === null) throw new PostgresHarnessError('not-installed', `PostgreSQL is not installed: ${installHint}`);
  const user = runAs();
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-harness-'));
  const data = path.join(folder, 'data');
  const sockets = path.join(folder, 'sockets');
  const logFile = path.join(folder, 'postgres.log');
  fs.mkdirSync(sockets);
  if (user) {
    for (const entry of [folder, sockets]) fs.chownSync(entry, user.uid, user.gid);
  }
  // The server's environment: nothing of ours (no PG* variables, no locale surprises).
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: folder, LC_ALL: 'C', LANG: 'C', TZ: 'UTC' };
  const identity = user ? { uid: user.uid, gid: user.gid } : {};

  const initdb = spawnSync(
    path.join(bin, 'initdb'),
    ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'],
    { cwd: folder, env, encoding: 'utf8', timeout: 60_000, ...identity },
  );
  if (initdb.status !== 0) {
    fs.rmSync(folder, { recursive: true, force: true });
    throw new PostgresHarnessError(
      'initdb-failed',
      `initdb failed (${initdb.error?.message ?? `exit ${String(initdb.status ?? initdb.signal)}`}):\n${initdb.stderr}${initdb.stdout}`,
    );
  }

  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    const port = await freePort();
    const out = fs.openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(
        path.join(bin, 'postgres'),
        [
          '-D',
          data,
          '-p',
          String(port),
          '-k',
          sockets,
          '-c',
          'listen_addresses=127.0.0.1',
          // A throwaway server: durability is worth nothing, speed is.
          '-c',
          'fsync=off',
          '-c',
          'synchronous_commit=off',
          '-c',
          'full_page_writes=off',
          '-c',
          'max_connections=200',
          '-c',
          'logging_collector=off',
        ],
        { cwd: folder, env, stdio: ['ignore', out, out], ...identity },
      );
    } finally {
      fs.closeSync(out);
    }
    live.set(child, folder);
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    const running = (): boolean => child.exitCode === null && child.signalCode === null && child.pid !== undefined;

    const stopChild = async (): Promise<void> => {
      if (running()) {
        child.kill('SIGINT');
        let timer: NodeJS.Timeout | undefined;
        const late = await Promise.race([
          exited.then(() => false),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(true), 15_000);
          }),
        ]);
        clearTimeout(timer);
        if (late && running()) {
          child.kill('SIGKILL');
          await exited;
        }
      }
      live.delete(child);
    };

    const connect = async (database: string): Promise<pg.Client> => {
      const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database, connectionTimeoutMillis: 5_000 });
      // A server going away mid-test must fail the test's query, not crash the worker.
      client.on('error', () => undefined);
      try {
        await client.connect();
      } catch (error) {
        await client.end().catch(() => undefined);
        throw error;
      }
      return client;
    };

    // Wait until it accepts connections (it answers 57P03 "starting up" for a moment first).
    const deadline = Date.now() + 30_000;
    let ready = false;
    while (!ready && running() && Date.now() < deadline) {
      try {
        const client = await connect('postgres');
        await client.end();
        ready = true;
      } catch (error) {
        lastError = error;
        await sleep(50);
      }
    }
    if (!ready) {
      const log = tail(logFile);
      await stopChild();
      lastError = new PostgresHarnessError(
        'start-failed',
        `postgres did not accept connections on 127.0.0.1:${port} (attempt ${attempt}); log tail:\n${log}`,
      );
      // Another process took the port between our probe and the bind: try a fresh one.
      if (/could not bind|Address already in use/i.test(log)) continue;
      break;
    }

    const url = (database: string, searchPath?: string): string => {
      const options = searchPath === undefined ? '' : `?options=${encodeURIComponent(`-c search_path=${searchPath}`)}`;
      return `postgres://postgres@127.0.0.1:${port}/${encodeURIComponent(database)}${options}`;
    };
    const query = async <R extends pg.QueryResultRow>(database: string, sql: string, values: unknown[] = []): Promise<R[]> => {
      const client = await connect(database);
      try {
        return (await client.query<R>(sql, values)).rows;
      } finally {
        await client.end();
      }
    };
    const startupMs = Date.now() - started;
    return {
      host: '127.0.0.1',
      port,
      pid: child.pid,
      startupMs,
      url,
      query,
      async createDatabase(label: string): Promise<string> {
        const name = `${label
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, '_')
          .slice(0, 40)}_${process.pid}_${++databases}`;
        // Identifiers cannot be bound: the name is made of [a-z0-9_] only, quoted besides.
        await query('postgres', `CREATE DATABASE "${name}" TEMPLATE template0 ENCODING 'UTF8'`);
        return url(name);
      },
      async stop(): Promise<void> {
        await stopChild();
        fs.rmSync(folder, { recursive: true, force: true });
      },
      logTail: (lines?: number) => tail(logFile, lines),
    };
  }
  fs.rmSync(folder, { recursive: true, force: true });
  throw lastError instanceof Error ? lastError : new PostgresHarnessError('start-failed', 'postgres did not start');
}
