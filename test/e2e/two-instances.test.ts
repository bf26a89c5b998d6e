/**
 * Two bot instances sharing one PostgreSQL database and one (fake) PACS: 500 concurrent retrievals
 * finish at random moments; every requester gets exactly one completion message, none twice.
 */
import nock from 'nock';
import { randomUUID } from 'node:crypto';
import { FakePacs } from '../../src/adapters/pacs/fake-pacs';
import { openPostgresStore } from '../../src/adapters/store/postgres/postgres-store';
import type { StudySummary } from '../../src/ports/pacs-port';
import type { Requester } from '../../src/ports/store-port';
import { confirmRetrievals } from '../../src/retrieval/confirm-retrievals';
import { BotHarness, serviceUrl } from '../support/bot-harness';
import { london } from '../support/instants';
import { describeWithPostgres, startPostgres, type PostgresServer } from '../support/postgres-harness';

const count = 500;
const nhs = '9434765919';

describeWithPostgres('two instances on one PostgreSQL database', () => {
  let server: PostgresServer;
  let url: string;

  beforeAll(async () => {
    server = await startPostgres();
    url = await server.createDatabase('two-instances');
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  }, 30_000);

  it(`delivers ${count} notifications exactly once between them`, async () => {
    const studies: StudySummary[] = Array.from({ length: count }, (_, i) => ({
      studyInstanceUid: `2.25.7${String(i).padStart(4, '0')}`,
      date: '2024-01-01',
      description: `Study ${i}`,
      modalities: ['CT'],
      instanceCount: 1,
    }));
    const pacs = new FakePacs({
      local: [
        {
          identity: { nhsNumber: nhs, localId: 'X', familyName: 'TESTPATIENT', givenName: 'Alice', birthDate: '1970-03-12', sex: null },
          studies: [],
        },
      ],
      sites: { exeter: { studies: { [nhs]: studies } } },
    });
    const now = london('2026-12-02T02:00');
    const storeA = openPostgresStore(url);
    const storeB = openPostgresStore(url);
    const a = await new BotHarness().start({}, () => now, { pacs, store: storeA });
    const b = await new BotHarness().start({}, () => now, { pacs, store: storeB });
    try {
      // Each retrieval has its own requester chat, so Teams' per-chat pacing does not slow the test.
      await Promise.all(
        studies.map(async (study, i) => {
          const requester: Requester = {
            teamsUserId: `29:user-${i}`,
            entraObjectId: randomUUID(),
            displayName: `Clinician ${i}`,
            tenantId: 't',
            conversationId: `a:chat-${i}`,
          };
          const reference = {
            channelId: 'msteams',
            serviceUrl,
            conversation: { id: requester.conversationId },
            user: { id: requester.teamsUserId },
            bot: { id: '28:bot' },
          };
          await storeA.saveReference({ ...requester, reference: JSON.stringify(reference), updatedAt: now.toISOString() });
          await confirmRetrievals(
            nhs,
            [{ site: 'exeter', study }],
            requester,
            { pacs, store: i % 2 ? storeA : storeB, queryTimeoutMs: 1000 },
            now,
            randomUUID,
          );
        }),
      );
      expect(pacs.jobIds()).toHaveLength(count);

      // The PACS finishes the jobs in a random order while both instances poll and deliver at once.
      const jobs = [...pacs.jobIds()].sort(() => Math.random() - 0.5);
      for (let round = 0; round < 200 && jobs.length + (await storeA.activeRetrievals()).length > 0; round += 1) {
        for (const job of jobs.splice(0, 40)) pacs.completeJob(job);
        await Promise.all([a.application.pollOnce(), b.application.pollOnce(), a.application.pollOnce(), b.application.pollOnce()]);
      }
      // Deliveries still owed after the last settle.
      await Promise.all([a.application.pollOnce(), b.application.pollOnce()]);

      const messages = [...a.sentActivities, ...b.sentActivities].filter((m) => (m.text ?? '').includes('is now on UH Bristol PACS'));
      const perConversation = new Map<string, number>();
      for (const m of messages) {
        const id = (m.conversation as { id: string }).id;
        perConversation.set(id, (perConversation.get(id) ?? 0) + 1);
      }
      expect(messages).toHaveLength(count);
      expect(perConversation.size).toBe(count);
      expect([...perConversation.values()].every((n) => n === 1)).toBe(true);
      // Both instances did part of the work (nock records every send in the first harness, so count from their logs).
      const sentBy = (h: BotHarness) =>
        h.logger.lines
          .map((l) => JSON.parse(l) as { event: string; sent?: number })
          .filter((l) => l.event === 'notifications')
          .reduce((sum, l) => sum + (l.sent ?? 0), 0);
      expect(sentBy(a) + sentBy(b)).toBe(count);
      expect(sentBy(a)).toBeGreaterThan(0);
      expect(sentBy(b)).toBeGreaterThan(0);
    } finally {
      await a.stop();
      await b.stop();
      nock.cleanAll();
    }
  }, 120_000);
});
