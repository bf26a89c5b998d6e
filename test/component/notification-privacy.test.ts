/**
 * What a clinician's locked phone shows. Teams puts a message's text in the push notification, so
 * in a whole flow (search, confirm, one study stored, one failed, "Try again", stored) no message the
 * bot posts outside a turn carries a patient identifier in its text: the identifiers are only in the
 * cards, in the 1:1 chat (scanned like the log scan). Outcome messages ask Teams for a feed alert,
 * and a stored study has "Open images" when a viewer is configured.
 */
import { FakePacs } from '../../src/adapters/pacs/fake-pacs';
import { formatNhsNumber } from '../../src/domain/patients/nhs-number';
import { actionsOf, BotHarness, cardsOf, textOf, type SentActivity } from '../support/bot-harness';
import { fakeAlice } from '../support/fixtures';
import { london } from '../support/instants';

const nhs = fakeAlice.nhsNumber!;
const viewer = 'https://viewer.example/view?study={StudyInstanceUID}';

/** Every form in which the bot writes the patient's identifiers. */
const identifiers: readonly string[] = [
  nhs,
  formatNhsNumber(nhs),
  fakeAlice.familyName,
  fakeAlice.givenName,
  fakeAlice.localId,
  fakeAlice.birthDate!,
  '12 Mar 1970',
];

describe('notifications on a locked phone', () => {
  let bot: BotHarness;
  let pacs: FakePacs;
  const now = london('2026-12-02T02:00');
  /** Everything posted within a turn (its replies); the rest was posted outside any turn. */
  const inTurns = new Set<SentActivity>();

  beforeAll(async () => {
    pacs = new FakePacs({
      local: [{ identity: fakeAlice, studies: [] }],
      sites: {
        exeter: {
          studies: {
            [nhs]: [
              { studyInstanceUid: '2.25.1', date: '2024-03-12', description: 'XR Chest', modalities: ['DX'], instanceCount: 2 },
              { studyInstanceUid: '2.25.2', date: '2023-11-05', description: 'CT Head', modalities: ['CT'], instanceCount: 5 },
            ],
          },
        },
      },
    });
    bot = await new BotHarness().start({ VIEWER_URL_TEMPLATE: viewer }, () => now, { pacs });
  });
  afterAll(async () => {
    await bot.stop();
  });

  async function turn(result: Promise<{ replies: SentActivity[] }>): Promise<SentActivity[]> {
    const { replies } = await result;
    for (const reply of replies) inTurns.add(reply);
    await bot.application.idle();
    return replies;
  }

  it('names study, site and outcome in the text, keeps identifiers in the cards, and alerts the feed', async () => {
    await turn(bot.say(`find images for ${formatNhsNumber(nhs)}`, now));
    const studies = cardsOf([...bot.sentActivities]).find((c) => textOf(c).includes('Retrieve selected'))!;
    const pick = actionsOf(studies).find((a) => a.title === 'Retrieve selected')!;
    const confirmCard = cardsOf(await turn(bot.press({ ...(pick.data as object), 'pick-0': 'true', 'pick-1': 'true' }, now)))[0];
    const confirm = actionsOf(confirmCard).find((a) => a.title === 'Confirm retrieval')!;
    await turn(bot.send({ value: confirm.data, replyToId: 'status-card' }, now));
    const [xr, ct] = pacs.jobIds();
    pacs.failJob(xr!, 'unreachable');
    pacs.completeJob(ct!);
    await bot.application.pollOnce();
    const failed = bot.sentActivities.find((a) => (a.text ?? '').includes('could not be retrieved'))!;
    const tryAgain = actionsOf(cardsOf([failed])[0]).find((a) => a.title === 'Try again')!;
    await turn(bot.press(tryAgain.data, now));
    pacs.completeJob(pacs.jobIds()[2]!);
    await bot.application.pollOnce();

    const outside = bot.sentActivities.filter((a) => !inTurns.has(a));
    const outcomes = outside.filter((a) => /is now on UH Bristol PACS|could not be retrieved/.test(a.text ?? ''));
    expect(outcomes.map((a) => a.text)).toEqual([
      '❌ XR Chest from Exeter (12 Mar 2024) could not be retrieved: the PACS could not be reached.',
      '✅ CT Head from Exeter (5 Nov 2023), 5 images, is now on UH Bristol PACS, kept until 1 Jan 2027.',
      '✅ XR Chest from Exeter (12 Mar 2024), 2 images, is now on UH Bristol PACS, kept until 1 Jan 2027.',
    ]);
    // The scan: every message posted outside a turn (search results, "Started", outcomes).
    expect(outside.length).toBeGreaterThan(outcomes.length);
    for (const message of outside) {
      for (const identifier of identifiers) expect((message.text ?? '').toLowerCase()).not.toContain(identifier.toLowerCase());
    }
    // Identifiers where they belong: in the outcome cards, in the 1:1 chat.
    for (const message of outcomes) {
      expect(textOf(cardsOf([message])[0])).toContain(formatNhsNumber(nhs));
      expect(message.channelData).toMatchObject({ notification: { alert: true } });
    }
    // "Open images" on each stored study's message, and on the status card as studies arrive.
    const stored = outcomes.filter((a) => (a.text ?? '').includes('is now on'));
    expect(stored.map((a) => actionsOf(cardsOf([a])[0]).find((b) => b.title === 'Open images')?.url)).toEqual([
      'https://viewer.example/view?study=2.25.2',
      'https://viewer.example/view?study=2.25.1',
    ]);
    expect(actionsOf(cardsOf([failed])[0]).some((a) => a.type === 'Action.OpenUrl')).toBe(false);
    const status = bot.updates.filter((u) => u.activityId === 'status-card').at(-1)!;
    expect(
      actionsOf(cardsOf([status.activity])[0])
        .filter((a) => a.type === 'Action.OpenUrl')
        .map((a) => a.url)
        .sort(),
    ).toEqual(['https://viewer.example/view?study=2.25.1', 'https://viewer.example/view?study=2.25.2']);
  });
});
