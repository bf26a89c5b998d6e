/**
 * The built bot as a real process: `node dist/src/index.js`, as `npm start` runs it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../../src/config/config';
import { safeProduction } from '../support/production-env';

const entry = path.join(projectRoot, 'dist', 'src', 'index.js');

// dist/ is built once for all test files by test/support/global-setup.ts.

/** Runs the bot with exactly `env` (plus PATH) and collects its output until it exits. */
function run(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [entry], { cwd: projectRoot, env: { PATH: process.env.PATH ?? '', ...env } });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitFor(predicate: () => boolean, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > until) throw new Error('timed out waiting for the bot');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('starting the bot', () => {
  it('refuses production mode without an app id, in one line naming the key', async () => {
    const bot = run({ NODE_ENV: 'production', PORT: '0' });
    expect(await bot.exited).toBe(1);
    expect(bot.output().trim()).toBe(
      'Refusing to start: NODE_ENV=production needs MicrosoftAppId (the Azure Bot app id); refusing to start.',
    );
  });

  it('refuses a bad setting, naming it', async () => {
    const bot = run({ PORT: 'eighty' });
    expect(await bot.exited).toBe(1);
    expect(bot.output().trim()).toBe('Refusing to start: PORT is invalid: must be number');
  });

  it.each([
    [
      'a too-short CARD_SIGNING_SECRET',
      { CARD_SIGNING_SECRET: 'Sh0rtSecretValue' },
      'CARD_SIGNING_SECRET is invalid: must be at least 32 characters',
      'Sh0rtSecretValue',
    ],
    [
      'a DATABASE_URL of the wrong kind, with a password',
      { DATABASE_URL: 'mysql://admin:Pa55wordInUrl@db.example/x' },
      'DATABASE_URL is invalid: must be sqlite:PATH or postgres://...',
      'Pa55wordInUrl',
    ],
    [
      'a PostgreSQL DATABASE_URL that cannot be reached, with a password',
      { DATABASE_URL: 'postgres://admin:Pa55wordInUrl@127.0.0.1:1/x', TEST_LAB: 'true' },
      'Refusing to start: ',
      'Pa55wordInUrl',
    ],
    [
      'an unknown PACS_BACKEND',
      { PACS_BACKEND: 'Hunter2Backend' },
      'PACS_BACKEND is invalid: must be one of demo, orthanc',
      'Hunter2Backend',
    ],
  ])('refuses %s naming the key and the rule, never the value', async (_what, env, said, secret) => {
    const bot = run({ PORT: '0', ...env });
    expect(await bot.exited).toBe(1);
    expect(bot.output()).toContain(said);
    expect(bot.output()).not.toContain(secret);
  });

  it('refuses an invalid guide file, naming the file', async () => {
    const bot = run({ PORT: '0', GUIDE_FILE: 'package.json' });
    expect(await bot.exited).toBe(1);
    expect(bot.output()).toMatch(/Refusing to start: guide field/);
  });

  it('starts in development mode on defaults, warns, answers /healthz and stops on SIGTERM', async () => {
    const bot = run({ PORT: '0', HOST: '127.0.0.1' });
    try {
      await waitFor(() => bot.output().includes('"event":"listening"'));
      const listening = bot
        .output()
        .split('\n')
        .find((l) => l.includes('"event":"listening"'))!;
      const { port } = JSON.parse(listening) as { port: number };
      expect(bot.output()).toContain('"event":"development-mode"');
      expect(bot.output()).toContain('"event":"guide-review-overdue"');
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'ok', guide: { version: 'v1.0', reviewOverdue: true } });
    } finally {
      bot.child.kill('SIGTERM');
    }
    expect(await bot.exited).toBe(0);
    expect(bot.output()).toContain('"event":"stopped"');
  });
});

describe('starting the bot in production mode', () => {
  let dir: string;
  /** Every safe setting, with one instance on a SQLite file and a PACS that is not there (port 1). */
  let safe: Record<string, string>;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'isa-production-'));
    safe = {
      ...safeProduction,
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: `sqlite:${path.join(dir, 'bot.sqlite')}`,
      SINGLE_INSTANCE: 'true',
      ORTHANC_URL: 'http://127.0.0.1:1',
    };
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each([
    [
      'no CARD_SIGNING_SECRET',
      { CARD_SIGNING_SECRET: '' },
      'NODE_ENV=production needs CARD_SIGNING_SECRET (32+ characters, the same on every instance); refusing to start.',
    ],
    [
      'a short CARD_SIGNING_SECRET',
      { CARD_SIGNING_SECRET: 'Sh0rtButSecret' },
      'CARD_SIGNING_SECRET is invalid: must be at least 32 characters',
    ],
    ['an empty ALLOWED_TENANT_IDS', { ALLOWED_TENANT_IDS: '' }, 'NODE_ENV=production needs ALLOWED_TENANT_IDS'],
    ['PACS_BACKEND=demo', { PACS_BACKEND: 'demo' }, 'NODE_ENV=production cannot use PACS_BACKEND=demo (synthetic patients)'],
    [
      'SQLite without SINGLE_INSTANCE=true',
      { SINGLE_INSTANCE: '' },
      'NODE_ENV=production uses SQLite, which only one instance may own: set SINGLE_INSTANCE=true',
    ],
    ['the default SQLite file without SINGLE_INSTANCE=true', { SINGLE_INSTANCE: '', DATABASE_URL: '' }, 'set SINGLE_INSTANCE=true'],
  ])('refuses %s in one line giving the reason, without quoting a secret', async (_what, unsafe, said) => {
    const bot = run({ ...safe, ...unsafe });
    expect(await bot.exited).toBe(1);
    const lines = bot.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Refusing to start: /);
    expect(lines[0]).toContain(said);
    expect(bot.output()).not.toContain('Sh0rtButSecret');
    expect(bot.output()).not.toContain(safeProduction.CARD_SIGNING_SECRET);
  });

  it('starts with every safe setting, ready on its database while the PACS is down, and stops on SIGTERM', async () => {
    const bot = run(safe);
    try {
      await waitFor(() => bot.output().includes('"event":"listening"'));
      const listening = JSON.parse(
        bot
          .output()
          .split('\n')
          .find((l) => l.includes('"event":"listening"'))!,
      ) as { port: number; mode: string; pacs: string };
      expect(listening).toMatchObject({ mode: 'production', pacs: 'orthanc' });
      expect(bot.output()).not.toContain('"event":"development-mode"');
      const base = `http://127.0.0.1:${listening.port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ status: 'ready', checks: { database: { ok: true, reason: null } } });
      const detail = await fetch(`${base}/readyz?pacs=1`);
      expect(detail.status).toBe(503);
      expect(await detail.json()).toMatchObject({ checks: { pacs: { ok: false, reason: 'unreachable' } } });
      // No token, no turn: production authenticates every request.
      const unauthenticated = await fetch(`${base}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'message', text: 'help' }),
      });
      expect(unauthenticated.status).toBe(401);
    } finally {
      bot.child.kill('SIGTERM');
    }
    expect(await bot.exited).toBe(0);
  });
});
