/**
 * Real Orthanc servers for the PACS adapter's integration and contract tests: LOCAL (UH Bristol's
 * PACS, AET UHB_PACS, the bot's user teamsbot) and one or more REMOTE sites (Exeter, ...), each
 * started from a generated config in a fresh temp folder on free loopback ports, wired to each other
 * through DicomModalities as in the lab recipe (orthanc-lab/RECIPE.md) so C-FIND and C-MOVE work.
 *
 * Only the processes started here are ever signalled, always by their own pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DicomGate } from './dicom-gate';

/** Where the Debian package installs Orthanc. */
export const orthancBinary = '/usr/sbin/Orthanc';

/** The bot's account on LOCAL. */
export const botUser = { username: 'teamsbot', password: 'teamsbot-secret' } as const;
/** The harness's own account on every server (seeding, inspection). */
const adminUser = { username: 'admin', password: 'admin-secret' } as const;

const skipNotice = 'Orthanc is not installed: integration tests skipped; apt-get install orthanc';

/** Whether the Orthanc binary is on this machine. */
export function orthancAvailable(): boolean {
  return fs.existsSync(orthancBinary);
}

function inCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
}

/**
 * `describe` for suites that need real Orthanc servers. Without Orthanc: in CI the suite fails with a
 * clear message (CI must install it); elsewhere it is skipped with a loud notice.
 */
export function describeWithOrthanc(name: string, body: () => void): void {
  if (orthancAvailable()) {
    describe(name, body);
    return;
  }
  if (inCi()) {
    describe(name, () => {
      it('needs Orthanc', () => {
        throw new Error(`${orthancBinary} is missing and CI is set: install it (apt-get install -y orthanc) before running the tests`);
      });
    });
    return;
  }
  // eslint-disable-next-line no-console -- the notice must be seen: these tests are not running.
  console.warn(`\n*** ${skipNotice} ***\n`);
  describe.skip(name, body);
}

/** Finds `count` distinct free TCP ports by binding port 0, then releases them. */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i += 1) {
      const server = net.createServer();
      servers.push(server);
      // Orthanc listens on every interface, so the port must be free on all of them.
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '0.0.0.0', () => resolve());
      });
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no port assigned');
      ports.push(address.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Everything this process started and has not yet seen exit: killed if the test process exits first. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** An error answer from a server the harness drives directly. */
export class OrthancHarnessError extends Error {
  override readonly name = 'OrthancHarnessError';
  constructor(
    readonly reason: 'start-failed' | 'http-error',
    message: string,
  ) {
    super(message);
  }
}

/** One running Orthanc server. */
export class OrthancServer {
  private paused = false;
  private failedToSpawn = false;
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly aet: string,
    readonly httpPort: number,
    readonly dicomPort: number,
    readonly logFile: string,
    private readonly child: ChildProcess,
  ) {
    live.add(child);
    this.exited = new Promise((resolve) => {
      const gone = (): void => {
        live.delete(child);
        resolve();
      };
      child.once('exit', gone);
      child.once('error', () => {
        this.failedToSpawn = true;
        gone();
      });
    });
  }

  /** Base URL of the REST API. */
  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  /** The process id (of Orthanc itself: spawned directly, no shell in between). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Whether the process is alive (paused counts as alive). */
  get running(): boolean {
    return !this.failedToSpawn && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines of the server's log. */
  logTail(lines = 20): string {
    return tail(this.logFile, lines);
  }

  /** A REST call as the harness's admin user; rejects on any non-2xx answer. */
  async request<T = unknown>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', route: string, body?: unknown): Promise<T> {
    const auth = Buffer.from(`${adminUser.username}:${adminUser.password}`).toString('base64');
    const response = await fetch(`${this.url}${route}`, {
      method,
      headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    if (!response.ok) throw new OrthancHarnessError('http-error', `${this.name}: ${method} ${route} -> HTTP ${response.status}: ${text}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /** Waits until GET /system answers 200; fails at once, with the log tail, if the process exits. */
  async waitReady(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) {
        throw new OrthancHarnessError(
          'start-failed',
          `${this.name} (pid ${this.pid}) exited during start-up; log tail:\n${this.logTail()}`,
        );
      }
      try {
        await this.request('GET', '/system');
        return;
      } catch {
        await sleep(50);
      }
    }
    throw new OrthancHarnessError(
      'start-failed',
      `${this.name} did not answer on HTTP ${this.httpPort} within ${timeoutMs} ms; log tail:\n${this.logTail()}`,
    );
  }

  /** Freezes the process (SIGSTOP): it keeps its ports but answers nothing, like a hung peer. */
  pause(): void {
    if (!this.running) return;
    this.child.kill('SIGSTOP');
    this.paused = true;
  }

  /** Lets a paused process run again (SIGCONT). */
  resume(): void {
    if (!this.running || !this.paused) return;
    this.child.kill('SIGCONT');
    this.paused = false;
  }

  /** SIGTERM, wait for the exit (Orthanc takes 3-5 s), SIGKILL if still alive after 15 s. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    // A stopped process only acts on SIGTERM once it runs again.
    this.resume();
    let timer: NodeJS.Timeout | undefined;
    const overdue = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), 15_000);
    });
    const late = await Promise.race([this.exited.then(() => false), overdue]);
    clearTimeout(timer);
    if (late && this.running) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

/** A remote site's server and how LOCAL is wired to it. */
export interface RemoteSpec {
  /** Symbolic name of the modality on LOCAL (what the adapter's site config names), e.g. 'EXETER'. */
  readonly modality: string;
  readonly aet: string;
  /** Whether LOCAL accepts this site's C-STOREs, i.e. the C-MOVE sub-operations (default true). */
  readonly localAcceptsStore?: boolean;
}

/** An extra modality on LOCAL that points at a remote's port under another called AET. */
export interface AliasSpec {
  readonly modality: string;
  readonly aet: string;
  /** The `modality` of the remote whose port it uses. */
  readonly remote: string;
}

/** What to start. */
export interface LabSpec {
  /** LOCAL's AET (default UHB_PACS). */
  readonly localAet?: string;
  readonly remotes: readonly RemoteSpec[];
  readonly aliases?: readonly AliasSpec[];
  /** Each remote sends its C-STOREs to LOCAL through a DicomGate (lab.gate(modality)) a test can hold. */
  readonly gated?: boolean;
  /** LOCAL's ConcurrentJobs (default 4): 1 keeps a second retrieval pending while the first runs. */
  readonly concurrentJobs?: number;
}

/** LOCAL plus its remote sites, all running. */
export interface OrthancLab {
  readonly local: OrthancServer;
  readonly localAet: string;
  /** The remote started for a RemoteSpec, by its modality name. */
  remote(modality: string): OrthancServer;
  /** The gate the remote's C-STOREs to LOCAL pass through (a lab started with `gated`). */
  gate(modality: string): DicomGate;
  /** Stops every server of the lab and removes its temp folder. */
  stop(): Promise<void>;
}

const commonSettings = {
  RemoteAccessAllowed: false,
  AuthenticationEnabled: true,
  DicomCheckCalledAet: true,
  DicomCheckModalityHost: true,
  DicomAlwaysAllowEcho: true,
  DicomAlwaysAllowStore: false,
  DicomAlwaysAllowFind: false,
  DicomAlwaysAllowMove: false,
  // Small enough that a wedged association never outlives a test, large enough for a loaded CI box.
  DicomScuTimeout: 5,
  DicomScpTimeout: 10,
  StableAge: 1,
  JobsHistorySize: 1000,
  SaveJobs: false,
  ConcurrentJobs: 4,
  OverwriteInstances: false,
  Plugins: [],
};

interface Planned {
  readonly name: string;
  readonly aet: string;
  readonly httpPort: number;
  readonly dicomPort: number;
  readonly config: Record<string, unknown>;
  /** For a gated remote: where its gate listens. */
  readonly gatePort?: number | null;
}

function plan(spec: LabSpec, ports: number[]): Planned[] {
  const localAet = spec.localAet ?? 'UHB_PACS';
  const take = (): number => {
    const port = ports.shift();
    if (port === undefined) throw new Error('ran out of ports');
    return port;
  };
  const local = { name: 'local', aet: localAet, httpPort: take(), dicomPort: take() };
  const remotes = spec.remotes.map((r) => ({
    ...r,
    name: r.modality.toLowerCase(),
    httpPort: take(),
    dicomPort: take(),
    gatePort: spec.gated ? take() : null,
  }));
  const localModalities: Record<string, unknown> = {};
  for (const r of remotes) {
    // Allow* is what that peer may do to us: a remote only ever C-STOREs into LOCAL (its C-MOVE answers).
    localModalities[r.modality] = {
      AET: r.aet,
      Host: '127.0.0.1',
      Port: r.dicomPort,
      AllowStore: r.localAcceptsStore ?? true,
      AllowFind: false,
      AllowMove: false,
      AllowGet: false,
    };
  }
  for (const alias of spec.aliases ?? []) {
    const target = remotes.find((r) => r.modality === alias.remote);
    if (!target) throw new Error(`alias ${alias.modality} names an unknown remote ${alias.remote}`);
    localModalities[alias.modality] = {
      AET: alias.aet,
      Host: '127.0.0.1',
      Port: target.dicomPort,
      AllowStore: false,
      AllowFind: false,
      AllowMove: false,
      AllowGet: false,
    };
  }
  const planned: Planned[] = [
    {
      ...local,
      config: {
        ...commonSettings,
        Name: 'UHB_LOCAL',
        ConcurrentJobs: spec.concurrentJobs ?? commonSettings.ConcurrentJobs,
        HttpPort: local.httpPort,
        DicomPort: local.dicomPort,
        DicomAet: localAet,
        RegisteredUsers: { [botUser.username]: botUser.password, [adminUser.username]: adminUser.password },
        DicomModalities: localModalities,
      },
    },
  ];
  for (const r of remotes) {
    planned.push({
      name: r.name,
      aet: r.aet,
      httpPort: r.httpPort,
      dicomPort: r.dicomPort,
      gatePort: r.gatePort,
      config: {
        ...commonSettings,
        Name: `${r.modality}_REMOTE`,
        HttpPort: r.httpPort,
        DicomPort: r.dicomPort,
        DicomAet: r.aet,
        RegisteredUsers: { [adminUser.username]: adminUser.password },
        // LOCAL may query us and have us C-MOVE to it; the destination AET resolves through this entry.
        DicomModalities: {
          UHB: {
            AET: localAet,
            Host: '127.0.0.1',
            Port: r.gatePort ?? local.dicomPort,
            AllowFind: true,
            AllowMove: true,
            AllowGet: true,
            AllowStore: false,
          },
        },
        SynchronousCMove: true,
      },
    });
  }
  return planned;
}

function launch(root: string, planned: Planned): OrthancServer {
  const dir = path.join(root, planned.name);
  fs.mkdirSync(path.join(dir, 'db'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  const config = {
    ...planned.config,
    StorageDirectory: path.join(dir, 'db'),
    IndexDirectory: path.join(dir, 'db'),
    TemporaryDirectory: path.join(dir, 'tmp'),
  };
  const configFile = path.join(dir, 'orthanc.json');
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  const logFile = path.join(dir, 'orthanc.log');
  // Whatever Orthanc prints before its log file is open (a config it cannot parse) lands here too.
  const out = fs.openSync(logFile, 'a');
  try {
    const child = spawn(orthancBinary, [`--logfile=${logFile}`, configFile], { cwd: dir, stdio: ['ignore', out, out] });
    return new OrthancServer(planned.name, planned.aet, planned.httpPort, planned.dicomPort, logFile, child);
  } finally {
    fs.closeSync(out);
  }
}

/**
 * Starts LOCAL and the remotes on free ports. A port can be taken by someone else between our probe
 * and Orthanc's bind, so a failed start is retried on fresh ports (twice) before giving up.
 */
export async function startOrthancLab(spec: LabSpec): Promise<OrthancLab> {
  if (!orthancAvailable()) throw new OrthancHarnessError('start-failed', skipNotice);
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'orthanc-lab-'));
    const planned = plan(spec, await freePorts((spec.gated ? 3 : 2) * spec.remotes.length + 2));
    const servers = planned.map((p) => launch(root, p));
    const gates = new Map<string, DicomGate>();
    const stopAll = async (): Promise<void> => {
      await Promise.all([...servers.map((s) => s.stop()), ...[...gates.values()].map((g) => g.close())]);
      fs.rmSync(root, { recursive: true, force: true });
    };
    try {
      const localDicomPort = planned[0]!.dicomPort;
      for (const p of planned) if (p.gatePort) gates.set(p.name, await DicomGate.open(p.gatePort, localDicomPort));
      await Promise.all(servers.map((s) => s.waitReady()));
    } catch (error) {
      lastError = error;
      await stopAll();
      continue;
    }
    const [local, ...remotes] = servers as [OrthancServer, ...OrthancServer[]];
    return {
      local,
      localAet: spec.localAet ?? 'UHB_PACS',
      remote(modality: string): OrthancServer {
        const found = remotes.find((s) => s.name === modality.toLowerCase());
        if (!found) throw new Error(`no remote ${modality} in this lab`);
        return found;
      },
      gate(modality: string): DicomGate {
        const found = gates.get(modality.toLowerCase());
        if (!found) throw new Error(`no gate for ${modality} in this lab (start it with gated: true)`);
        return found;
      },
      stop: stopAll,
    };
  }
  throw lastError;
}

/** The settings that point the bot at a lab: LOCAL as UH Bristol's PACS (as the bot's user), and its peer sites. */
export function orthancBotEnv(lab: OrthancLab, sites = 'exeter:EXETER', queryTimeoutS = 5): Record<string, string> {
  return {
    PACS_BACKEND: 'orthanc',
    // The lab's patients are synthetic: development mode may use the real Orthanc servers here.
    TEST_LAB: 'true',
    ORTHANC_URL: lab.local.url,
    ORTHANC_USERNAME: botUser.username,
    ORTHANC_PASSWORD: botUser.password,
    PACS_LOCAL_AET: lab.localAet,
    PACS_SITES: sites,
    PACS_QUERY_TIMEOUT_S: String(queryTimeoutS),
  };
}
