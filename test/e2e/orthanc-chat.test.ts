/**
 * The retrieval issue's "done when", end to end: the real bot over HTTP, configured with
 * PACS_BACKEND=orthanc, against two real Orthanc servers on loopback (UH Bristol and Exeter).
 */
import { localCount } from '../contract/pacs-contract';
import { createMemoryStore } from '../support/fakes/memory-store';
import type { StorePort } from '../../src/ports/store-port';
import { actionsOf, BotHarness, cardsOf, textOf } from '../support/bot-harness';
import { london } from '../support/instants';
import { describeWithOrthanc, orthancBotEnv, startOrthancLab, type OrthancLab } from '../support/orthanc-harness';
import { distractorStudy, exeterStudies, localStudies, seedStudies } from '../support/orthanc-seed';

const asked = london('2026-12-02T02:00');

describeWithOrthanc('a clinician retrieves images from Exeter through the bot', () => {
  let lab: OrthancLab;
  let bot: BotHarness;
  let store: StorePort;

  beforeAll(async () => {
    lab = await startOrthancLab({ remotes: [{ modality: 'EXETER', aet: 'EXETER_PACS' }] });
    await Promise.all([seedStudies(lab.remote('EXETER'), [...exeterStudies, distractorStudy]), seedStudies(lab.local, localStudies)]);
    store = createMemoryStore();
    // A viewer that asks for the accession number as well: it comes from Exeter's C-FIND, kept with the retrieval.
    const viewer = { VIEWER_URL_TEMPLATE: 'https://viewer.example/view?study={StudyInstanceUID}&acc={AccessionNumber}' };
    bot = await new BotHarness().start({ ...orthancBotEnv(lab), ...viewer }, () => asked, { store });
  }, 60_000);
  afterAll(async () => {
    await bot?.stop();
    await lab?.stop();
  }, 60_000);

  async function search(): Promise<{ card: any; text: string }> {
    const before = bot.sentActivities.length;
    const now = await bot.say('find images for NHS number 943 476 5919', asked);
    expect(now.replies[0]!.text).toContain('Searching');
    await bot.application.idle();
    const later = bot.sentActivities.slice(before + now.replies.length);
    const card = cardsOf(later)[0];
    return { card, text: later.map((a) => `${a.text ?? ''}\n${cardsOf([a]).map(textOf).join('\n')}`).join('\n') };
  }

  it("lists Exeter's studies, pulls the chosen one into UH Bristol's Orthanc, and starts nothing the second time", async () => {
    const { card, text } = await search();
    expect(text).toContain('943 476 5919');
    for (const description of ['XR Chest', 'CT Head', 'MR Knee Left']) expect(text).toContain(description);
    expect(text).not.toContain('US Abdomen'); // another patient's study at Exeter

    const retrieve = actionsOf(card).find((a) => a.title === 'Retrieve selected')!;
    const ctIndex = /"id":"(pick-\d)","title":"[^"]*CT Head/.exec(JSON.stringify(card))![1]!;
    const confirmCard = cardsOf((await bot.press({ ...(retrieve.data as object), [ctIndex]: 'true' }, asked)).replies)[0];
    expect(textOf(confirmCard)).toContain('CT Head');
    const confirm = actionsOf(confirmCard).find((a) => a.title === 'Confirm retrieval')!;

    await bot.send({ value: confirm.data, replyToId: 'confirm-card' }, asked);
    await bot.application.idle();
    expect(bot.sentActivities.at(-1)!.text).toContain('Started: CT Head');

    // Follow the job until it settles, as the bot's poller does.
    for (let i = 0; i < 100; i += 1) {
      await bot.application.pollOnce();
      if ((await store.activeRetrievals()).length === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const [retrieval] = await store.retrievalsFor('29:user-1', 1);
    expect(retrieval).toMatchObject({ state: 'stored', site: 'exeter', study: { accessionNumber: 'EXE23110502' } });
    expect(await localCount(bot.application.pacs, '2.25.94347659192')).toBe(5);
    // The completion message opens the images by UID, with Exeter's accession number as the viewer asked.
    await bot.application.idle();
    const done = bot.sentActivities.find((a) => (a.text ?? '').includes('is now on UH Bristol PACS'))!;
    expect(actionsOf(cardsOf([done])[0]).filter((a) => a.title === 'Open images')).toEqual([
      { type: 'Action.OpenUrl', title: 'Open images', url: 'https://viewer.example/view?study=2.25.94347659192&acc=EXE23110502' },
    ]);

    await bot.send({ value: confirm.data, replyToId: 'confirm-card' }, asked);
    await bot.application.idle();
    expect(bot.sentActivities.at(-1)!.text).toContain('Already on UH Bristol PACS: CT Head');
    expect((await store.retrievalsFor('29:user-1', 10)).length).toBe(1);

    const logs = bot.logger.lines.join('\n');
    for (const secret of ['9434765919', '943 476 5919', 'TESTPATIENT', 'ALICE', '19700312', '1970-03-12'])
      expect(logs).not.toContain(secret);
  }, 60_000);

  it('with Exeter stopped, answers within 12 seconds naming Exeter unreachable, recording nothing half-done', async () => {
    await lab.remote('EXETER').stop();
    const started = process.hrtime.bigint();
    const { text } = await search();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    expect(seconds).toBeLessThan(12);
    expect(text).toMatch(/Exeter\s*\n?unreachable/);
    const audit = await store.auditSince('2026-01-01T00:00:00Z');
    expect(audit.at(-1)).toMatchObject({ action: 'patient-search', outcome: 'found: exeter=unreachable' });
    expect(await store.activeRetrievals()).toEqual([]);
  }, 30_000);
});
