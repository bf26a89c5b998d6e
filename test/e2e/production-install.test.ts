/**
 * What a trust deploys, started as the container image starts it: a fresh copy of the repository
 * (its tracked files: no node_modules, no dist, no .env), built once with `npm run build`, then laid
 * out exactly as the Dockerfile's runtime stage lays it out (its COPY lines), with the production
 * dependencies only (`npm ci --omit=dev`, the deps stage's command: no TypeScript, no compiler) and
 * started with the image's CMD (`npm run start:prod`) in production mode. Its HEALTHCHECK is run
 * against it, and `npm run migrate` and the audit export work there too.
 *
 * No Docker engine runs on these machines, so the image itself is not built here; this test reads
 * the Dockerfile so that what it runs is what the image would run.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../src/config/config';
import { safeProduction } from '../support/production-env';

const run = promisify(execFile);

interface Stage {
  readonly name: string | null;
  readonly lines: readonly string[];
}

/** The Dockerfile's stages, continuation lines joined. */
function stages(text: string): Stage[] {
  const lines = text
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const out: Array<{ name: string | null; lines: string[] }> = [];
  for (const line of lines) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?$/i.exec(line);
    if (from) out.push({ name: from[1] ?? null, lines: [] });
    else out.at(-1)?.lines.push(line);
  }
  return out;
}

const dockerfile = stages(fs.readFileSync(path.join(projectRoot, 'Dockerfile'), 'utf8'));
const runtime = dockerfile.at(-1)!;
const instruction = (stage: Stage, name: string): string[] =>
  stage.lines.filter((l) => l.toUpperCase().startsWith(`${name} `)).map((l) => l.slice(name.length + 1).trim());
/** An exec-form instruction's argv (JSON array), e.g. CMD ["npm", "run", "start:prod"]. */
const execForm = (text: string): string[] => JSON.parse(text.replace(/^CMD\s+/i, '')) as string[];

describe('the Dockerfile', () => {
  it('builds in stages and runs as an unprivileged user, alive by /healthz, started by npm run start:prod', () => {
    expect(dockerfile.map((s) => s.name)).toEqual(['build', 'deps', null]);
    expect(instruction(dockerfile[1]!, 'RUN')).toContain('npm ci --omit=dev --no-audit --no-fund');
    expect(instruction(dockerfile[0]!, 'RUN')).toContain('npm run build');
    expect(instruction(runtime, 'USER')).toEqual(['node']);
    expect(instruction(runtime, 'ENV')).toContain('NODE_ENV=production');
    expect(instruction(runtime, 'CMD').map(execForm)).toEqual([['npm', 'run', 'start:prod']]);
    const [healthcheck] = instruction(runtime, 'HEALTHCHECK');
    expect(healthcheck).toContain('/healthz');
    // The runtime stage takes no compiler: nothing but the deps stage's node_modules and the build's dist.
    expect(instruction(runtime, 'RUN').join(' ')).not.toMatch(/npm (ci|install)|tsc|g\+\+/);
  });
});

describe('a production install from a fresh copy, as the image runs it', () => {
  let dir: string;
  let bot: { child: ChildProcess; output: () => string; exited: Promise<{ code: number | null; signal: string | null }> } | undefined;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'isa-install-'));
  });
  afterAll(() => {
    // Only if the test failed before stopping it: the process group this test started (npm and its node).
    if (bot?.child.pid) {
      try {
        process.kill(-bot.child.pid, 'SIGKILL');
      } catch {
        // Already gone: the test stopped it.
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('builds once, installs without devDependencies, starts with npm run start:prod, passes its HEALTHCHECK and stops on SIGTERM', async () => {
    // 1. A fresh copy: what git holds (tracked, plus new files not ignored), nothing built or installed.
    const clone = path.join(dir, 'clone');
    const { stdout: listed } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: projectRoot,
      maxBuffer: 16 * 1024 * 1024,
    });
    for (const file of listed.split('\0').filter((f) => f && fs.existsSync(path.join(projectRoot, f)))) {
      fs.mkdirSync(path.dirname(path.join(clone, file)), { recursive: true });
      fs.copyFileSync(path.join(projectRoot, file), path.join(clone, file));
    }
    expect(fs.existsSync(path.join(clone, 'dist'))).toBe(false);

    // 2. The build stage: `npm run build`, with the full install (the build stage's `npm ci` of the same lock file).
    fs.symlinkSync(path.join(projectRoot, 'node_modules'), path.join(clone, 'node_modules'), 'dir');
    await run('npm', ['run', 'build'], { cwd: clone });
    fs.unlinkSync(path.join(clone, 'node_modules'));

    // 3. The runtime stage's layout, from its COPY lines; node_modules from the deps stage's command.
    const app = path.join(dir, 'app');
    fs.mkdirSync(app);
    for (const copy of instruction(runtime, 'COPY')) {
      const parts = copy.split(/\s+/);
      const from = parts[0]!.startsWith('--from=') ? parts.shift()!.slice('--from='.length) : null;
      const target = parts.pop()!;
      for (const source of parts) {
        if (from === 'deps') continue; // installed below, by the deps stage's own command
        const origin = from === 'build' ? path.join(clone, path.relative('/app', source)) : path.join(clone, source);
        const destination = target.endsWith('/') ? path.join(app, target, path.basename(source)) : path.join(app, target);
        fs.cpSync(origin, destination, { recursive: true });
      }
    }
    await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund'], { cwd: app, maxBuffer: 16 * 1024 * 1024 });
    for (const devOnly of ['typescript', 'ts-jest', 'jest', 'eslint', 'nock'])
      expect([devOnly, fs.existsSync(path.join(app, 'node_modules', devOnly))]).toEqual([devOnly, false]);
    fs.mkdirSync(path.join(app, 'data'));

    // 4. The image's CMD, with the image's ENV and a trust's safe settings (one instance, SQLite in data/).
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      ...safeProduction,
      NODE_ENV: 'production',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: 'sqlite:data/bot.sqlite',
      SINGLE_INSTANCE: 'true',
      ORTHANC_URL: 'http://127.0.0.1:1',
    };
    const [command, ...args] = execForm(instruction(runtime, 'CMD')[0]!);
    const child = spawn(command!, args, { cwd: app, env, detached: true });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // 'close': every holder of the output pipes has gone, npm and the bot it started alike.
    bot = { child, output: () => output, exited: new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal }))) };

    const until = Date.now() + 30_000;
    while (!output.includes('"event":"listening"')) {
      if (Date.now() > until || child.exitCode !== null) throw new Error(`the bot did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const { port, mode } = JSON.parse(output.split('\n').find((l) => l.includes('"event":"listening"'))!) as { port: number; mode: string };
    expect(mode).toBe('production');
    expect(fs.existsSync(path.join(app, 'data', 'bot.sqlite'))).toBe(true);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);

    // The image's HEALTHCHECK command, as the container runtime would run it.
    const check = execForm(instruction(runtime, 'HEALTHCHECK')[0]!.replace(/^(--\S+\s+)*CMD\s+/i, ''));
    await expect(run(check[0]!, check.slice(1), { cwd: app, env: { ...env, PORT: String(port) } })).resolves.toBeDefined();

    // A DBA's commands work on the same install: the schema is already there, the audit trail exports.
    const migrated = await run('npm', ['run', '--silent', 'migrate'], { cwd: app, env });
    expect(migrated.stdout.trim()).toBe('SQLite database schema at version 7: already up to date.');
    const audit = await run(process.execPath, ['dist/scripts/audit.js', '--since', '2026-01-01'], { cwd: app, env });
    expect(audit.stdout).toMatch(/^time,action,teams_user_id/);

    // The container runtime's stop: SIGTERM to the CMD (npm), which must reach the bot (start:prod execs
    // node: npm's `sh -c` does not pass signals on, which left the bot running without its graceful stop).
    process.kill(child.pid!, 'SIGTERM');
    const stopped = await Promise.race([
      bot.exited.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 20_000).unref()),
    ]);
    expect([stopped, output.slice(-400)]).toEqual([true, expect.any(String)]);
    expect(output).toContain('"event":"shutting-down","signal":"SIGTERM"');
    expect(output).toContain('"event":"stopped"');
  }, 300_000);
});
