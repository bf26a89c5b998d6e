/**
 * Cancelling a retrieval in flight, end to end: the real bot over HTTP with PACS_BACKEND=orthanc and
 * an SQLite file, against real Orthanc servers on loopback. Exeter's C-STOREs to UH Bristol pass
 * through a gate the test holds, so a transfer stays in flight exactly as long as the test needs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../../src/adapters/store/sqlite/sqlite-store';
import type { StorePort } from '../../src/ports/store-port';
import { localCount, pollUntil } from '../contract/pacs-contract';
import { actionsOf, BotHarness, cardsOf, textOf, type SentActivity } from '../support/bot-harness';
import { london } from '../support/instants';
import { describeWithOrthanc, orthancBotEnv, startOrthancLab, type OrthancLab } from '../support/orthanc-harness';
import { exeterStudies, localStudies, seedStudies } from '../support/orthanc-seed';

const asked = london('2026-12-02T02:00');
const user = '29:user-1';

describeWithOrthanc('a clinician cancels a retrieval from Exeter while it downloads', () => {
  let lab: OrthancLab;
  let bot: BotHarness;
  let store: StorePort;
  let dir: string;

  beforeAll(async () => {
    lab = await startOrthancLab({ remotes: [{ modality: 'EXETER', aet: 'EXETER_PACS' }], gated: true });
    await Promise.all([seedStudies(lab.remote('EXETER'), exeterStudies), seedStudies(lab.local, localStudies)]);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orthanc-cancel-'));
    store = openSqliteStore(path.join(dir, 'bot.sqlite'));
    await store.migrate();
    bot = await new BotHarness().start(orthancBotEnv(lab), () => asked, { store });
  }, 60_000);
  afterAll(async () => {
    await bot?.stop();
    await store?.close();
    await lab?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  /** Searches, picks `description`, confirms on card `cardId`, and waits for the start; returns the status card. */
  async function confirmStudy(description: string, cardId: string): Promise<unknown> {
    const before = bot.sentActivities.length;
    await bot.say('find images for NHS number 943 476 5919', asked);
    await bot.application.idle();
    const card = cardsOf(bot.sentActivities.slice(before)).find((c) => textOf(c).includes('Retrieve selected'))!;
    const index = new RegExp(`"id":"(pick-\\d)","title":"[^"]*${description}`).exec(JSON.stringify(card))![1]!;
    const retrieve = actionsOf(card).find((a) => a.title === 'Retrieve selected')!;
    const confirmCard = cardsOf((await bot.press({ ...(retrieve.data as object), [index]: 'true' }, asked)).replies)[0];
    const confirm = actionsOf(confirmCard).find((a) => a.title === 'Confirm retrieval')!;
    await bot.send({ value: confirm.data, replyToId: cardId }, asked);
    await bot.application.idle();
    expect(bot.sentActivities.at(-1)!.text).toContain(`Started: ${description}`);
    return cardsOf([bot.updates.filter((u) => u.activityId === cardId).at(-1)!.activity])[0];
  }

  async function retrievalOf(description: string) {
    return (await store.retrievalsFor(user, 10)).find((r) => r.study.description === description)!;
  }

  /** What the PACS says about a job, until it has ended. */
  async function jobEnded(jobId: string): Promise<string> {
    return pollUntil(async () => {
      const state = (await bot.application.pacs.retrievalStates([jobId])).get(jobId)?.state;
      return state === 'succeeded' || state === 'failed' ? state : undefined;
    });
  }

  function endings(sent: readonly SentActivity[]): string[] {
    return sent.map((a) => a.text ?? '').filter((t) => /now on UH Bristol PACS|could not be retrieved/.test(t));
  }

  it('a transfer under way: the cancel is recorded and said honestly; the transfer completes anyway, and no completion message is sent', async () => {
    const gate = lab.gate('EXETER');
    gate.hold();
    let status: unknown;
    try {
      status = await confirmStudy('MR Knee Left', 'card-mr');
      // Exeter's C-STORE association has reached the gate: the C-MOVE is in flight and stalled.
      await pollUntil(() => Promise.resolve(gate.waitingCount > 0 ? true : undefined), { intervalMs: 20 });
      const cancel = actionsOf(status).find((a) => a.title.startsWith('Cancel download: MR Knee Left'))!;
      const pressed = await bot.send({ value: cancel.data, replyToId: 'card-mr' }, asked);
      expect(pressed.replies.map((r) => r.text)).toEqual([
        '✖️ Cancelled at 02:00: MR Knee Left from Exeter. The PACS was part-way through a transfer it cannot interrupt, so ' +
          'some or all of the images may still arrive on UH Bristol PACS. You will not get a message about it.',
      ]);
    } finally {
      gate.release();
    }
    const retrieval = await retrievalOf('MR Knee Left');
    expect(retrieval.state).toBe('cancelled');
    // Orthanc finishes the C-MOVE once the link goes on: the study arrives, and the poll sees the job succeed.
    expect(await jobEnded(retrieval.pacsJobId!)).toBe('succeeded');
    expect(await localCount(bot.application.pacs, retrieval.study.studyInstanceUid)).toBe(3);
    const sentBefore = bot.sentActivities.length;
    await bot.application.pollOnce();
    await bot.application.pollOnce();
    await bot.application.idle();
    expect(endings(bot.sentActivities.slice(sentBefore))).toEqual([]);
    expect((await store.transitions(retrieval.id)).map((t) => t.to)).toEqual(['requested', 'retrieving', 'cancelled']);
    expect(await store.notificationsFor(retrieval.id)).toEqual([]);
    const audit = (await store.auditSince('2026-01-01T00:00:00Z')).filter(
      (a) => a.action !== 'patient-search' && a.studies.includes(retrieval.study.studyInstanceUid),
    );
    expect(audit.map((a) => `${a.action}: ${a.outcome}`)).toEqual([
      'retrieval-confirmed: confirmed',
      'retrieval-cancelled: cancelled while downloading',
      'retrieval-cancelled: PACS job: stopping',
    ]);
  }, 60_000);

  it('a cancel after the job finished but before the poll saw it is too late: one outcome (stored), one completion message', async () => {
    await confirmStudy('XR Chest', 'card-xr');
    const retrieval = await retrievalOf('XR Chest');
    expect(await jobEnded(retrieval.pacsJobId!)).toBe('succeeded');
    const status = cardsOf([bot.updates.filter((u) => u.activityId === 'card-xr').at(-1)!.activity])[0];
    const cancel = actionsOf(status).find((a) => a.title.startsWith('Cancel download: XR Chest'))!;
    const pressed = await bot.send({ value: cancel.data, replyToId: 'card-xr' }, asked);
    expect(pressed.replies[0]!.text).toBe(
      'Too late to cancel: the PACS has already finished downloading XR Chest from Exeter. I will tell you as usual once UH ' +
        'Bristol PACS is checked to hold it.',
    );
    const sentBefore = bot.sentActivities.length;
    await bot.application.pollOnce();
    await bot.application.idle();
    expect(endings(bot.sentActivities.slice(sentBefore))).toEqual([
      '✅ XR Chest from Exeter (12 Mar 2024), 2 images, is now on UH Bristol PACS, kept until 1 Jan 2027.',
    ]);
    expect(await store.getRetrieval(retrieval.id)).toMatchObject({ state: 'stored' });
  }, 60_000);
});
