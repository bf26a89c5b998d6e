/**
 * The store contract against every adapter: the memory fake, SQLite in memory and SQLite in a file.
 * Then what only a file can show: a second connection, a reopen, a lock held by someone else, and
 * separate processes racing to migrate and create.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createMemoryStore } from '../../src/adapters/store/memory-store';
import { openSqliteStore } from '../../src/adapters/store/sqlite-store';
import { StoreError } from '../../src/ports/store-port';
import { auditEvent, expectStoreError, newRetrieval, storeContract } from './store-contract';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'store-contract-'));
let files = 0;
/** A path for a new database file, in folders that do not exist yet (the store creates them). */
const newFile = (): string => path.join(tmp, `run-${++files}`, 'data', 'image-sharing.sqlite');

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

storeContract('memory', () => Promise.resolve(createMemoryStore()));
storeContract('SQLite :memory:', () => Promise.resolve(openSqliteStore(':memory:')));
storeContract('SQLite file', () => Promise.resolve(openSqliteStore(newFile())));

describe('SQLite store on a file', () => {
  it('sets up WAL, records each migration once and enforces one active retrieval per study in the schema', async () => {
    const file = newFile();
    const store = openSqliteStore(file);
    await store.migrate();
    await store.migrate();
    await store.createRetrieval(newRetrieval('r1'));
    const raw = new Database(file);
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(raw.prepare('SELECT version FROM schema_migrations').all()).toEqual([{ version: 1 }]);
      const indexes = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all();
      expect(indexes).toEqual(['audit_events_by_time', 'retrieval_transitions_by_retrieval', 'retrievals_active', 'retrievals_by_requester', 'retrievals_one_active']);
      // Even a writer that skips the store's check cannot add a second active retrieval of the study.
      const copy = raw.prepare<[], Record<string, unknown>>("SELECT * FROM retrievals WHERE id = 'r1'").get()!;
      const columns = Object.keys(copy);
      const insert = raw.prepare(`INSERT INTO retrievals (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`);
      expect(() => insert.run({ ...copy, id: 'r2' })).toThrow(/UNIQUE constraint failed/);
      expect(() => insert.run({ ...copy, id: 'r3', state: 'stored' })).not.toThrow();
      expect(() => insert.run({ ...copy, id: 'r4', state: 'lost' })).toThrow(/CHECK constraint failed/);
      // Transitions must belong to a retrieval when foreign keys are on, as the store turns them on.
      raw.pragma('foreign_keys = ON');
      expect(() => raw.prepare("INSERT INTO retrieval_transitions (retrieval_id, to_state, at) VALUES ('nope', 'requested', 'x')").run()).toThrow(/FOREIGN KEY/);
    } finally {
      raw.close();
      await store.close();
    }
  });

  it('lets a second store on the same file see the first one\'s writes at once', async () => {
    const file = newFile();
    const first = openSqliteStore(file);
    const second = openSqliteStore(file);
    try {
      await first.migrate();
      await second.migrate();
      await first.createRetrieval(newRetrieval('r1'));
      expect((await second.getRetrieval('r1'))?.state).toBe('requested');
      expect(await second.createRetrieval(newRetrieval('r2'))).toMatchObject({ created: false, retrieval: { id: 'r1' } });
      await second.transition('r1', ['requested'], 'retrieving', '2026-03-01T09:01:00.000Z', { pacsJobId: 'job-1' });
      expect(await first.transition('r1', ['requested'], 'failed', '2026-03-01T09:02:00.000Z')).toBeNull();
      expect((await first.getRetrieval('r1'))?.pacsJobId).toBe('job-1');
      await second.appendAudit(auditEvent('2026-03-01T09:00:00.000Z'));
      expect(await first.auditSince('2026-03-01T00:00:00.000Z')).toHaveLength(1);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('keeps everything across close and reopen', async () => {
    const file = newFile();
    const before = openSqliteStore(file);
    await before.migrate();
    await before.createRetrieval(newRetrieval('r1'));
    const moved = await before.transition('r1', ['requested'], 'retrieving', '2026-03-01T09:01:00.000Z', { pacsJobId: 'job-1', detail: 'started' });
    await before.appendAudit(auditEvent('2026-03-01T09:00:00.000Z', { action: 'retrieval-confirmed', studies: ['1.2.826.0.1.1'] }));
    const transitions = await before.transitions('r1');
    await before.close();

    const after = openSqliteStore(file);
    try {
      await after.migrate();
      expect(await after.getRetrieval('r1')).toEqual(moved);
      expect(await after.transitions('r1')).toEqual(transitions);
      expect(await after.activeRetrievals()).toEqual([moved]);
      expect(await after.auditSince('2026-03-01T00:00:00.000Z')).toEqual([auditEvent('2026-03-01T09:00:00.000Z', { action: 'retrieval-confirmed', studies: ['1.2.826.0.1.1'] })]);
    } finally {
      await after.close();
    }
  });

  it('creates exactly one retrieval when two stores on the same file race for the same study', async () => {
    const file = newFile();
    const a = openSqliteStore(file);
    const b = openSqliteStore(file);
    try {
      await Promise.all([a.migrate(), b.migrate()]);
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).createRetrieval(newRetrieval(`r${i}`))));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.retrieval.id)).size).toBe(1);
      expect(await b.activeRetrievals()).toHaveLength(1);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('answers unavailable while another process holds the write lock past the busy timeout, then recovers', async () => {
    const file = newFile();
    const store = openSqliteStore(file, { busyTimeoutMs: 50 });
    await store.migrate();
    const other = new Database(file);
    try {
      other.exec('BEGIN IMMEDIATE');
      const error = await expectStoreError(store.createRetrieval(newRetrieval('r1')), 'unavailable');
      expect(error.message).toContain('SQLITE_BUSY');
      // Readers are not blocked in WAL mode.
      expect(await store.activeRetrievals()).toEqual([]);
      other.exec('ROLLBACK');
      expect((await store.createRetrieval(newRetrieval('r1'))).created).toBe(true);
      expect(await store.transitions('r1')).toHaveLength(1);
    } finally {
      other.close();
      await store.close();
    }
  });

  it('answers unavailable before migrate on a new file, and for a file it cannot open', async () => {
    const store = openSqliteStore(newFile());
    try {
      await expectStoreError(store.getRetrieval('r1'), 'unavailable');
    } finally {
      await store.close();
    }
    const folder = path.join(tmp, 'a-folder');
    fs.mkdirSync(folder);
    expect(() => openSqliteStore(folder)).toThrow(StoreError);
    try {
      openSqliteStore(folder);
    } catch (error) {
      expect((error as StoreError).reason).toBe('unavailable');
    }
  });

  it('refuses to run on a schema newer than it knows', async () => {
    const file = newFile();
    const store = openSqliteStore(file);
    await store.migrate();
    const raw = new Database(file);
    raw.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'from the future', '2030-01-01T00:00:00Z')").run();
    raw.close();
    try {
      const error = await expectStoreError(store.migrate(), 'unavailable');
      expect(error.message).toContain('999');
    } finally {
      await store.close();
    }
  });
});

/**
 * A child process that loads the store's TypeScript source (transpiled on the fly), waits for a
 * line on stdin so that all children start together, then migrates a new file and asks for the
 * same study `count` times, printing what it got as one JSON line.
 */
const workerSource = `
const fs = require('node:fs');
const ts = require(process.env.TS_PATH);
require.extensions['.ts'] = (module, filename) => {
  const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  module._compile(outputText, filename);
};
const { openSqliteStore } = require(process.env.STORE_PATH);
const [file, worker, count] = process.argv.slice(2);
process.stdout.write('ready\\n');
process.stdin.once('data', async () => {
  process.stdin.pause();
  try {
    const store = openSqliteStore(file);
    await store.migrate();
    const results = [];
    for (let i = 0; i < Number(count); i++) {
      const { retrieval, created } = await store.createRetrieval({
        id: 'w' + worker + '-' + i,
        requester: { teamsUserId: '29:w' + worker, entraObjectId: null, displayName: 'Worker', tenantId: null, conversationId: 'c' },
        site: 'exeter',
        nhsNumber: '9434765919',
        study: { studyInstanceUid: '1.2.826.0.1.1', date: null, description: 'CT', modalities: ['CT'], instanceCount: null },
        createdAt: '2026-03-01T09:00:00.000Z',
        keptUntil: '2026-03-31T09:00:00.000Z',
        cardActivityId: null,
      });
      results.push({ id: retrieval.id, created });
    }
    await store.close();
    process.stdout.write(JSON.stringify(results) + '\\n');
  } catch (error) {
    process.stderr.write(String(error && error.stack) + '\\n');
    process.exitCode = 1;
  }
});
`;

interface WorkerResult {
  readonly id: string;
  readonly created: boolean;
}

describe('SQLite store across processes', () => {
  it('migrates once and creates exactly one retrieval when four processes start on a new file at once', async () => {
    const script = path.join(tmp, 'race-worker.js');
    fs.writeFileSync(script, workerSource);
    const file = newFile();
    const env = {
      ...process.env,
      TS_PATH: require.resolve('typescript'),
      STORE_PATH: path.resolve(__dirname, '../../src/adapters/store/sqlite-store.ts'),
    };
    const workers = Array.from({ length: 4 }, (_, worker) => {
      const child = spawn(process.execPath, [script, file, String(worker), '25'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const ready = new Promise<void>((resolve) => {
        const check = (): void => {
          if (stdout.startsWith('ready\n')) resolve();
        };
        child.stdout.on('data', check);
      });
      const exited = new Promise<WorkerResult[]>((resolve, reject) =>
        child.on('exit', (code) => {
          if (code !== 0) reject(new Error(`worker ${worker} exited ${String(code)}: ${stderr}`));
          else resolve(JSON.parse(stdout.slice('ready\n'.length)) as WorkerResult[]);
        }),
      );
      return { child, ready, exited };
    });
    await Promise.all(workers.map((w) => w.ready));
    for (const w of workers) w.child.stdin.end('go\n');
    const results = (await Promise.all(workers.map((w) => w.exited))).flat();

    expect(results).toHaveLength(100);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    const raw = new Database(file, { readonly: true });
    try {
      expect(raw.prepare('SELECT version FROM schema_migrations').all()).toEqual([{ version: 1 }]);
      expect(raw.prepare('SELECT COUNT(*) FROM retrievals').pluck().get()).toBe(1);
      expect(raw.prepare('SELECT COUNT(*) FROM retrieval_transitions').pluck().get()).toBe(1);
    } finally {
      raw.close();
    }
  }, 60_000);
});
