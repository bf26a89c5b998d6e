/**
 * No patient identifier in any log line: whole flows through the real HTTP endpoint at debug level,
 * failures included (a site unreachable or hung, a retrieval failing, the connector refusing a
 * notification, a database error in a turn, forged cards, refusals, the rate limit), then every line
 * is searched for the patients' NHS numbers, names, dates of birth and local identifiers in every
 * usual spelling. Each line must also be JSON with a time, a level and an event.
 */
import nock from 'nock';
import { FakePacs } from '../../src/adapters/pacs/fake-pacs';
import { createMemoryStore } from '../support/fakes/memory-store';
import { StoreError, type StorePort } from '../../src/ports/store-port';
import { actionsOf, BotHarness, cardsOf, serviceUrl } from '../support/bot-harness';
import { london } from '../support/instants';

const alice = {
  nhsNumber: '9434765919',
  localId: 'UHB123456',
  familyName: 'PRIVATESURNAME',
  givenName: 'Hermione',
  birthDate: '1970-03-12',
  sex: 'F',
};
const bob = {
  nhsNumber: '4010232137',
  localId: 'UHB654321',
  familyName: 'SECRETFAMILY',
  givenName: 'Bartholomew',
  birthDate: '1955-11-20',
  sex: 'M',
};
const twin = { ...bob, nhsNumber: '9990004560', localId: 'UHB999999' };
const asked = london('2026-12-02T02:00');

/** Every way a log line could spell the patients' identifiers. */
const secrets = [alice, bob, twin].flatMap((p) => {
  const [y, m, d] = p.birthDate.split('-');
  return [
    p.nhsNumber,
    `${p.nhsNumber.slice(0, 3)} ${p.nhsNumber.slice(3, 6)} ${p.nhsNumber.slice(6)}`,
    `${p.nhsNumber.slice(0, 3)}-${p.nhsNumber.slice(3, 6)}-${p.nhsNumber.slice(6)}`,
    p.localId,
    p.familyName,
    p.familyName.toLowerCase(),
    p.givenName,
    p.givenName.toLowerCase(),
    p.birthDate,
    `${y}${m}${d}`,
    `${d}/${m}/${y}`,
  ];
});

describe('logs of whole flows, failures included', () => {
  let bot: BotHarness;
  let pacs: FakePacs;
  let store: StorePort;
  let failLists = false;

  beforeAll(async () => {
    pacs = new FakePacs({
      local: [
        {
          identity: alice,
          studies: [{ studyInstanceUid: '2.25.9', date: '2026-10-01', description: 'US Abdomen', modalities: ['US'], instanceCount: 3 }],
        },
        { identity: bob, studies: [] },
        { identity: twin, studies: [] },
      ],
      sites: {
        exeter: {
          studies: {
            [alice.nhsNumber]: [
              { studyInstanceUid: '2.25.1', date: '2024-03-12', description: 'XR Chest', modalities: ['DX'], instanceCount: 2 },
              { studyInstanceUid: '2.25.2', date: '2023-11-05', description: 'CT Head', modalities: ['CT'], instanceCount: 5 },
            ],
          },
        },
        cornwall: { behaviour: 'unreachable', studies: {} },
        'south-devon': { behaviour: 'hung', studies: {} },
      },
    });
    const inner = createMemoryStore();
    store = {
      ...inner,
      retrievalsFor: (user, limit) =>
        failLists ? Promise.reject(new StoreError('unavailable', `no rows for ${alice.nhsNumber}`)) : inner.retrievalsFor(user, limit),
    };
    bot = await new BotHarness().start({ PACS_QUERY_TIMEOUT_S: '1', PATIENT_SEARCHES_PER_MINUTE: '6', LOG_LEVEL: 'debug' }, () => asked, {
      pacs,
      store,
    });
  });
  afterAll(() => bot.stop());

  async function confirmFirstStudy(): Promise<void> {
    const before = bot.sentActivities.length;
    await bot.say(`find images for ${alice.nhsNumber}`, asked);
    await bot.application.idle();
    const studies = cardsOf(bot.sentActivities.slice(before))[0];
    const retrieve = actionsOf(studies).find((a) => a.title === 'Retrieve selected')!;
    const confirmCard = cardsOf((await bot.press({ ...(retrieve.data as object), 'pick-0': 'true', 'pick-1': 'true' }, asked)).replies)[0];
    await bot.send({ value: actionsOf(confirmCard).find((a) => a.title === 'Confirm retrieval')!.data, replyToId: 'status-card' }, asked);
    await bot.application.idle();
  }

  it('writes no patient identifier anywhere', async () => {
    // Searches: found (with an unreachable and a hung site), by demographics (two matches), not registered, invalid.
    await confirmFirstStudy();
    await bot.press({ isa: 'patient-search', familyName: bob.familyName, givenName: bob.givenName, birthDate: bob.birthDate }, asked);
    await bot.say('find images for 999 000 1235', asked);
    await bot.say('find images for 943 476 5918', asked);
    await bot.application.idle();

    // One retrieval succeeds, one fails; the connector refuses the first notification, then takes it.
    nock(serviceUrl.replace(/\/$/, ''))
      .post(/\/v3\/conversations\/.+\/activities$/)
      .reply(500, { error: { code: 'ServiceError', message: `down for ${alice.familyName}` } });
    const [first, second] = pacs.jobIds();
    pacs.completeJob(first!);
    pacs.failJob(second!, 'unreachable');
    await bot.application.pollOnce();
    await bot.application.pollOnce();
    const failed = bot.sentActivities.find((a) => JSON.stringify(a).includes('Try again'));
    const retry = failed ? actionsOf(cardsOf([failed])[0]).find((a) => a.title === 'Try again') : undefined;
    if (retry) await bot.press(retry.data, asked);
    await bot.application.idle();

    // Forged and foreign cards, a shared chat, the rate limit, a database error inside a turn.
    await bot.press({ isa: 'confirm', offer: 'eyJub3QiOiJzaWduZWQifQ.forged' }, asked);
    await bot.say(`find images for ${alice.nhsNumber}`, asked, {
      conversation: { id: '19:group', conversationType: 'groupChat', tenantId: 'tenant-1' },
    });
    for (let i = 0; i < 8; i += 1) await bot.say(`find images for ${alice.nhsNumber}`, asked);
    failLists = true;
    await bot.say('my retrievals', asked);
    failLists = false;
    await bot.say('my retrievals', asked);
    await bot.application.idle();

    // The flows did happen (so the scan below means something).
    const audit = await store.auditSince('2026-01-01T00:00:00Z');
    expect(new Set(audit.map((a) => a.action))).toEqual(
      new Set(['patient-search', 'retrieval-confirmed', 'retrieval-outcome', 'access-refused', 'rate-limited']),
    );
    const events = new Set(bot.logger.lines.map((l) => (JSON.parse(l) as { event: string }).event));
    for (const event of ['turn', 'retrieval-settled', 'turn-error', 'notifications']) expect(events).toContain(event);

    for (const line of bot.logger.lines) {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      expect(typeof parsed.time).toBe('string');
      expect(typeof parsed.level).toBe('string');
      expect(typeof parsed.event).toBe('string');
      for (const secret of secrets) {
        if (line.includes(secret))
          throw new Error(`a log line contains a patient identifier (${secret.length} characters): ${parsed.event as string}`);
      }
    }
  });
});
