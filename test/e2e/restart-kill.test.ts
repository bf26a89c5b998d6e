/**
 * The bot killed with SIGKILL between confirmation and completion, then restarted, still sends
 * exactly one completion message: real bot processes (`node dist/src/index.js`), real Orthanc
 * servers, SQLite on disk, and a stand-in Bot Connector listening on loopback.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { projectRoot } from '../../src/config/config';
import { describeWithOrthanc, orthancBotEnv, startOrthancLab, type OrthancLab } from '../support/orthanc-harness';
import { distractorStudy, exeterStudies, localStudies, seedStudies } from '../support/orthanc-seed';

interface Posted {
  method: string;
  path: string;
  body: { text?: string; attachments?: Array<{ content: unknown }>; [key: string]: unknown };
}

/** A loopback stand-in for the Bot Connector: records what the bot posts, answers with ids. */
async function startConnector(onPost: (posted: Posted) => void): Promise<{ url: string; posted: Posted[]; close: () => Promise<void> }> {
  const posted: Posted[] = [];
  const server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (chunk: Buffer) => (data += chunk.toString()));
    req.on('end', () => {
      const entry = { method: req.method ?? '', path: req.url ?? '', body: data ? (JSON.parse(data) as Posted['body']) : {} };
      posted.push(entry);
      onPost(entry);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: `activity-${posted.length}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    posted,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function startBot(env: Record<string, string>): { child: ChildProcess; port: Promise<number>; output: () => string } {
  const child = spawn(process.execPath, [path.join(projectRoot, 'dist', 'src', 'index.js')], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  let output = '';
  const port = new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((l) => l.includes('"event":"listening"'));
      if (line) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', () => reject(new Error(`bot exited: ${output}`)));
  });
  port.catch(() => undefined);
  return { child, port, output: () => output };
}

async function waitFor<T>(probe: () => T | undefined, ms: number): Promise<T> {
  for (let waited = 0; waited < ms; waited += 50) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('timed out');
}

const textOf = (node: unknown): string => JSON.stringify(node ?? '');

describeWithOrthanc('a bot killed mid-retrieval', () => {
  let lab: OrthancLab;
  let dir: string;

  beforeAll(async () => {
    // dist/ is built by test/support/global-setup.ts.
    lab = await startOrthancLab({ remotes: [{ modality: 'EXETER', aet: 'EXETER_PACS' }] });
    await Promise.all([seedStudies(lab.remote('EXETER'), [...exeterStudies, distractorStudy]), seedStudies(lab.local, localStudies)]);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kill-'));
  }, 120_000);
  afterAll(async () => {
    await lab?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('sends exactly one completion message after SIGKILL and restart', async () => {
    let bot: ReturnType<typeof startBot> | null = null;
    let killedAt = -1;
    const connector = await startConnector((posted) => {
      // Kill the bot the moment it reports the retrieval started: the job is still running in Orthanc.
      if (killedAt < 0 && (posted.body.text ?? '').includes('Started: CT Head')) {
        killedAt = posted.path.length;
        bot?.child.kill('SIGKILL');
      }
    });
    const env = {
      PORT: '0',
      HOST: '127.0.0.1',
      ...orthancBotEnv(lab),
      DATABASE_URL: `sqlite:${path.join(dir, 'bot.sqlite')}`,
      CARD_SIGNING_SECRET: 'a-fixed-secret-for-this-test-0123456789',
    };
    bot = startBot(env);
    try {
      const port = await bot.port;
      let sequence = 0;
      const send = async (activity: Record<string, unknown>) => {
        sequence += 1;
        const res = await fetch(`http://127.0.0.1:${port}/api/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            type: 'message',
            id: `m-${sequence}`,
            // No timestamp: the bot process polls by its own clock, so the activity must be read by it too.
            channelId: 'msteams',
            serviceUrl: connector.url,
            from: { id: '29:user-1', name: 'Test Clinician', aadObjectId: 'oid-1' },
            recipient: { id: '28:bot' },
            conversation: { id: 'a:chat-1', conversationType: 'personal', tenantId: 't' },
            ...activity,
          }),
        });
        expect(res.status).toBe(200);
      };

      await send({ text: 'find images for 943 476 5919' });
      const studies = await waitFor(() => connector.posted.find((p) => textOf(p.body).includes('Retrieve selected')), 15_000);
      const card = studies.body.attachments![0]!.content as { body: Array<Record<string, unknown>> };
      const pick = JSON.stringify(card).match(/"id":"(pick-\d)","title":"[^"]*CT Head/)![1]!;
      const pickData = (JSON.stringify(card).match(/"title":"Retrieve selected","data":(\{[^}]*\})/) ?? [])[1]!;
      await send({ value: { ...(JSON.parse(pickData) as object), [pick]: 'true' }, replyToId: 'studies-card' });
      const confirmCard = await waitFor(() => connector.posted.find((p) => textOf(p.body).includes('Confirm retrieval')), 5_000);
      const confirmData = (JSON.stringify(confirmCard.body).match(/"title":"Confirm retrieval","style":"positive","data":(\{[^}]*\})/) ??
        [])[1]!;
      await send({ value: JSON.parse(confirmData), replyToId: 'status-card' });

      await waitFor(() => (killedAt >= 0 ? true : undefined), 15_000);
      const killed = bot.child;
      await new Promise<void>((resolve) =>
        killed.exitCode !== null || killed.signalCode !== null ? resolve() : killed.once('exit', () => resolve()),
      );
      const completions = () => connector.posted.filter((p) => (p.body.text ?? '').includes('is now on UH Bristol PACS'));
      expect(completions()).toHaveLength(0);

      // Restart on the same database: it resumes watching and announces the study once.
      bot = startBot(env);
      await bot.port;
      await waitFor(() => (completions().length > 0 ? true : undefined), 15_000);
      // Give it several more poll cycles to show no second message comes.
      await new Promise((r) => setTimeout(r, 3000));
      expect(completions()).toHaveLength(1);
      expect(completions()[0]!.body.text).toContain('CT Head from Exeter (5 Nov 2023), 5 images, is now on UH Bristol PACS');
      // The status card was updated in place to "stored".
      expect(
        connector.posted.some(
          (p) => p.method === 'PUT' && p.path.endsWith('/activities/status-card') && textOf(p.body).includes('stored on UH Bristol PACS'),
        ),
      ).toBe(true);
    } finally {
      const last = bot.child;
      if (last.exitCode === null && last.signalCode === null) {
        last.kill('SIGTERM');
        await new Promise((r) => last.once('exit', r));
      }
      await connector.close();
    }
  }, 90_000);
});
