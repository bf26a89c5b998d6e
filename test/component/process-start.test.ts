/**
 * The built bot as a real process: `node dist/src/index.js`, as `npm start` runs it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../src/config/config';

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
    expect(bot.output().trim()).toBe('Refusing to start: NODE_ENV=production needs MicrosoftAppId (the Azure Bot app id); refusing to start.');
  });

  it('refuses a bad setting, naming it', async () => {
    const bot = run({ PORT: 'eighty' });
    expect(await bot.exited).toBe(1);
    expect(bot.output().trim()).toBe('Refusing to start: PORT is invalid: must be number');
  });

  it.each([
    ['a too-short CARD_SIGNING_SECRET', { CARD_SIGNING_SECRET: 'Sh0rtSecretValue' }, 'CARD_SIGNING_SECRET is invalid: must be at least 32 characters', 'Sh0rtSecretValue'],
    ['a DATABASE_URL of the wrong kind, with a password', { DATABASE_URL: 'mysql://admin:Pa55wordInUrl@db.example/x' }, 'DATABASE_URL is invalid: must be sqlite:PATH or postgres://...', 'Pa55wordInUrl'],
    ['a PostgreSQL DATABASE_URL that cannot be reached, with a password', { DATABASE_URL: 'postgres://admin:Pa55wordInUrl@127.0.0.1:1/x', TEST_LAB: 'true' }, 'Refusing to start: ', 'Pa55wordInUrl'],
    ['an unknown PACS_BACKEND', { PACS_BACKEND: 'Hunter2Backend' }, 'PACS_BACKEND is invalid: must be one of demo, orthanc', 'Hunter2Backend'],
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
      const listening = bot.output().split('\n').find((l) => l.includes('"event":"listening"'))!;
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
