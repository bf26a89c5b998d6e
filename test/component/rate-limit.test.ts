/**
 * The per-user limit on patient searches: over the limit a search is refused with a clear answer,
 * nothing is asked of the PACS, and the refusal is audited; other users are not affected, and the
 * user may search again once the minute has passed.
 */
import { FakePacs } from '../../src/adapters/pacs/fake-pacs';
import { createMemoryStore } from '../support/fakes/memory-store';
import type { StorePort } from '../../src/ports/store-port';
import { BotHarness } from '../support/bot-harness';
import { london } from '../support/instants';
import { fakeAlice } from '../support/fixtures';

const nhs = '9434765919';

describe('patient search rate limit', () => {
  let bot: BotHarness;
  let pacs: FakePacs;
  let store: StorePort;

  beforeEach(async () => {
    pacs = new FakePacs({
      local: [{ identity: fakeAlice, studies: [] }],
      sites: { exeter: { studies: {} } },
    });
    store = createMemoryStore();
    bot = await new BotHarness().start({ PATIENT_SEARCHES_PER_MINUTE: '3', PACS_QUERY_TIMEOUT_S: '1' }, () => london('2026-12-02T02:00'), {
      pacs,
      store,
    });
  });
  afterEach(() => bot.stop());

  async function search(at: Date, extra: Record<string, unknown> = {}): Promise<string[]> {
    const turn = await bot.say(`find images for ${nhs}`, at, extra);
    await bot.application.idle();
    return turn.replies.map((r) => r.text ?? '');
  }

  it('refuses the search over the limit, audits it, and lets the user search again a minute later', async () => {
    for (const second of ['00', '10', '20'])
      expect((await search(london(`2026-12-02T02:00:${second}`)))[0]).toContain('Searching UH Bristol PACS');
    const searchesBefore = pacs.requests.findLocalPatients;

    const refused = await search(london('2026-12-02T02:00:30'));
    expect(refused).toEqual([expect.stringContaining('the limit is 3 a minute')]);
    expect(pacs.requests.findLocalPatients).toBe(searchesBefore);
    const audit = await store.auditSince('2026-01-01T00:00:00Z');
    expect(audit.at(-1)).toMatchObject({
      action: 'rate-limited',
      teamsUserId: '29:user-1',
      nhsNumber: null,
      outcome: 'refused: 3 patient searches in the last minute (limit 3)',
    });

    // Another clinician is not held back by this one.
    const other = await search(london('2026-12-02T02:00:31'), {
      from: { id: '29:user-2', name: 'Other Clinician', aadObjectId: '00000000-0000-0000-0000-000000000002' },
    });
    expect(other[0]).toContain('Searching UH Bristol PACS');

    // A minute after the first search, one more is allowed.
    expect((await search(london('2026-12-02T02:01:01')))[0]).toContain('Searching UH Bristol PACS');
    expect((await search(london('2026-12-02T02:01:02')))[0]).toContain('the limit is 3 a minute');
  });

  it('counts searches still waiting for the PACS, so a burst cannot outrun the limit', async () => {
    pacs.setBehaviour('exeter', 'hung');
    const turns = [];
    for (let i = 0; i < 5; i += 1) turns.push(await bot.say(`find images for ${nhs}`, london(`2026-12-02T02:00:0${i}`)));
    const words = turns.map((t) => t.replies[0]?.text ?? '');
    expect(words.filter((w) => w.includes('Searching UH Bristol PACS'))).toHaveLength(3);
    expect(words.filter((w) => w.includes('the limit is 3 a minute'))).toHaveLength(2);
    await bot.application.idle();
  });

  it('counts the search form too', async () => {
    for (let i = 0; i < 3; i += 1) await search(london(`2026-12-02T02:00:0${i}`));
    const turn = await bot.press({ isa: 'patient-search', nhsNumber: nhs }, london('2026-12-02T02:00:05'));
    expect(turn.replies.map((r) => r.text)).toEqual([expect.stringContaining('the limit is 3 a minute')]);
  });
});
