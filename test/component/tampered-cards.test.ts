/**
 * Card submits the bot must not trust: a studies or confirmation card whose signed data was changed,
 * forged, pressed by another user, or carried into another chat is refused and audited, and nothing
 * is retrieved; a stale (expired) card is refused with a clear word; a pick of a study that was not
 * offered picks nothing.
 */
import { FakePacs } from '../../src/adapters/pacs/fake-pacs';
import { createMemoryStore } from '../support/fakes/memory-store';
import type { StorePort } from '../../src/ports/store-port';
import { actionsOf, BotHarness, cardsOf } from '../support/bot-harness';
import { london } from '../support/instants';
import { fakeAlice } from '../support/fixtures';

const nhs = '9434765919';
const asked = london('2026-12-02T02:00');
const otherUser = {
  from: { id: '29:user-2', name: 'Other Clinician', aadObjectId: '00000000-0000-0000-0000-000000000002' },
  conversation: { id: 'a:other-personal', conversationType: 'personal', tenantId: 'tenant-1' },
};
const otherChat = { conversation: { id: 'a:second-personal-chat', conversationType: 'personal', tenantId: 'tenant-1' } };

describe('tampered, foreign and stale cards', () => {
  let bot: BotHarness;
  let pacs: FakePacs;
  let store: StorePort;
  let confirmData: { isa: string; offer: string };
  let pickData: { isa: string; offer: string };

  beforeEach(async () => {
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
    store = createMemoryStore();
    bot = await new BotHarness().start({}, () => asked, { pacs, store });
    const before = bot.sentActivities.length;
    await bot.say(`find images for ${nhs}`, asked);
    await bot.application.idle();
    pickData = actionsOf(cardsOf(bot.sentActivities.slice(before))[0]).find((a) => a.title === 'Retrieve selected')!
      .data as typeof pickData;
    const confirmCard = cardsOf((await bot.press({ ...pickData, 'pick-0': 'true' }, asked)).replies)[0];
    confirmData = actionsOf(confirmCard).find((a) => a.title === 'Confirm retrieval')!.data as typeof confirmData;
  });
  afterEach(() => bot.stop());

  const refusals = async (): Promise<string[]> =>
    (await store.auditSince('2026-01-01T00:00:00Z')).filter((a) => a.action === 'access-refused').map((a) => a.outcome);

  it('refuses a confirmation whose signed data was changed (another study put in), and audits it', async () => {
    const [body, signature] = confirmData.offer.split('.') as [string, string];
    const offer = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as {
      studies: Array<{ study: { studyInstanceUid: string } }>;
    };
    offer.studies[0]!.study.studyInstanceUid = '2.25.666';
    const altered = `${Buffer.from(JSON.stringify(offer)).toString('base64url')}.${signature}`;

    const turn = await bot.press({ isa: 'confirm', offer: altered }, asked);
    await bot.application.idle();
    expect(turn.replies.map((r) => r.text)).toEqual([expect.stringContaining('it has been changed, or it was not made by me')]);
    expect(pacs.requests.startRetrieval).toBe(0);
    expect(await store.activeRetrievals()).toHaveLength(0);
    expect(await refusals()).toEqual(['refused: card forged']);
  });

  it('refuses an unsigned or garbage offer, whatever its shape', async () => {
    for (const offer of [undefined, '', 'x.y', 42, { studies: [] }, `${'a'.repeat(20000)}.b`]) {
      const turn = await bot.press({ isa: 'confirm', offer }, asked);
      expect(turn.replies.map((r) => r.text)).toEqual([expect.stringContaining('I cannot use that card')]);
    }
    expect(pacs.requests.startRetrieval).toBe(0);
    expect(await refusals()).toHaveLength(6);
  });

  it("refuses another user's confirmation card, and the same user's card carried into another chat", async () => {
    const byOther = await bot.send({ value: confirmData, ...otherUser }, asked);
    expect(byOther.replies.map((r) => r.text)).toEqual([expect.stringContaining('not made for you in this chat')]);
    const elsewhere = await bot.send({ value: confirmData, ...otherChat }, asked);
    expect(elsewhere.replies.map((r) => r.text)).toEqual([expect.stringContaining('not made for you in this chat')]);
    await bot.application.idle();
    expect(pacs.requests.startRetrieval).toBe(0);
    expect(await refusals()).toEqual(['refused: card not-offered', 'refused: card not-offered']);

    // The rightful user in the right chat can still use it.
    await bot.press(confirmData, asked);
    await bot.application.idle();
    expect(pacs.requests.startRetrieval).toBe(1);
  });

  it('refuses a stale card with a clear word and without retrieving', async () => {
    const turn = await bot.press(confirmData, london('2026-12-02T03:00'));
    expect(turn.replies.map((r) => r.text)).toEqual(['That card has expired. Please search again so you see the latest status.']);
    await bot.application.idle();
    expect(pacs.requests.startRetrieval).toBe(0);
  });

  it('picks nothing when the ticked box is not one of the offered studies', async () => {
    const turn = await bot.press({ ...pickData, 'pick-7': 'true', 'pick-0': 'yes' }, asked);
    expect(turn.replies.map((r) => r.text)).toEqual(['Tick at least one study to retrieve.']);
  });
});

describe('a rotated card signing secret', () => {
  const oldSecret = 'old-secret-'.padEnd(40, 'o');
  const newSecret = 'new-secret-'.padEnd(40, 'n');
  const forgerSecret = 'forger-secret-'.padEnd(40, 'f');
  let bot: BotHarness | undefined;
  afterEach(() => bot?.stop());

  /** A confirmation card made by a bot signing with `secret`, as a clinician would hold it. */
  async function confirmationSignedWith(secret: string, pacs: FakePacs): Promise<{ isa: string; offer: string }> {
    const maker = await new BotHarness().start({ CARD_SIGNING_SECRET: secret }, () => asked, { pacs });
    try {
      const before = maker.sentActivities.length;
      await maker.say(`find images for ${nhs}`, asked);
      await maker.application.idle();
      const pick = actionsOf(cardsOf(maker.sentActivities.slice(before))[0]).find((a) => a.title === 'Retrieve selected')!.data as {
        isa: string;
        offer: string;
      };
      const card = cardsOf((await maker.press({ ...pick, 'pick-0': 'true' }, asked)).replies)[0];
      return actionsOf(card).find((a) => a.title === 'Confirm retrieval')!.data as { isa: string; offer: string };
    } finally {
      await maker.stop();
    }
  }

  function alicePacs(): FakePacs {
    return new FakePacs({
      local: [{ identity: fakeAlice, studies: [] }],
      sites: {
        exeter: {
          studies: {
            [nhs]: [{ studyInstanceUid: '2.25.2', date: '2023-11-05', description: 'CT Head', modalities: ['CT'], instanceCount: 5 }],
          },
        },
      },
    });
  }

  it('accepts a card signed with CARD_SIGNING_SECRET_PREVIOUS after the rotation, and still refuses a forged one', async () => {
    const pacs = alicePacs();
    const signedBefore = await confirmationSignedWith(oldSecret, pacs);
    const forged = await confirmationSignedWith(forgerSecret, pacs);
    const store = createMemoryStore();
    bot = await new BotHarness().start({ CARD_SIGNING_SECRET: newSecret, CARD_SIGNING_SECRET_PREVIOUS: oldSecret }, () => asked, {
      pacs,
      store,
    });

    const refusedTurn = await bot.press(forged, asked);
    expect(refusedTurn.replies.map((r) => r.text)).toEqual([expect.stringContaining('it has been changed, or it was not made by me')]);
    await bot.application.idle();
    expect(pacs.requests.startRetrieval).toBe(0);

    await bot.press(signedBefore, asked);
    await bot.application.idle();
    expect(pacs.requests.startRetrieval).toBe(1);
    const audit = await store.auditSince('2026-01-01T00:00:00Z');
    expect(audit.filter((a) => a.action === 'access-refused').map((a) => a.outcome)).toEqual(['refused: card forged']);
  });

  it('refuses a card signed with the old secret once CARD_SIGNING_SECRET_PREVIOUS is removed', async () => {
    const pacs = alicePacs();
    const signedBefore = await confirmationSignedWith(oldSecret, pacs);
    bot = await new BotHarness().start({ CARD_SIGNING_SECRET: newSecret }, () => asked, { pacs });
    const turn = await bot.press(signedBefore, asked);
    expect(turn.replies.map((r) => r.text)).toEqual([expect.stringContaining('it has been changed, or it was not made by me')]);
    await bot.application.idle();
    expect(pacs.requests.startRetrieval).toBe(0);
  });
});
