/**
 * Cancelling a retrieval still downloading, through the real HTTP endpoint against the fake PACS
 * (with real Orthanc servers in test/e2e/orthanc-cancel.test.ts): from the status card and from
 * "my retrievals"; what the PACS said is told back; a cancelled retrieval never sends a completion
 * message, even when its transfer completes afterwards; a cancel once the PACS has finished is too
 * late, and the poll's completion is the one outcome.
 */
import { FakePacs } from '../../src/adapters/pacs/fake-pacs';
import type { StudySummary } from '../../src/ports/pacs-port';
import type { StorePort } from '../../src/ports/store-port';
import { createMemoryStore } from '../support/fakes/memory-store';
import { actionsOf, BotHarness, cardsOf, textOf, type SentActivity } from '../support/bot-harness';
import { fakeAlice } from '../support/fixtures';
import { london } from '../support/instants';

const nhs = '9434765919';
const asked = london('2026-12-02T02:00');
const user = '29:user-1';

/** Six studies at Exeter, one a month from January 2024 ("Study 1" is the oldest). */
const exeterStudies: StudySummary[] = Array.from({ length: 6 }, (_, i) => ({
  studyInstanceUid: `2.25.${i + 1}`,
  date: `2024-0${i + 1}-10`,
  description: `Study ${i + 1}`,
  modalities: ['CT'],
  instanceCount: 3,
}));

describe('cancelling a retrieval that is downloading (fake PACS)', () => {
  let bot: BotHarness;
  let pacs: FakePacs;
  let store: StorePort;

  beforeEach(async () => {
    pacs = new FakePacs({ local: [{ identity: fakeAlice, studies: [] }], sites: { exeter: { studies: { [nhs]: exeterStudies } } } });
    store = createMemoryStore();
    // Many searches and cards in one chat: Teams' pace per chat (tested in teams-notifier.test.ts) would only add waiting.
    bot = await new BotHarness().start({ PACS_QUERY_TIMEOUT_S: '1' }, () => asked, { pacs, store, perConversationPerSecond: 1000 });
  });
  afterEach(async () => {
    await bot.stop();
  });

  /** Searches, and picks the study described `description`: the confirmation card, not yet pressed. */
  async function confirmationCard(description: string): Promise<unknown> {
    const before = bot.sentActivities.length;
    await bot.say('find images for 943 476 5919', asked);
    await bot.application.idle();
    const studiesCard = cardsOf(bot.sentActivities.slice(before)).find((c) => textOf(c).includes('Retrieve selected'))!;
    // The studies card lists them newest first.
    const index = [...exeterStudies].reverse().findIndex((s) => s.description === description);
    const retrieve = actionsOf(studiesCard).find((a) => a.title === 'Retrieve selected')!;
    return cardsOf((await bot.press({ ...(retrieve.data as object), [`pick-${index}`]: 'true' }, asked)).replies)[0];
  }

  /** Confirms the study described `description` on card `cardId`; returns the status card put there. */
  async function confirmStudy(description: string, cardId: string): Promise<unknown> {
    const confirm = actionsOf(await confirmationCard(description)).find((a) => a.title === 'Confirm retrieval')!;
    await bot.send({ value: confirm.data, replyToId: cardId }, asked);
    await bot.application.idle();
    return lastUpdate(cardId);
  }

  function lastUpdate(cardId: string): unknown {
    return cardsOf([bot.updates.filter((u) => u.activityId === cardId).at(-1)!.activity])[0];
  }

  function cancelButton(card: unknown, description: string): { data?: unknown } {
    return actionsOf(card).find((a) => a.title.startsWith(`Cancel download: ${description} (`))!;
  }

  /** Every message the bot posted outside a turn that announces an ending. */
  function endings(sent: readonly SentActivity[]): string[] {
    return sent.map((a) => a.text ?? '').filter((t) => /now on UH Bristol PACS|could not be retrieved/.test(t));
  }

  it('from the status card: cancelled at the PACS, said back, the card updated, and no completion message under the poll', async () => {
    const status = await confirmStudy('Study 2', 'card-1');
    expect(textOf(status)).toContain('Retrieval confirmed');
    const cancel = cancelButton(status, 'Study 2');
    expect(cancel).toBeDefined();
    expect(await store.activeRetrievals()).toHaveLength(1);

    const cancelled = await bot.send({ value: cancel.data, replyToId: 'card-1' }, asked);
    expect(cancelled.replies.map((r) => r.text)).toEqual([
      '✖️ Cancelled at 02:00: Study 2 from Exeter. The download was stopped. You will not get a message about it.',
    ]);
    expect(pacs.requests.cancelRetrieval).toBe(1);
    // The status card now says cancelled, with no Cancel button left.
    const card = lastUpdate('card-1');
    expect(textOf(card)).toMatch(/Study 2 · CT · 3 images · Exeter · ✖️ cancelled/);
    expect(
      actionsOf(card)
        .map((a) => a.title)
        .filter((t) => t.startsWith('Cancel download')),
    ).toEqual([]);

    // The poll runs on: nothing is announced, nothing is owed.
    const sentBefore = bot.sentActivities.length;
    const [retrieval] = await store.retrievalsFor(user, 5);
    pacs.completeJob(retrieval!.pacsJobId!);
    await bot.application.pollOnce();
    await bot.application.idle();
    expect(endings(bot.sentActivities.slice(sentBefore))).toEqual([]);
    expect(await store.getRetrieval(retrieval!.id)).toMatchObject({ state: 'cancelled' });
    expect(await store.notificationsFor(retrieval!.id)).toEqual([]);
    const audit = await store.auditSince('2026-01-01T00:00:00Z');
    expect(audit.filter((a) => a.action === 'retrieval-cancelled').map((a) => [a.site, a.studies, a.nhsNumber, a.outcome])).toEqual([
      ['exeter', ['2.25.2'], nhs, 'cancelled while downloading'],
      ['exeter', ['2.25.2'], nhs, 'PACS job: cancelled'],
    ]);
    expect(audit.filter((a) => a.action === 'retrieval-outcome')).toEqual([]);

    // A second press (another device, a replay) changes nothing and says so.
    const again = await bot.send({ value: cancel.data, replyToId: 'card-1' }, asked);
    expect(again.replies.map((r) => r.text)).toEqual(['Study 2 from Exeter was already cancelled.']);
    expect(pacs.requests.cancelRetrieval).toBe(1);
  });

  it('a transfer the PACS cannot interrupt: said so, and when it completes after the cancel the one outcome stays cancelled', async () => {
    pacs.holdTransfers();
    const status = await confirmStudy('Study 3', 'card-1');
    const cancelled = await bot.send({ value: cancelButton(status, 'Study 3').data, replyToId: 'card-1' }, asked);
    expect(cancelled.replies[0]!.text).toBe(
      '✖️ Cancelled at 02:00: Study 3 from Exeter. The PACS was part-way through a transfer it cannot interrupt, so some or ' +
        'all of the images may still arrive on UH Bristol PACS. You will not get a message about it.',
    );
    // The link goes on and the transfer completes: the study is on UH Bristol PACS, and the poll sees the job succeed.
    const [retrieval] = await store.retrievalsFor(user, 5);
    pacs.releaseTransfers();
    pacs.completeJob(retrieval!.pacsJobId!);
    expect((await pacs.retrievalStates([retrieval!.pacsJobId!])).get(retrieval!.pacsJobId!)).toEqual({ state: 'succeeded' });
    const sentBefore = bot.sentActivities.length;
    await bot.application.pollOnce();
    await bot.application.idle();
    expect(endings(bot.sentActivities.slice(sentBefore))).toEqual([]);
    expect((await store.transitions(retrieval!.id)).map((t) => t.to)).toEqual(['requested', 'retrieving', 'cancelled']);
    expect(await store.notificationsFor(retrieval!.id)).toEqual([]);
  });

  it('a cancel once the PACS has finished the job is too late: one outcome (stored) and one completion message, in either order and at once', async () => {
    for (const [i, study] of exeterStudies.entries()) {
      const status = await confirmStudy(study.description, `card-${i}`);
      const [retrieval] = (await store.retrievalsFor(user, 10)).filter((r) => r.study.studyInstanceUid === study.studyInstanceUid);
      pacs.completeJob(retrieval!.pacsJobId!);
      const sentBefore = bot.sentActivities.length;
      const pressCancel = () => bot.send({ value: cancelButton(status, study.description).data, replyToId: `card-${i}` }, asked);
      // Both orders, then both at once: the cancel first, the poll first, and racing.
      let press: Awaited<ReturnType<typeof pressCancel>>;
      if (i < 2) {
        press = await pressCancel();
        await bot.application.pollOnce();
      } else if (i < 4) {
        await bot.application.pollOnce();
        press = await pressCancel();
      } else {
        [press] = await Promise.all([pressCancel(), bot.application.pollOnce()]);
      }
      await bot.application.pollOnce();
      await bot.application.idle();
      // The turn's reply, among what was posted meanwhile (the poll's notification may be there too).
      const said = press.replies.map((r) => r.text ?? '').find((t) => /^(Too late|✖️)/.test(t));
      expect([
        `Too late to cancel: the PACS has already finished downloading ${study.description} from Exeter. I will tell you as usual ` +
          'once UH Bristol PACS is checked to hold it.',
        `Too late to cancel: ${study.description} from Exeter had already arrived on UH Bristol PACS.`,
      ]).toContain(said);
      expect(await store.getRetrieval(retrieval!.id)).toMatchObject({ state: 'stored' });
      expect(endings(bot.sentActivities.slice(sentBefore))).toHaveLength(1);
      expect((await store.notificationsFor(retrieval!.id)).map((n) => n.kind)).toEqual(['stored']);
      expect((await store.transitions(retrieval!.id)).map((t) => t.to)).toEqual(['requested', 'retrieving', 'stored']);
      expect(pacs.requests.cancelRetrieval).toBe(0);
    }
  });

  it('"my retrievals" offers Cancel download for the ones downloading only, and shows the page again after a press', async () => {
    await confirmStudy('Study 1', 'card-1');
    await confirmStudy('Study 4', 'card-2');
    const [first] = (await store.retrievalsFor(user, 10)).filter((r) => r.study.description === 'Study 1');
    pacs.completeJob(first!.pacsJobId!);
    await bot.application.pollOnce();

    const list = cardsOf((await bot.say('my retrievals', asked)).replies)[0];
    expect(actionsOf(list).map((a) => a.title)).toEqual(['Cancel download: Study 4 (10 Apr 2024)', 'Show the menu']);
    const pressed = await bot.send({ value: cancelButton(list, 'Study 4').data, replyToId: 'list-card' }, asked);
    expect(pressed.replies[0]!.text).toMatch(/^✖️ Cancelled at 02:00: Study 4 from Exeter\./);
    const shown = lastUpdate('list-card');
    expect(textOf(shown)).toContain('Your recent retrievals');
    expect(textOf(shown)).toMatch(/Study 4 · CT · 3 images · Exeter · NHS 943 476 5919 · ✖️ cancelled/);
    expect(textOf(shown)).toMatch(/Study 1 · CT · 3 images · Exeter · NHS 943 476 5919 · ✅ stored on UH Bristol PACS/);
    expect(actionsOf(shown).map((a) => a.title)).toEqual(['Show the menu']);
  });

  it('does not cancel a download another clinician joined, and says why', async () => {
    // A colleague, in their own chat, has the confirmation card for the same study open...
    const colleague = {
      from: { id: '29:user-2', name: 'Dr Colleague', aadObjectId: '00000000-0000-0000-0000-000000000002' },
      conversation: { id: 'a:colleague-chat', conversationType: 'personal', tenantId: 'tenant-1' },
    };
    const before = bot.sentActivities.length;
    await bot.send({ text: 'find images for 943 476 5919', ...colleague }, asked);
    await bot.application.idle();
    const card = cardsOf(bot.sentActivities.slice(before)).find((c) => textOf(c).includes('Retrieve selected'))!;
    const retrieve = actionsOf(card).find((a) => a.title === 'Retrieve selected')!;
    const confirmCard = cardsOf(
      (await bot.send({ value: { ...(retrieve.data as object), 'pick-0': 'true' }, ...colleague }, asked)).replies,
    )[0];
    expect(textOf(confirmCard)).toContain('Study 6');
    // ... when this clinician confirms it; the colleague's Confirm then joins the download.
    const status = await confirmStudy('Study 6', 'card-1');
    const confirm = actionsOf(confirmCard).find((a) => a.title === 'Confirm retrieval')!;
    await bot.send({ value: confirm.data, replyToId: 'colleague-card', ...colleague }, asked);
    await bot.application.idle();
    expect(bot.sentActivities.at(-1)!.text).toContain('Already downloading: Study 6');

    const pressed = await bot.send({ value: cancelButton(status, 'Study 6').data, replyToId: 'card-1' }, asked);
    expect(pressed.replies.map((r) => r.text)).toEqual([
      'Not cancelled: another clinician asked for Study 6 from Exeter while it was downloading and is waiting for it too. You ' +
        'will still get a message when it arrives.',
    ]);
    expect(pacs.requests.cancelRetrieval).toBe(0);
    expect(await store.activeRetrievals()).toHaveLength(1);
  });

  it('Confirm and Cancel on two copies of one confirmation card: the first press stands, in either order and at once', async () => {
    const already = 'That retrieval was already confirmed, so Cancel no longer applies to it.';
    const cancelledText = 'That retrieval was cancelled, so nothing was retrieved. Search again to start a new one.';
    for (const [i, study] of exeterStudies.entries()) {
      const card = await confirmationCard(study.description);
      const [confirm, cancel] = ['Confirm retrieval', 'Cancel'].map((t) => actionsOf(card).find((a) => a.title === t)!);
      const pressConfirm = () => bot.send({ value: confirm!.data, replyToId: `phone-${i}` }, asked);
      const pressCancel = () => bot.send({ value: cancel!.data, replyToId: `desktop-${i}` }, asked);
      let said: string[];
      if (i < 2) said = [...(await pressConfirm()).replies, ...(await pressCancel()).replies].map((r) => r.text ?? '');
      else if (i < 4) said = [...(await pressCancel()).replies, ...(await pressConfirm()).replies].map((r) => r.text ?? '');
      else said = (await Promise.all([pressConfirm(), pressCancel()])).flatMap((r) => r.replies.map((a) => a.text ?? ''));
      await bot.application.idle();
      const recorded = (await store.retrievalsFor(user, 10)).filter((r) => r.study.studyInstanceUid === study.studyInstanceUid);
      const cancelledAudit = (await store.auditSince('2026-01-01T00:00:00Z')).filter(
        (a) => a.action === 'retrieval-cancelled' && a.studies.includes(study.studyInstanceUid),
      );
      if (recorded.length === 1) {
        // Confirm won: the cancel was refused in words, and nothing was marked cancelled.
        expect(said.some((t) => t.startsWith(already))).toBe(true);
        expect(said).not.toContain(cancelledText);
        expect(cancelledAudit).toEqual([]);
      } else {
        expect(recorded).toEqual([]);
        expect(said).toContain(cancelledText);
        expect(said.some((t) => t.startsWith(already))).toBe(false);
        expect(cancelledAudit).toHaveLength(1);
      }
      if (i < 2) expect(recorded).toHaveLength(1);
      else if (i < 4) expect(recorded).toHaveLength(0);
    }
  });

  it('refuses a Cancel download button that was forged or altered, and cancels nothing', async () => {
    const status = await confirmStudy('Study 5', 'card-1');
    const data = cancelButton(status, 'Study 5').data as { isa: string; offer: string };
    const forged = await bot.press({ ...data, offer: `${data.offer.slice(0, -2)}xx` }, asked);
    expect(forged.replies[0]!.text).toMatch(/cannot use|could not|not valid/i);
    expect(pacs.requests.cancelRetrieval).toBe(0);
    expect(await store.activeRetrievals()).toHaveLength(1);
  });
});
