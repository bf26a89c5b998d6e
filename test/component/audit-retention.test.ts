/**
 * AUDIT_RETENTION_DAYS: the poll loop purges audit events older than the setting, at most once an
 * hour, and records each purge in the trail itself; with no setting nothing is ever purged.
 */
import { createMemoryStore } from '../support/fakes/memory-store';
import type { AuditEvent, StorePort } from '../../src/ports/store-port';
import { BotHarness } from '../support/bot-harness';

const day = 86_400_000;

function searchAt(at: Date, outcome: string): AuditEvent {
  return {
    at: at.toISOString(),
    action: 'patient-search',
    teamsUserId: '29:user-1',
    entraObjectId: null,
    displayName: 'Test Clinician',
    nhsNumber: '9434765919',
    site: null,
    studies: [],
    outcome,
  };
}

describe('audit retention', () => {
  let bot: BotHarness;
  let store: StorePort;
  let now: Date;
  const outcomes = async (): Promise<string[]> => (await store.auditSince('2000-01-01T00:00:00Z')).map((e) => e.outcome);

  async function start(env: Record<string, string>): Promise<void> {
    now = new Date('2026-12-06T02:00:00Z');
    store = createMemoryStore({ clock: () => now });
    bot = await new BotHarness().start(env, () => now, { store });
    await store.appendAudit(searchAt(new Date(now.getTime() - 45 * day), 'old'));
    await store.appendAudit(searchAt(new Date(now.getTime() - 30 * day - 1), 'just past'));
    await store.appendAudit(searchAt(new Date(now.getTime() - 30 * day), 'exactly 30 days'));
    await store.appendAudit(searchAt(new Date(now.getTime() - 2 * day), 'recent'));
  }
  afterEach(() => bot.stop());

  it('purges what is older than AUDIT_RETENTION_DAYS in the poll loop, and audits the purge', async () => {
    await start({ AUDIT_RETENTION_DAYS: '30' });
    await bot.application.pollOnce();
    expect(await outcomes()).toEqual([
      'exactly 30 days',
      'recent',
      'purged 2 events older than 2026-11-06T02:00:00.000Z (AUDIT_RETENTION_DAYS=30)',
    ]);
    const [purge] = (await store.auditSince('2000-01-01T00:00:00Z')).filter((e) => e.action === 'audit-purged');
    expect(purge).toMatchObject({ at: now.toISOString(), teamsUserId: 'system', nhsNumber: null });
    const logged = bot.logger.lines.filter((l) => l.includes('"event":"audit-purged"'));
    expect(logged.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ purged: 2, retentionDays: 30 }),
    ]);
  });

  it('purges at most once an hour', async () => {
    await start({ AUDIT_RETENTION_DAYS: '30' });
    await bot.application.pollOnce();
    // Half an hour on, the 30-day-old event is past the cutoff but waits for the next hourly purge.
    now = new Date(now.getTime() + 30 * 60_000);
    await bot.application.pollOnce();
    expect(await outcomes()).toContain('exactly 30 days');
    now = new Date(now.getTime() + 30 * 60_000);
    await bot.application.pollOnce();
    expect(await outcomes()).toEqual([
      'recent',
      'purged 2 events older than 2026-11-06T02:00:00.000Z (AUDIT_RETENTION_DAYS=30)',
      'purged 1 event older than 2026-11-06T03:00:00.000Z (AUDIT_RETENTION_DAYS=30)',
    ]);
  });

  it('keeps everything when AUDIT_RETENTION_DAYS is not set', async () => {
    await start({});
    now = new Date(now.getTime() + 3650 * day);
    await bot.application.pollOnce();
    expect(await outcomes()).toEqual(['old', 'just past', 'exactly 30 days', 'recent']);
  });
});
