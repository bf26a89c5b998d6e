/**
 * The store contract against every adapter: the memory fake, SQLite in memory and SQLite in a file.
 * Then what only a file can show: a second connection, a reopen, a lock held by someone else, an
 * upgrade of an older schema, and separate processes racing to migrate, create and claim.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createMemoryStore } from '../support/fakes/memory-store';
import { migrations, runMigrations } from '../../src/adapters/store/sqlite/sqlite-migrations';
import { openSqliteStore } from '../../src/adapters/store/sqlite/sqlite-store';
import { StoreError, type Notification } from '../../src/ports/store-port';
import {
  alice,
  auditEvent,
  endRetrieval,
  expectPreClaimsKeyDone,
  expectStoreError,
  newRetrieval,
  preClaimsKey,
  storeContract,
  storedReference,
} from './store-contract';

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

describe("an embedded store's clock", () => {
  it.each([
    ['memory', (clock: () => Date) => createMemoryStore({ clock })],
    ['SQLite', (clock: () => Date) => openSqliteStore(':memory:', { clock })],
  ])("is its host's, so a %s store reads the clock it is given", async (_name, open) => {
    let now = new Date('2026-03-01T10:00:00.000Z');
    const store = open(() => now);
    await store.migrate();
    try {
      expect(await store.clockNow()).toBe('2026-03-01T10:00:00.000Z');
      now = new Date('2026-03-29T01:30:00.000Z');
      expect(await store.clockNow()).toBe('2026-03-29T01:30:00.000Z');
    } finally {
      await store.close();
    }
  });
});

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
      expect(raw.prepare('SELECT version FROM schema_migrations ORDER BY version').all()).toEqual([
        { version: 1 },
        { version: 2 },
        { version: 3 },
        { version: 4 },
        { version: 5 },
        { version: 6 },
        { version: 7 },
      ]);
      const indexes = raw
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .pluck()
        .all();
      expect(indexes).toEqual([
        'activity_claims_by_expiry',
        'audit_events_by_time',
        'audit_events_by_user',
        'notifications_by_retrieval',
        'notifications_claimable',
        'retrieval_transitions_by_retrieval',
        'retrievals_active',
        'retrievals_by_requester',
        'retrievals_by_study',
        'retrievals_one_active',
      ]);
      // Even a writer that skips the store's check cannot add a second active retrieval of the study.
      const copy = raw.prepare<[], Record<string, unknown>>("SELECT * FROM retrievals WHERE id = 'r1'").get()!;
      const columns = Object.keys(copy);
      const insert = raw.prepare(`INSERT INTO retrievals (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`);
      expect(() => insert.run({ ...copy, id: 'r2' })).toThrow(/UNIQUE constraint failed/);
      expect(() => insert.run({ ...copy, id: 'r3', state: 'stored' })).not.toThrow();
      expect(() => insert.run({ ...copy, id: 'r4', state: 'lost' })).toThrow(/CHECK constraint failed/);
      // Transitions must belong to a retrieval when foreign keys are on, as the store turns them on.
      raw.pragma('foreign_keys = ON');
      expect(() =>
        raw.prepare("INSERT INTO retrieval_transitions (retrieval_id, to_state, at) VALUES ('nope', 'requested', 'x')").run(),
      ).toThrow(/FOREIGN KEY/);
    } finally {
      raw.close();
      await store.close();
    }
  });

  it('allows one notification per transition, of a known kind and state, with a whole lease, in the schema', async () => {
    const file = newFile();
    const store = openSqliteStore(file);
    await store.migrate();
    await endRetrieval(store, 'r1', '1.2.1', 'stored', '2026-03-01T09:10:00.000Z');
    await store.saveReference(storedReference());
    const raw = new Database(file);
    try {
      raw.pragma('foreign_keys = ON');
      const copy = raw.prepare<[], Record<string, unknown>>('SELECT * FROM notifications').get()!;
      const columns = Object.keys(copy);
      const insert = raw.prepare(`INSERT INTO notifications (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`);
      const raw2 =
        (changes: Record<string, unknown>): (() => void) =>
        () =>
          insert.run({ ...copy, id: 'n2', ...changes });
      // The same transition cannot owe a second message, whoever writes it.
      expect(raw2({})).toThrow(/UNIQUE constraint failed: notifications.transition_seq/);
      const requested = raw.prepare<[], number>("SELECT seq FROM retrieval_transitions WHERE to_state = 'requested'").pluck().get()!;
      expect(raw2({ transition_seq: requested, kind: 'retrieving' })).toThrow(/CHECK constraint failed/);
      expect(raw2({ transition_seq: requested, state: 'lost' })).toThrow(/CHECK constraint failed/);
      expect(raw2({ transition_seq: requested, lease_owner: 'bot-a' })).toThrow(/CHECK constraint failed/);
      expect(raw2({ transition_seq: requested, state: 'sent' })).toThrow(/CHECK constraint failed/);
      expect(
        raw2({ transition_seq: requested, lease_owner: 'bot-a', lease_until: 'x', lease_until_ms: 1, state: 'undeliverable' }),
      ).toThrow(/CHECK constraint failed/);
      expect(raw2({ transition_seq: 999 })).toThrow(/FOREIGN KEY/);
      expect(raw2({ transition_seq: requested, retrieval_id: 'nope' })).toThrow(/FOREIGN KEY/);
      expect(raw2({ transition_seq: requested })).not.toThrow();
      // One reference per user and conversation.
      const reference = raw.prepare<[], Record<string, unknown>>('SELECT * FROM conversation_references').get()!;
      const keys = Object.keys(reference);
      expect(() =>
        raw
          .prepare(`INSERT INTO conversation_references (${keys.join(', ')}) VALUES (${keys.map((c) => `@${c}`).join(', ')})`)
          .run(reference),
      ).toThrow(/UNIQUE constraint failed/);
    } finally {
      raw.close();
      await store.close();
    }
  });

  it('upgrades a file written at schema version 3: activity keys seen before claims existed mean done, for 24 hours from when seen', async () => {
    const file = newFile();
    await openSqliteStore(file).close();
    const v3 = new Database(file);
    runMigrations(v3, migrations.slice(0, 3));
    const seenMs = Date.parse('2026-03-01T09:00:00.000Z');
    v3.prepare('INSERT INTO processed_activities (activity_key, seen_at_ms) VALUES (?, ?)').run(preClaimsKey, seenMs);
    v3.close();
    const store = openSqliteStore(file);
    try {
      await store.migrate();
      await expectPreClaimsKeyDone(store);
    } finally {
      await store.close();
    }
  });

  it('upgrades a file written at schema version 1 in place, keeping its data and owing nothing for old endings', async () => {
    const file = newFile();
    const old = openSqliteStore(file);
    await old.close();
    const v1 = new Database(file);
    runMigrations(v1, migrations.slice(0, 1));
    v1.close();
    // Write through the store's statements that exist at version 1: create and end a retrieval.
    const raw = new Database(file);
    raw.exec(`
      INSERT INTO retrievals (id, requester_teams_user_id, requester_display_name, requester_conversation_id, site, nhs_number,
        study_instance_uid, study_description, study_modalities, state, created_at, created_at_ms, updated_at, kept_until)
      VALUES ('old', '29:alice', 'Dr Alice Example', 'a:conversation-alice', 'exeter', '9434765919', '1.2.1', 'CT', '["CT"]',
        'stored', '2026-02-01T09:00:00.000Z', 1769936400000, '2026-02-01T09:10:00.000Z', '2026-03-03T09:00:00.000Z');
      INSERT INTO retrieval_transitions (retrieval_id, from_state, to_state, at) VALUES ('old', NULL, 'requested', '2026-02-01T09:00:00.000Z');
      INSERT INTO retrieval_transitions (retrieval_id, from_state, to_state, at) VALUES ('old', 'requested', 'retrieving', '2026-02-01T09:01:00.000Z');
      INSERT INTO retrieval_transitions (retrieval_id, from_state, to_state, at) VALUES ('old', 'retrieving', 'stored', '2026-02-01T09:10:00.000Z');
    `);
    expect(raw.prepare('SELECT version FROM schema_migrations').pluck().all()).toEqual([1]);
    raw.close();

    const store = openSqliteStore(file);
    try {
      await store.migrate();
      expect(await store.getRetrieval('old')).toMatchObject({ state: 'stored', updatedAt: '2026-02-01T09:10:00.000Z' });
      expect(await store.transitions('old')).toHaveLength(3);
      expect(await store.notificationsFor('old')).toEqual([]);
      expect(await store.claimNotifications('bot-a', '2026-03-01T10:00:00.000Z', 60_000, 10)).toEqual([]);
      await endRetrieval(store, 'new', '1.2.1', 'failed', '2026-03-01T09:10:00.000Z');
      expect((await store.claimNotifications('bot-a', '2026-03-01T10:00:00.000Z', 60_000, 10)).map((n) => n.retrievalId)).toEqual(['new']);
    } finally {
      await store.close();
    }
    const check = new Database(file, { readonly: true });
    try {
      expect(check.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    } finally {
      check.close();
    }
  });

  /** A file at schema version 6 holding a stored retrieval (its notification pending) and one downloading. */
  function fileAtVersion6(extraSql = ''): string {
    const file = newFile();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const v6 = new Database(file);
    runMigrations(v6, migrations.slice(0, 6));
    // better-sqlite3 turns foreign keys on by default; the broken file below is written with them off.
    if (extraSql !== '') v6.pragma('foreign_keys = OFF');
    v6.exec(`
      INSERT INTO retrievals (rowid, id, requester_teams_user_id, requester_display_name, requester_conversation_id, site, nhs_number,
        study_instance_uid, study_description, study_modalities, study_instance_count, state, pacs_job_id, created_at, created_at_ms,
        updated_at, kept_until)
      VALUES
        (7, 'done', '29:alice', 'Dr Alice Example', 'a:chat', 'exeter', '9434765919', '1.2.1', 'CT', '["CT"]', 5, 'stored', 'job-1',
          '2026-02-01T09:00:00.000Z', 1769936400000, '2026-02-01T09:10:00.000Z', '2026-03-03T09:00:00.000Z'),
        (3, 'busy', '29:alice', 'Dr Alice Example', 'a:chat', 'exeter', '9434765919', '1.2.2', 'MR', '["MR"]', 3, 'retrieving', 'job-2',
          '2026-02-01T09:20:00.000Z', 1769937600000, '2026-02-01T09:21:00.000Z', '2026-03-03T09:20:00.000Z');
      INSERT INTO retrieval_transitions (retrieval_id, from_state, to_state, at) VALUES
        ('done', NULL, 'requested', '2026-02-01T09:00:00.000Z'),
        ('done', 'requested', 'retrieving', '2026-02-01T09:01:00.000Z'),
        ('done', 'retrieving', 'stored', '2026-02-01T09:10:00.000Z'),
        ('busy', NULL, 'requested', '2026-02-01T09:20:00.000Z'),
        ('busy', 'requested', 'retrieving', '2026-02-01T09:21:00.000Z');
      INSERT INTO notifications (id, retrieval_id, transition_seq, kind, state, attempts, next_attempt_at, next_attempt_at_ms,
        created_at, created_at_ms)
      VALUES ('n-done', 'done', 3, 'stored', 'pending', 0, '2026-02-01T09:10:00.000Z', 1769937000000,
        '2026-02-01T09:10:00.000Z', 1769937000000);
      ${extraSql}
    `);
    v6.close();
    return file;
  }

  it('upgrades a file at schema version 6 to 7 (tables rebuilt): every row, reference and notification kept, and a retrieval may be cancelled', async () => {
    const file = fileAtVersion6();
    const store = openSqliteStore(file);
    try {
      expect(await store.migrate()).toEqual({ applied: [7], version: 7 });
      expect(await store.getRetrieval('done')).toMatchObject({ state: 'stored', pacsJobId: 'job-1', study: { instanceCount: 5 } });
      expect((await store.getRetrieval('done'))!.study).not.toHaveProperty('accessionNumber');
      expect((await store.transitions('done')).map((t) => t.to)).toEqual(['requested', 'retrieving', 'stored']);
      expect((await store.notificationsFor('done')).map((n) => [n.id, n.kind, n.state])).toEqual([['n-done', 'stored', 'pending']]);
      expect((await store.activeRetrievals()).map((r) => r.id)).toEqual(['busy']);
      // The one-active-per-study index is back: a second retrieval of the busy study is not created.
      expect((await store.createRetrieval(newRetrieval('again', '1.2.2'))).created).toBe(false);
      const cancelled = await store.transition('busy', ['requested', 'retrieving'], 'cancelled', '2026-02-01T09:30:00.000Z');
      expect(cancelled?.state).toBe('cancelled');
      // Transition numbers go on from where they were (AUTOINCREMENT kept), so no notification can point at a reused one.
      const raw = new Database(file);
      try {
        expect(raw.prepare("SELECT MAX(seq) FROM retrieval_transitions WHERE retrieval_id = 'busy'").pluck().get()).toBe(6);
        expect(raw.pragma('foreign_key_check')).toEqual([]);
        // rowids (the tie-break of retrievals created in the same millisecond) are kept.
        expect(raw.prepare('SELECT rowid, id FROM retrievals ORDER BY rowid').all()).toEqual([
          { rowid: 3, id: 'busy' },
          { rowid: 7, id: 'done' },
        ]);
        raw.pragma('foreign_keys = ON');
        expect(() =>
          raw.prepare("INSERT INTO retrieval_transitions (retrieval_id, to_state, at) VALUES ('nope', 'cancelled', 'x')").run(),
        ).toThrow(/FOREIGN KEY/);
        expect(() => raw.prepare("UPDATE retrievals SET state = 'lost' WHERE id = 'done'").run()).toThrow(/CHECK constraint failed/);
      } finally {
        raw.close();
      }
    } finally {
      await store.close();
    }
  });

  it('refuses to rebuild a file whose references are already broken, leaving it at version 6 untouched', async () => {
    // A notification pointing at a transition that is not there (written with foreign keys off).
    const file = fileAtVersion6(`
      INSERT INTO notifications (id, retrieval_id, transition_seq, kind, state, attempts, next_attempt_at, next_attempt_at_ms,
        created_at, created_at_ms)
      VALUES ('n-lost', 'done', 99, 'stored', 'pending', 0, '2026-02-01T09:10:00.000Z', 1769937000000,
        '2026-02-01T09:10:00.000Z', 1769937000000);
    `);
    const store = openSqliteStore(file);
    try {
      await expectStoreError(store.migrate(), 'invalid');
    } finally {
      await store.close();
    }
    const raw = new Database(file, { readonly: true });
    try {
      expect(raw.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get()).toBe(6);
      expect(raw.prepare("SELECT sql FROM sqlite_master WHERE name = 'retrievals'").pluck().get()).not.toContain('cancelled');
      expect(raw.prepare('SELECT id, state FROM retrievals ORDER BY id').all()).toEqual([
        { id: 'busy', state: 'retrieving' },
        { id: 'done', state: 'stored' },
      ]);
      expect(raw.prepare('SELECT COUNT(*) FROM retrieval_transitions').pluck().get()).toBe(5);
    } finally {
      raw.close();
    }
  });

  it("lets a second store on the same file see the first one's writes at once", async () => {
    const file = newFile();
    const first = openSqliteStore(file);
    const second = openSqliteStore(file);
    try {
      // The first applies every migration; the second finds the schema up to date.
      expect(await first.migrate()).toEqual({ applied: [1, 2, 3, 4, 5, 6, 7], version: 7 });
      expect(await second.migrate()).toEqual({ applied: [], version: 7 });
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

  it('shares references and leases between two stores on the same file', async () => {
    const file = newFile();
    const first = openSqliteStore(file);
    const second = openSqliteStore(file);
    try {
      await first.migrate();
      await second.migrate();
      await first.saveReference(storedReference());
      expect(await second.referenceFor(alice.teamsUserId, alice.conversationId)).toEqual(storedReference());
      const { id } = await endRetrieval(first, 'r1', '1.2.1', 'stored', '2026-03-01T09:10:00.000Z');
      expect(await first.claimNotifications('bot-a', '2026-03-01T10:00:00.000Z', 60_000, 10)).toHaveLength(1);
      expect(await second.claimNotifications('bot-b', '2026-03-01T10:00:30.000Z', 60_000, 10)).toEqual([]);
      expect(await second.claimNotifications('bot-b', '2026-03-01T10:01:00.000Z', 60_000, 10)).toHaveLength(1);
      expect(await first.settleNotification(id, 'bot-a', { state: 'sent', at: '2026-03-01T10:01:01.000Z' })).toBe(false);
      expect(await second.settleNotification(id, 'bot-b', { state: 'sent', at: '2026-03-01T10:01:02.000Z' })).toBe(true);
      expect(await first.notificationsFor('r1')).toEqual([
        expect.objectContaining({ state: 'sent', attempts: 2, sentAt: '2026-03-01T10:01:02.000Z' }),
      ]);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('keeps references, notifications and live leases across close and reopen', async () => {
    const file = newFile();
    const before = openSqliteStore(file);
    await before.migrate();
    await before.saveReference(storedReference());
    await endRetrieval(before, 'r1', '1.2.1', 'stored', '2026-03-01T09:10:00.000Z');
    await endRetrieval(before, 'r2', '1.2.2', 'failed', '2026-03-01T09:11:00.000Z');
    const [leased] = await before.claimNotifications('bot-a', '2026-03-01T10:00:00.000Z', 60_000, 1);
    const notifications = [...(await before.notificationsFor('r1')), ...(await before.notificationsFor('r2'))];
    await before.close();

    const after = openSqliteStore(file);
    try {
      await after.migrate();
      expect(await after.referenceFor(alice.teamsUserId, alice.conversationId)).toEqual(storedReference());
      expect([...(await after.notificationsFor('r1')), ...(await after.notificationsFor('r2'))]).toEqual(notifications);
      // A restart does not end a lease: the other notification only.
      expect((await after.claimNotifications('bot-b', '2026-03-01T10:00:10.000Z', 60_000, 10)).map((n) => n.retrievalId)).toEqual(['r2']);
      expect(await after.settleNotification(leased!.id, 'bot-a', { state: 'sent', at: '2026-03-01T10:00:20.000Z' })).toBe(true);
    } finally {
      await after.close();
    }
  });

  it('keeps everything across close and reopen', async () => {
    const file = newFile();
    const before = openSqliteStore(file);
    await before.migrate();
    await before.createRetrieval(newRetrieval('r1'));
    const moved = await before.transition('r1', ['requested'], 'retrieving', '2026-03-01T09:01:00.000Z', {
      pacsJobId: 'job-1',
      detail: 'started',
    });
    await before.appendAudit(auditEvent('2026-03-01T09:00:00.000Z', { action: 'retrieval-confirmed', studies: ['1.2.826.0.1.1'] }));
    const transitions = await before.transitions('r1');
    await before.close();

    const after = openSqliteStore(file);
    try {
      await after.migrate();
      expect(await after.getRetrieval('r1')).toEqual(moved);
      expect(await after.transitions('r1')).toEqual(transitions);
      expect(await after.activeRetrievals()).toEqual([moved]);
      expect(await after.auditSince('2026-03-01T00:00:00.000Z')).toEqual([
        auditEvent('2026-03-01T09:00:00.000Z', { action: 'retrieval-confirmed', studies: ['1.2.826.0.1.1'] }),
      ]);
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
 * The start of every child process: loads the store's TypeScript source (transpiled on the fly).
 * A child calls ready() once prepared, then waits for \`started\`: a line on stdin, sent when all
 * children are ready, so that they start together.
 */
const workerPrelude = `
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
const ready = () => process.stdout.write('ready\\n');
const started = new Promise((resolve) => process.stdin.once('data', () => { process.stdin.pause(); resolve(); }));
// Opens and migrates \`file\`, says ready, and once started prints what \`work(store)\` returns as one JSON line.
const withOpenedStore = (file, work) => {
  const opening = (async () => {
    const store = openSqliteStore(file);
    await store.migrate();
    return store;
  })();
  opening.then(ready, () => ready());
  started.then(async () => {
    try {
      const store = await opening;
      const result = await work(store);
      await store.close();
      process.stdout.write(JSON.stringify(result) + '\\n');
    } catch (error) {
      process.stderr.write(String(error && error.stack) + '\\n');
      process.exitCode = 1;
    }
  });
};
`;

/** A child that migrates a new file and asks for the same study `count` times, printing what it got as one JSON line. */
const createWorkerSource = `${workerPrelude}
const [file, worker, count] = process.argv.slice(2);
ready();
started.then(async () => {
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

/**
 * A child that opens an existing file, then (once all are ready) claims notifications as `owner`,
 * `limit` at a time at a fixed instant, until none is left to claim; with settle = 'settle' it
 * settles each one as sent as it goes (after a pause, as if sending). Prints every notification it
 * was handed as one JSON line.
 */
const claimWorkerSource = `${workerPrelude}
const [file, owner, limit, settle] = process.argv.slice(2);
withOpenedStore(file, async (store) => {
  const now = '2026-03-01T10:00:00.000Z';
  const claimed = [];
  for (;;) {
    const batch = await store.claimNotifications(owner, now, 300000, Number(limit));
    if (batch.length === 0) break;
    claimed.push(...batch);
    // Sending takes a while, which lets the other processes in.
    await new Promise((resolve) => setTimeout(resolve, 1));
    if (settle === 'settle') {
      for (const n of batch) {
        if (!(await store.settleNotification(n.id, owner, { state: 'sent', at: now }))) throw new Error('lost a lease it held');
      }
    }
  }
  return claimed;
});
`;

/** A child that claims and finishes the same 50 activity keys as `owner`, printing each outcome, as one JSON line. */
const activityWorkerSource = `${workerPrelude}
const [file, owner] = process.argv.slice(2);
withOpenedStore(file, async (store) => {
  const results = [];
  // The same 50 activities, each re-delivered to every process at once.
  for (let i = 0; i < 50; i++) {
    const found = await store.claimActivity({ key: 'msteams|a:chat|' + i, owner, at: '2026-03-01T09:00:00.000Z', claimMs: 10000, keepMs: 86400000 });
    if (found.outcome === 'claimed' && !(await store.finishActivity('msteams|a:chat|' + i, owner))) throw new Error('lost a claim it held');
    results.push(found.outcome);
  }
  return results;
});
`;

/** Runs `source` in one child process per argument list, starts them together, and returns what each printed. */
async function raceProcesses<T>(name: string, source: string, argLists: readonly (readonly string[])[]): Promise<T[]> {
  const script = path.join(tmp, `${name}.js`);
  fs.writeFileSync(script, source);
  const env = {
    ...process.env,
    TS_PATH: require.resolve('typescript'),
    STORE_PATH: path.resolve(__dirname, '../../src/adapters/store/sqlite/sqlite-store.ts'),
  };
  const workers = argLists.map((args, worker) => {
    const child = spawn(process.execPath, [script, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
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
    const exited = new Promise<T>((resolve, reject) =>
      child.on('exit', (code) => {
        if (code !== 0) reject(new Error(`worker ${worker} exited ${String(code)}: ${stderr}`));
        else resolve(JSON.parse(stdout.slice('ready\n'.length)) as T);
      }),
    );
    return { child, ready, exited };
  });
  await Promise.all(workers.map((w) => w.ready));
  for (const w of workers) w.child.stdin.end('go\n');
  return Promise.all(workers.map((w) => w.exited));
}

interface WorkerResult {
  readonly id: string;
  readonly created: boolean;
}

describe('SQLite store across processes', () => {
  it('migrates once and creates exactly one retrieval when four processes start on a new file at once', async () => {
    const file = newFile();
    const argLists = Array.from({ length: 4 }, (_, worker) => [file, String(worker), '25']);
    const results = (await raceProcesses<WorkerResult[]>('create-worker', createWorkerSource, argLists)).flat();

    expect(results).toHaveLength(100);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    const raw = new Database(file, { readonly: true });
    try {
      expect(raw.prepare('SELECT version FROM schema_migrations ORDER BY version').all()).toEqual([
        { version: 1 },
        { version: 2 },
        { version: 3 },
        { version: 4 },
        { version: 5 },
        { version: 6 },
        { version: 7 },
      ]);
      expect(raw.prepare('SELECT COUNT(*) FROM retrievals').pluck().get()).toBe(1);
      expect(raw.prepare('SELECT COUNT(*) FROM retrieval_transitions').pluck().get()).toBe(1);
    } finally {
      raw.close();
    }
  }, 60_000);

  it('gives each of 50 activities to exactly one of four processes claiming them on one file at once', async () => {
    const file = newFile();
    const owners = ['bot-a', 'bot-b', 'bot-c', 'bot-d'];
    const results = await raceProcesses<string[]>(
      'activity-worker',
      activityWorkerSource,
      owners.map((owner) => [file, owner]),
    );
    for (let i = 0; i < 50; i++) {
      const outcomes = results.map((mine) => mine[i]);
      expect(outcomes.filter((o) => o === 'claimed')).toHaveLength(1);
      for (const o of outcomes) expect(['claimed', 'held', 'done']).toContain(o);
    }
    const raw = new Database(file, { readonly: true });
    try {
      expect(raw.prepare("SELECT COUNT(*) FROM activity_claims WHERE state = 'done'").pluck().get()).toBe(50);
    } finally {
      raw.close();
    }
  }, 60_000);

  it('gives each of 200 notifications to exactly one of four processes claiming on one file at once', async () => {
    const file = newFile();
    const store = openSqliteStore(file);
    const ids = new Set<string>();
    try {
      await store.migrate();
      for (let i = 0; i < 200; i++) {
        const at = `2026-03-01T09:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.000Z`;
        ids.add((await endRetrieval(store, `r${i}`, `1.2.${i}`, i % 2 === 0 ? 'stored' : 'failed', at)).id);
      }
    } finally {
      await store.close();
    }
    expect(ids.size).toBe(200);
    // Two settle as they go (their claims race settlements too), two keep their leases.
    const owners = [
      ['bot-a', '1', 'settle'],
      ['bot-b', '3', 'keep'],
      ['bot-c', '4', 'settle'],
      ['bot-d', '7', 'keep'],
    ] as const;
    const results = await raceProcesses<Notification[]>(
      'claim-worker',
      claimWorkerSource,
      owners.map(([owner, limit, settle]) => [file, owner, limit, settle]),
    );
    const claimed = results.flat();
    // A race, not a relay: more than one process got some.
    expect(results.filter((mine) => mine.length > 0).length).toBeGreaterThan(1);
    expect(claimed).toHaveLength(200);
    expect(new Set(claimed.map((n) => n.id))).toEqual(ids);
    results.forEach((mine, i) => {
      for (const n of mine) expect(n).toMatchObject({ state: 'pending', attempts: 1, leaseOwner: owners[i]![0] });
    });
    const raw = new Database(file, { readonly: true });
    try {
      const rows = raw
        .prepare<[], { id: string; state: string; attempts: number; lease_owner: string | null }>(
          'SELECT id, state, attempts, lease_owner FROM notifications',
        )
        .all();
      expect(rows).toHaveLength(200);
      const ownerOf = new Map(results.flatMap((mine, i) => mine.map((n) => [n.id, owners[i]!] as const)));
      for (const row of rows) {
        const [owner, , settle] = ownerOf.get(row.id)!;
        expect(row).toEqual({
          id: row.id,
          attempts: 1,
          ...(settle === 'settle' ? { state: 'sent', lease_owner: null } : { state: 'pending', lease_owner: owner }),
        });
      }
    } finally {
      raw.close();
    }
  }, 60_000);
});
