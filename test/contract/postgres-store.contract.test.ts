/**
 * The store contract against PostgreSQL (a throwaway server started by the harness; each case gets
 * a schema of its own in this file's database), then what only a shared server can show: several
 * instances (separate pools, as separate processes would have) migrating, creating and claiming
 * notifications at once.
 */
import pg from 'pg';
import { postgresMigrations } from '../../src/adapters/store/postgres/postgres-migrations';
import { openPostgresStore } from '../../src/adapters/store/postgres/postgres-store';
import { StoreError, type Notification, type StorePort } from '../../src/ports/store-port';
import { describeWithPostgres, startPostgres, type PostgresServer } from '../support/postgres-harness';
import { auditEvent, expectPreClaimsKeyDone, expectStoreError, newRetrieval, preClaimsKey, storeContract } from './store-contract';

describeWithPostgres('PostgreSQL store', () => {
  let server: PostgresServer;
  let database: string;
  let schemas = 0;

  /** A new, empty schema in this file's database, and a URL whose search_path puts the store's tables there. */
  async function newSchema(): Promise<string> {
    const schema = `case_${++schemas}`;
    await server.query(database, `CREATE SCHEMA ${schema}`);
    return server.url(database, schema);
  }

  /** Runs `work` on stores that are closed afterwards whatever happens. */
  async function withStores<T>(stores: StorePort[], work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  }

  beforeAll(async () => {
    server = await startPostgres();
    const url = await server.createDatabase('postgres-store-contract');
    database = decodeURIComponent(new URL(url).pathname.slice(1));
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
  }, 30_000);

  storeContract('PostgreSQL', async () => openPostgresStore(await newSchema(), { poolSize: 4 }));

  describe('on a shared server', () => {
    it('gives up a statement held past statementTimeoutMs (a lock another session keeps) as unavailable, and works once it is released', async () => {
      const url = await newSchema();
      const store = openPostgresStore(url, { statementTimeoutMs: 300 });
      const holder = new pg.Client({ connectionString: url });
      await withStores([store], async () => {
        await store.migrate();
        await holder.connect();
        try {
          await holder.query('BEGIN');
          await holder.query('LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE');
          const error = await expectStoreError(store.appendAudit(auditEvent('2026-03-01T09:00:00.000Z')), 'unavailable');
          expect(error.message).not.toContain('9434765919');
          await holder.query('ROLLBACK');
        } finally {
          await holder.end();
        }
        await store.appendAudit(auditEvent('2026-03-01T09:00:01.000Z'));
        expect(await store.auditSince('2026-03-01T00:00:00Z')).toHaveLength(1);
      });
    });

    it("answers the server's clock, the one every instance reads, not this host's", async () => {
      const store = openPostgresStore(await newSchema());
      await withStores([store], async () => {
        const serverMs = async (): Promise<number> => {
          const [row] = await server.query<{ ms: string }>(
            database,
            'SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS ms',
          );
          return Number(row!.ms);
        };
        const before = await serverMs();
        const said = Date.parse(await store.clockNow());
        const after = await serverMs();
        expect(said).toBeGreaterThanOrEqual(before);
        expect(said).toBeLessThanOrEqual(after);
      });
    });

    it('records each migration once, and enforces one active retrieval per study and the state set in the schema', async () => {
      const url = await newSchema();
      const schema = `case_${schemas}`;
      const store = openPostgresStore(url);
      await withStores([store], async () => {
        await store.migrate();
        await store.migrate();
        await store.createRetrieval(newRetrieval('r1'));
        const versions = await server.query<{ version: number }>(
          database,
          `SELECT version FROM ${schema}.schema_migrations ORDER BY version`,
        );
        expect(versions).toEqual([
          { version: 1 },
          { version: 2 },
          { version: 3 },
          { version: 4 },
          { version: 5 },
          { version: 6 },
          { version: 7 },
        ]);
        const copy = (columns: string, values: string): Promise<unknown> =>
          server.query(
            database,
            `INSERT INTO ${schema}.retrievals (${columns}) SELECT ${values} FROM ${schema}.retrievals WHERE id = 'r1'`,
          );
        const others = `requester_teams_user_id, requester_entra_object_id, requester_display_name, requester_tenant_id,
          requester_conversation_id, site, nhs_number, study_instance_uid, study_date, study_description, study_modalities,
          study_instance_count, pacs_job_id, failure_reason, created_at, created_at_ms, updated_at, kept_until, card_activity_id`;
        // Even a writer that skips the store's check cannot add a second active retrieval of the study.
        await expect(copy(`id, state, ${others}`, `'r2', 'requested', ${others}`)).rejects.toThrow(/retrievals_one_active/);
        await expect(copy(`id, state, ${others}`, `'r3', 'stored', ${others}`)).resolves.toBeDefined();
        await expect(copy(`id, state, ${others}`, `'r4', 'lost', ${others}`)).rejects.toThrow(/check constraint/);
        await expect(
          server.query(
            database,
            `INSERT INTO ${schema}.retrieval_transitions (retrieval_id, to_state, at) VALUES ('nope', 'requested', 'x')`,
          ),
        ).rejects.toThrow(/foreign key/);
      });
    });

    it('applies each migration once when several instances start at once', async () => {
      const url = await newSchema();
      const schema = `case_${schemas}`;
      const stores = Array.from({ length: 6 }, () => openPostgresStore(url, { poolSize: 2 }));
      await withStores(stores, async () => {
        const reports = await Promise.all(stores.map((s) => s.migrate()));
        // One instance applied them all (the advisory lock); the others found the schema up to date.
        expect(reports.filter((r) => r.applied.length > 0)).toEqual([{ applied: [1, 2, 3, 4, 5, 6, 7], version: 7 }]);
        expect(reports.map((r) => r.version)).toEqual([7, 7, 7, 7, 7, 7]);
        const rows = await server.query<{ version: number; n: string }>(
          database,
          `SELECT version, COUNT(*) AS n FROM ${schema}.schema_migrations GROUP BY version ORDER BY version`,
        );
        expect(rows).toEqual([
          { version: 1, n: '1' },
          { version: 2, n: '1' },
          { version: 3, n: '1' },
          { version: 4, n: '1' },
          { version: 5, n: '1' },
          { version: 6, n: '1' },
          { version: 7, n: '1' },
        ]);
        // And every instance can use the schema at once.
        await Promise.all(stores.map((s, i) => s.appendAudit(auditEvent(`2026-03-01T09:00:0${i}.000Z`))));
        expect(await stores[0]!.auditSince('2026-03-01T00:00:00Z')).toHaveLength(6);
      });
    });

    it('upgrades a schema at version 3: activity keys seen before claims existed mean done, for 24 hours from when seen', async () => {
      const url = await newSchema();
      const schema = `case_${schemas}`;
      const upTo3 = postgresMigrations.filter((m) => m.version <= 3);
      await server.query(
        database,
        `SET search_path TO ${schema};
         CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);
         ${upTo3.map((m) => m.sql).join('\n')}
         INSERT INTO schema_migrations (version, name, applied_at) VALUES ${upTo3.map((m) => `(${m.version}, 'v${m.version}', '2026-01-01T00:00:00Z')`).join(', ')};
         INSERT INTO processed_activities (activity_key, seen_at_ms) VALUES ('${preClaimsKey}', ${Date.parse('2026-03-01T09:00:00.000Z')});`,
      );
      const store = openPostgresStore(url);
      await withStores([store], async () => {
        await store.migrate();
        await expectPreClaimsKeyDone(store);
      });
    });

    it("gives each activity to exactly one of two instances racing for it, and a dead owner's claim to one taker", async () => {
      const url = await newSchema();
      const a = openPostgresStore(url, { poolSize: 8 });
      const b = openPostgresStore(url, { poolSize: 8 });
      await withStores([a, b], async () => {
        await Promise.all([a.migrate(), b.migrate()]);
        const at = '2026-03-01T09:00:00.000Z';
        const claims = Array.from({ length: 40 }, (_, i) =>
          (i % 2 === 0 ? a : b).claimActivity({
            key: `msteams|a:chat|${i % 10}`,
            owner: i % 2 === 0 ? 'bot-a' : 'bot-b',
            at,
            claimMs: 10_000,
            keepMs: 86_400_000,
          }),
        );
        const results = await Promise.all(claims);
        for (let key = 0; key < 10; key++) expect(results.filter((r, i) => i % 10 === key && r.outcome === 'claimed')).toHaveLength(1);
        // Both instances see a gone owner's claim; only one of them takes it over.
        await a.claimActivity({ key: 'dead', owner: 'bot-dead', at, claimMs: 10_000, keepMs: 86_400_000 });
        const takers = await Promise.all(
          ['bot-a', 'bot-b', 'bot-a', 'bot-b'].map((owner, i) =>
            (i % 2 === 0 ? a : b).claimActivity({ key: 'dead', owner, at, claimMs: 10_000, keepMs: 86_400_000, takeOverFrom: 'bot-dead' }),
          ),
        );
        expect(takers.filter((r) => r.outcome === 'claimed')).toHaveLength(1);
      });
    });

    it('creates exactly one retrieval when two instances race for the same study', async () => {
      const url = await newSchema();
      const a = openPostgresStore(url, { poolSize: 8 });
      const b = openPostgresStore(url, { poolSize: 8 });
      await withStores([a, b], async () => {
        await Promise.all([a.migrate(), b.migrate()]);
        const results = await Promise.all(
          Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? a : b).createRetrieval(newRetrieval(`r${i}`))),
        );
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(new Set(results.map((r) => r.retrieval.id)).size).toBe(1);
        expect(await b.activeRetrievals()).toHaveLength(1);
        expect(await a.transitions(results[0]!.retrieval.id)).toHaveLength(1);
        // And exactly one of the two instances wins a move from the same state.
        const id = results[0]!.retrieval.id;
        const moves = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            (i % 2 === 0 ? a : b).transition(id, ['requested'], 'retrieving', '2026-03-01T09:01:00.000Z', { pacsJobId: `job-${i}` }),
          ),
        );
        expect(moves.filter((m) => m !== null)).toHaveLength(1);
        expect(await a.transitions(id)).toHaveLength(2);
      });
    }, 30_000);

    it('hands each of 500 pending notifications to exactly one owner when two instances with four owners each claim at once', async () => {
      const url = await newSchema();
      const schema = `case_${schemas}`;
      const a = openPostgresStore(url, { poolSize: 8 });
      const b = openPostgresStore(url, { poolSize: 8 });
      await withStores([a, b], async () => {
        await Promise.all([a.migrate(), b.migrate()]);
        // 500 retrievals that failed at once: 500 pending notifications, written by the transitions.
        for (let batch = 0; batch < 500; batch += 50) {
          await Promise.all(
            Array.from({ length: 50 }, async (_, i) => {
              const id = `r${batch + i}`;
              await a.createRetrieval(newRetrieval(id, `1.2.${batch + i}`));
              await b.transition(id, ['requested'], 'failed', '2026-03-01T09:01:00.000Z', { failureReason: 'unreachable' });
            }),
          );
        }
        const now = '2026-03-01T09:02:00.000Z';
        const owners = [a, b].flatMap((store, s) => Array.from({ length: 4 }, (_, o) => ({ store, owner: `instance-${s}/sender-${o}` })));
        const claimed = await Promise.all(
          owners.map(async ({ store, owner }) => {
            const mine: Notification[] = [];
            for (;;) {
              const got = await store.claimNotifications(owner, now, 60_000, 7);
              if (got.length === 0) return mine;
              expect(got.every((n) => n.leaseOwner === owner && n.attempts === 1 && n.state === 'pending')).toBe(true);
              mine.push(...got);
            }
          }),
        );
        const ids = claimed.flat().map((n) => n.id);
        expect(ids).toHaveLength(500);
        expect(new Set(ids).size).toBe(500);
        // Every owner got a share (the claims really ran side by side), and nothing is left to claim.
        expect(claimed.filter((mine) => mine.length > 0).length).toBeGreaterThan(1);
        expect(await a.claimNotifications('late', now, 60_000, 1000)).toEqual([]);
        const rows = await server.query<{ attempts: number; n: string }>(
          database,
          `SELECT attempts, COUNT(*) AS n FROM ${schema}.notifications WHERE lease_owner IS NOT NULL GROUP BY attempts`,
        );
        expect(rows).toEqual([{ attempts: 1, n: '500' }]);

        // Each owner settles its own; nobody can settle another's.
        const [first] = claimed.find((mine) => mine.length > 0)!;
        expect(await b.settleNotification(first!.id, 'someone-else', { state: 'sent', at: now })).toBe(false);
        await Promise.all(
          claimed.flatMap((mine, i) =>
            mine.map((n) => owners[i]!.store.settleNotification(n.id, owners[i]!.owner, { state: 'sent', at: now })),
          ),
        ).then((settled) => expect(settled.every(Boolean)).toBe(true));
        const states = await server.query<{ state: string; n: string }>(
          database,
          `SELECT state, COUNT(*) AS n FROM ${schema}.notifications GROUP BY state`,
        );
        expect(states).toEqual([{ state: 'sent', n: '500' }]);
      });
    }, 60_000);

    it('lets another instance take over a notification whose lease ran out, and then the first cannot settle it', async () => {
      const url = await newSchema();
      const a = openPostgresStore(url);
      const b = openPostgresStore(url);
      await withStores([a, b], async () => {
        await a.migrate();
        await a.createRetrieval(newRetrieval('r1'));
        await a.transition('r1', ['requested'], 'failed', '2026-03-01T09:01:00.000Z');
        const [first] = await a.claimNotifications('a', '2026-03-01T09:02:00.000Z', 30_000, 10);
        expect(first).toMatchObject({ leaseOwner: 'a', leaseUntil: '2026-03-01T09:02:30.000Z', attempts: 1 });
        expect(await b.claimNotifications('b', '2026-03-01T09:02:29.999Z', 30_000, 10)).toEqual([]);
        const [again] = await b.claimNotifications('b', '2026-03-01T09:02:30.000Z', 30_000, 10);
        expect(again).toMatchObject({ id: first!.id, leaseOwner: 'b', attempts: 2 });
        expect(await a.settleNotification(first!.id, 'a', { state: 'sent', at: '2026-03-01T09:02:31.000Z' })).toBe(false);
        expect(await b.settleNotification(first!.id, 'b', { state: 'sent', at: '2026-03-01T09:02:31.000Z' })).toBe(true);
        expect(await a.notificationsFor('r1')).toEqual([
          expect.objectContaining({ state: 'sent', sentAt: '2026-03-01T09:02:31.000Z', attempts: 2 }),
        ]);
      });
    });

    it('runs a transaction again after a serialization failure or a deadlock, and answers unavailable if they go on', async () => {
      const url = await newSchema();
      const schema = `case_${schemas}`;
      const store = openPostgresStore(url);
      await withStores([store], async () => {
        await store.migrate();
        // A trigger that fails the first `failures` transitions recorded, with the given SQLSTATE. A
        // sequence counts them, since it is not rolled back with the transaction that failed.
        const inject = async (failures: number, code: 'serialization_failure' | 'deadlock_detected'): Promise<void> => {
          await server.query(database, `DROP TRIGGER IF EXISTS flaky ON ${schema}.retrieval_transitions`);
          await server.query(database, `DROP SEQUENCE IF EXISTS ${schema}.flaky_count`);
          await server.query(database, `CREATE SEQUENCE ${schema}.flaky_count`);
          await server.query(
            database,
            `CREATE OR REPLACE FUNCTION ${schema}.flaky() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
               IF nextval('${schema}.flaky_count') <= ${failures} THEN RAISE EXCEPTION 'injected' USING ERRCODE = '${code}'; END IF;
               RETURN NEW;
             END $$`,
          );
          await server.query(
            database,
            `CREATE TRIGGER flaky BEFORE INSERT ON ${schema}.retrieval_transitions FOR EACH ROW EXECUTE FUNCTION ${schema}.flaky()`,
          );
        };
        await inject(2, 'serialization_failure');
        expect((await store.createRetrieval(newRetrieval('r1'))).created).toBe(true);
        expect(await store.transitions('r1')).toHaveLength(1);
        await inject(3, 'deadlock_detected');
        expect(await store.transition('r1', ['requested'], 'failed', '2026-03-01T09:01:00.000Z')).toMatchObject({ state: 'failed' });
        expect(await store.transitions('r1')).toHaveLength(2);
        expect(await store.notificationsFor('r1')).toHaveLength(1);
        await inject(100, 'serialization_failure');
        const error = await expectStoreError(store.transition('r1', ['failed'], 'requested', '2026-03-01T09:02:00.000Z'), 'unavailable');
        expect(error.message).toContain('40001');
        // Nothing of the failed move was kept.
        expect((await store.getRetrieval('r1'))?.state).toBe('failed');
        expect(await store.transitions('r1')).toHaveLength(2);
      });
    });

    it('answers unavailable or recovers when the server drops its connections, then works again', async () => {
      const url = await newSchema();
      const store = openPostgresStore(url, { poolSize: 3 });
      await withStores([store], async () => {
        await store.migrate();
        await Promise.all([store.createRetrieval(newRetrieval('r1', '1.1')), store.createRetrieval(newRetrieval('r2', '1.2'))]);
        const killed = await server.query<{ killed: boolean }>(
          database,
          'SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
        );
        expect(killed.length).toBeGreaterThan(0);
        // The first call may still meet a dropped connection; it must say unavailable, not crash or hang.
        const first = await store.getRetrieval('r1').then(
          () => null,
          (error: unknown) => error,
        );
        if (first !== null) {
          expect(first).toBeInstanceOf(StoreError);
          expect((first as StoreError).reason).toBe('unavailable');
        }
        expect((await store.getRetrieval('r1'))?.id).toBe('r1');
        expect((await store.activeRetrievals()).map((r) => r.id)).toEqual(['r1', 'r2']);
      });
    });

    it('answers unavailable before migrate, and refuses a schema newer than it knows', async () => {
      const url = await newSchema();
      const schema = `case_${schemas}`;
      const store = openPostgresStore(url);
      await withStores([store], async () => {
        await expectStoreError(store.getRetrieval('r1'), 'unavailable');
        await store.migrate();
        await server.query(
          database,
          `INSERT INTO ${schema}.schema_migrations (version, name, applied_at) VALUES (999, 'from the future', '2030-01-01T00:00:00Z')`,
        );
        const error = await expectStoreError(store.migrate(), 'unavailable');
        expect(error.message).toContain('999');
      });
    });

    it('answers unavailable when no server listens, without hanging', async () => {
      // The port of a server that has just been stopped: nothing listens there.
      const gone = await startPostgres();
      const url = gone.url('postgres');
      await gone.stop();
      const store = openPostgresStore(url);
      await withStores([store], async () => {
        const error = await expectStoreError(store.migrate(), 'unavailable');
        expect(error.message).toContain('ECONNREFUSED');
        await expectStoreError(store.createRetrieval(newRetrieval('r1')), 'unavailable');
        await expectStoreError(store.claimNotifications('a', '2026-03-01T09:00:00Z', 1000, 1), 'unavailable');
      });
    }, 60_000);

    it('refuses a value PostgreSQL cannot hold (a NUL character) with invalid, without echoing it', async () => {
      const store = openPostgresStore(await newSchema());
      await withStores([store], async () => {
        await store.migrate();
        const error = await expectStoreError(
          store.appendAudit(auditEvent('2026-03-01T09:00:00.000Z', { displayName: 'Dr \u0000Secret' })),
          'invalid',
        );
        expect(error.message).not.toContain('Secret');
      });
    });
  });
});
