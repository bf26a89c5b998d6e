/**
 * The DBA's commands on the database the bot writes: `npm run audit -- --since ...` (the audit trail
 * as CSV) and `npm run migrate` (the schema brought up to date, saying what was applied).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../../src/adapters/store/sqlite/sqlite-store';
import { auditCsv } from '../../src/audit/audit-csv';
import { projectRoot } from '../../src/config/config';
import type { AuditEvent } from '../../src/ports/store-port';

const event = (at: string, outcome: string, displayName = 'Dr Test'): AuditEvent => ({
  at,
  action: 'patient-search',
  teamsUserId: '29:u',
  entraObjectId: 'oid',
  displayName,
  nhsNumber: '9434765919',
  site: null,
  studies: ['2.25.1', '2.25.2'],
  outcome,
});

describe('audit CSV', () => {
  it('quotes commas and quotes, and defuses spreadsheet formulas', () => {
    const csv = auditCsv([
      event('2026-11-02T10:00:00.000Z', 'found: exeter=linked', 'Smith, "Jo"'),
      event('2026-11-02T11:00:00.000Z', '=HYPERLINK("x")'),
    ]);
    const lines = csv.split('\r\n');
    expect(lines[0]).toBe('time,action,teams_user_id,entra_object_id,display_name,nhs_number,site,studies,outcome');
    expect(lines[1]).toBe(
      '2026-11-02T10:00:00.000Z,patient-search,29:u,oid,"Smith, ""Jo""",9434765919,,2.25.1 2.25.2,found: exeter=linked',
    );
    expect(lines[2]).toContain(`"'=HYPERLINK(""x"")"`);
  });

  describe('the command', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-'));
    const file = path.join(dir, 'audit.sqlite');

    // dist/ is built once for all test files by test/support/global-setup.ts: rebuilding it here would
    // rewrite files that other test files' bot processes are loading.
    beforeAll(async () => {
      const store = openSqliteStore(file);
      await store.migrate();
      await store.appendAudit(event('2026-10-31T23:59:59.000Z', 'before'));
      await store.appendAudit(event('2026-11-01T00:00:00.000Z', 'first'));
      await store.appendAudit(event('2026-11-20T08:00:00.000Z', 'second'));
      await store.close();
    }, 120_000);
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    const run = (...args: string[]) =>
      spawnSync(process.execPath, [path.join(projectRoot, 'dist', 'scripts', 'audit.js'), ...args], {
        cwd: projectRoot,
        env: { PATH: process.env.PATH ?? '', DATABASE_URL: `sqlite:${file}` },
        encoding: 'utf8',
      });

    it('prints the events since the date as CSV', () => {
      const result = run('--since', '2026-11-01');
      expect(result.status).toBe(0);
      const rows = result.stdout.trim().split('\r\n');
      expect(rows).toHaveLength(3);
      expect(rows.slice(1).map((r) => r.split(',').at(-1))).toEqual(['first', 'second']);
    });

    it('refuses a missing or bad date with a usage line', () => {
      expect(run().status).toBe(2);
      const bad = run('--since', '1/11/2026');
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain('Usage');
    });
  });
});

describe('npm run migrate', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrate-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const migrate = (env: Record<string, string>) =>
    spawnSync(process.execPath, [path.join(projectRoot, 'dist', 'scripts', 'migrate.js')], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
    });

  it('applies every migration to a new database, then finds it up to date', async () => {
    const file = path.join(dir, 'new.sqlite');
    const first = migrate({ DATABASE_URL: `sqlite:${file}` });
    expect([first.status, first.stdout, first.stderr]).toEqual([
      0,
      'SQLite database schema at version 7: applied migrations 1, 2, 3, 4, 5, 6, 7.\n',
      '',
    ]);
    const again = migrate({ DATABASE_URL: `sqlite:${file}` });
    expect([again.status, again.stdout]).toEqual([0, 'SQLite database schema at version 7: already up to date.\n']);
    // The bot's store opens it as it left it.
    const store = openSqliteStore(file);
    expect(await store.migrate()).toEqual({ applied: [], version: 7 });
    await store.close();
  });

  it('is refused by the same checks as the bot, in one line that never quotes a password', () => {
    const refused = migrate({ DATABASE_URL: 'mysql://dba:Pa55wordInUrl@db.example/isa' });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe('migrate failed: DATABASE_URL is invalid: must be sqlite:PATH or postgres://...\n');
    const unreachable = migrate({ DATABASE_URL: 'postgres://dba:Pa55wordInUrl@127.0.0.1:1/isa', TEST_LAB: 'true' });
    expect(unreachable.status).toBe(1);
    expect(unreachable.stderr).toMatch(/^migrate failed: /);
    expect(unreachable.stderr).not.toContain('Pa55wordInUrl');
  });
});
