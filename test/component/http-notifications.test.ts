/**
 * Proactive notifications when retrievals end, through the real bot, the real Teams notifier and
 * botbuilder's CloudAdapter, with the Bot Connector caught by nock: exactly one message per outcome,
 * the status card updated in place, "Try again" on failure, and "my retrievals".
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nock from 'nock';
import { FakePacs } from '../../src/adapters/pacs/fake-pacs';
import { openSqliteStore } from '../../src/adapters/store/sqlite/sqlite-store';
import type { StorePort } from '../../src/ports/store-port';
import { actionsOf, BotHarness, cardsOf, serviceUrl, textOf } from '../support/bot-harness';
import { london } from '../support/instants';
import { fakeAlice } from '../support/fixtures';

const nhs = '9434765919';

function makePacs(): FakePacs {
  return new FakePacs({
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
}

describe('notifications when retrievals end', () => {
  let dir: string;
  let file: string;
  let bot: BotHarness;
  let pacs: FakePacs;
  let store: StorePort;
  let now: Date;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'notify-'));
    file = path.join(dir, 'bot.sqlite');
    pacs = makePacs();
    store = openSqliteStore(file);
    now = london('2026-12-02T02:00');
    bot = await new BotHarness().start({}, () => now, { pacs, store });
  });
  afterEach(async () => {
    await bot.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Search, tick the CT Head, confirm on card "status-card": the retrieval starts. */
  async function confirmCtHead(): Promise<void> {
    await bot.say('find images for 943 476 5919', now);
    await bot.application.idle();
    const studiesCard = cardsOf(bot.sentActivities.slice(-1))[0];
    const retrieve = actionsOf(studiesCard).find((a) => a.title === 'Retrieve selected')!;
    const confirmCard = cardsOf((await bot.press({ ...(retrieve.data as object), 'pick-1': 'true' }, now)).replies)[0];
    const confirm = actionsOf(confirmCard).find((a) => a.title === 'Confirm retrieval')!;
    await bot.send({ value: confirm.data, replyToId: 'status-card' }, now);
    await bot.application.idle();
    expect(pacs.jobIds()).toHaveLength(1);
  }

  const completionMessages = () => bot.sentActivities.filter((a) => (a.text ?? '').includes('is now on UH Bristol PACS'));

  it('sends exactly one completion message and updates the status card to stored', async () => {
    await confirmCtHead();
    await bot.application.pollOnce();
    expect(completionMessages()).toHaveLength(0); // still downloading

    pacs.completeJob(pacs.jobIds()[0]!);
    await bot.application.pollOnce();
    expect(completionMessages()).toHaveLength(1);
    const [done] = completionMessages();
    // The text is what a locked phone shows: the study, the site and the outcome, no patient identifier.
    expect(done!.text).toBe('✅ CT Head from Exeter (5 Nov 2023), 5 images, is now on UH Bristol PACS, kept until 1 Jan 2027.');
    // The NHS number is in the card, in the 1:1 chat; and Teams is asked for a feed alert.
    expect(textOf(cardsOf([done!])[0])).toMatch(/NHS number\s+943 476 5919/);
    expect(done!.channelData).toMatchObject({ notification: { alert: true } });
    expect(actionsOf(cardsOf([done!])[0])).toEqual([]); // no viewer configured: no "Open images"
    const update = bot.updates.at(-1)!;
    expect(update.activityId).toBe('status-card');
    expect(textOf(cardsOf([update.activity])[0])).toContain('✅ stored on UH Bristol PACS');

    for (let i = 0; i < 3; i += 1) await bot.application.pollOnce();
    expect(completionMessages()).toHaveLength(1);
  });

  it('a failure says why and offers "Try again", which resubmits and ends in one completion message', async () => {
    await confirmCtHead();
    pacs.failJob(pacs.jobIds()[0]!, 'unreachable');
    await bot.application.pollOnce();
    const failed = bot.sentActivities.find((a) => (a.text ?? '').includes('could not be retrieved'))!;
    expect(failed.text).toBe('❌ CT Head from Exeter (5 Nov 2023) could not be retrieved: the PACS could not be reached.');
    expect(failed.channelData).toMatchObject({ notification: { alert: true } });
    const failure = cardsOf([failed])[0];
    expect(textOf(failure)).toContain('Retrieval failed');
    expect(textOf(failure)).toMatch(/NHS number\s+943 476 5919/);
    const tryAgain = actionsOf(failure).find((a) => a.title === 'Try again')!;

    await bot.press(tryAgain.data, now);
    await bot.application.idle();
    expect(bot.sentActivities.at(-1)!.text).toContain('Started again: CT Head from Exeter');
    expect(pacs.jobIds()).toHaveLength(2);
    pacs.completeJob(pacs.jobIds()[1]!);
    await bot.application.pollOnce();
    await bot.application.pollOnce();
    expect(completionMessages()).toHaveLength(1);
  });

  it('records "Try again" before answering, so a retry whose start never came back is started by the poll, with one message', async () => {
    await confirmCtHead();
    const [firstJob] = pacs.jobIds();
    pacs.failJob(firstJob!, 'unreachable');
    await bot.application.pollOnce();
    const failure = cardsOf(bot.sentActivities.slice(-2) as never).find((c) => textOf(c).includes('Retrieval failed'))!;
    const tryAgain = actionsOf(failure).find((a) => a.title === 'Try again')!;
    // The start after the answer never comes back, as if the process had died there.
    const start = pacs.startRetrieval.bind(pacs);
    let release: ((jobId: string) => void) | undefined;
    pacs.startRetrieval = () => new Promise<string>((resolve) => (release = resolve));
    const pressed = await bot.press(tryAgain.data, now);
    expect(pressed.replies.map((r) => r.text)).toEqual(['Trying again...']);
    const [retrieval] = await store.retrievalsFor('29:user-1', 10);
    expect(retrieval).toMatchObject({ state: 'requested' });
    expect((await store.transitions(retrieval!.id)).at(-1)).toMatchObject({ from: 'failed', to: 'requested', detail: 'try again' });
    expect((await store.auditSince('2026-01-01T00:00:00Z')).filter((e) => e.outcome === 'try-again')).toHaveLength(1);
    // A minute later the poll starts what the turn did not.
    pacs.startRetrieval = start;
    now = new Date(now.getTime() + 61_000);
    await bot.application.pollOnce();
    expect(await store.getRetrieval(retrieval!.id)).toMatchObject({ state: 'retrieving' });
    release?.('fake-job-late');
    await bot.application.idle();
    pacs.completeJob(pacs.jobIds().at(-1)!);
    await bot.application.pollOnce();
    await bot.application.pollOnce();
    expect(completionMessages()).toHaveLength(1);
  });

  it('fails a job the PACS forgot whose study never arrived once its attempt is 30 minutes old, instead of "downloading" for ever', async () => {
    await confirmCtHead();
    const started = now;
    pacs.forgetJobs();
    now = new Date(started.getTime() + 29 * 60 * 1000);
    await bot.application.pollOnce();
    const [retrieval] = await store.retrievalsFor('29:user-1', 10);
    expect(retrieval).toMatchObject({ state: 'retrieving' });
    now = new Date(started.getTime() + 31 * 60 * 1000);
    await bot.application.pollOnce();
    expect(await store.getRetrieval(retrieval!.id)).toMatchObject({ state: 'failed', failureReason: 'timed-out' });
    const failure = bot.sentActivities.map((a) => cardsOf([a])[0]).find((c) => c && textOf(c).includes('Retrieval failed'));
    expect(textOf(failure)).toContain('did not answer in time');
    // A new Confirm of the same study is no longer told "already downloading".
    expect((await store.activeRetrievals()).length).toBe(0);
  });

  it('gives "Try again" pressed 45 minutes after the first Confirm a whole timeout of its own', async () => {
    await confirmCtHead();
    const confirmedAt = now;
    pacs.failJob(pacs.jobIds()[0]!, 'unreachable');
    await bot.application.pollOnce();
    const failure = cardsOf(bot.sentActivities.slice(-2) as never).find((c) => textOf(c).includes('Retrieval failed'))!;
    const tryAgain = actionsOf(failure).find((a) => a.title === 'Try again')!;
    now = new Date(confirmedAt.getTime() + 45 * 60 * 1000);
    await bot.press(tryAgain.data, now);
    await bot.application.idle();
    const failuresBefore = bot.sentActivities.filter((a) => textOf(cardsOf([a])[0] ?? {}).includes('Retrieval failed')).length;
    // A minute into the new attempt (46 minutes after the first Confirm) it is still downloading.
    now = new Date(confirmedAt.getTime() + 46 * 60 * 1000);
    await bot.application.pollOnce();
    const [retrieval] = await store.retrievalsFor('29:user-1', 10);
    expect(retrieval).toMatchObject({ state: 'retrieving' });
    expect(bot.sentActivities.filter((a) => textOf(cardsOf([a])[0] ?? {}).includes('Retrieval failed'))).toHaveLength(failuresBefore);
    pacs.completeJob(pacs.jobIds()[1]!);
    await bot.application.pollOnce();
    await bot.application.pollOnce();
    expect(completionMessages()).toHaveLength(1);
    expect(await store.getRetrieval(retrieval!.id)).toMatchObject({ state: 'stored' });
  });

  it('settles a job the PACS forgot by finding the study on the local PACS', async () => {
    await confirmCtHead();
    pacs.completeJob(pacs.jobIds()[0]!);
    pacs.forgetJobs();
    await bot.application.pollOnce();
    expect(completionMessages()).toHaveLength(1);
  });

  it('fails a job that never finishes after 30 minutes, and tells the clinician', async () => {
    await confirmCtHead();
    now = new Date(now.getTime() + 29 * 60 * 1000);
    await bot.application.pollOnce();
    expect(bot.sentActivities.some((a) => textOf(cardsOf([a])[0] ?? {}).includes('Retrieval failed'))).toBe(false);
    now = new Date(now.getTime() + 2 * 60 * 1000);
    await bot.application.pollOnce();
    const failure = bot.sentActivities.map((a) => cardsOf([a])[0]).find((c) => c && textOf(c).includes('Retrieval failed'));
    expect(textOf(failure)).toContain('did not answer in time');
  });

  it('records a 403 (bot removed from the chat) as undeliverable, without retrying, and shows it in "my retrievals"', async () => {
    await confirmCtHead();
    pacs.completeJob(pacs.jobIds()[0]!);
    // From now on the connector refuses: the user blocked the bot. Any second attempt would be unmatched.
    nock.cleanAll();
    const unmatched: string[] = [];
    const onNoMatch = (req: { path?: string }) => unmatched.push(req.path ?? '');
    nock.emitter.on('no match', onNoMatch);
    const scope = nock(serviceUrl.replace(/\/$/, ''))
      .post(/\/v3\/conversations\/.+\/activities$/)
      .reply(403, { error: { code: 'BotNotInConversationRoster' } });
    await bot.application.pollOnce();
    nock.emitter.removeListener('no match', onNoMatch);
    expect(scope.isDone()).toBe(true);
    expect(unmatched).toEqual([]);
    const [retrieval] = await store.retrievalsFor('29:user-1', 1);
    expect((await store.notificationsFor(retrieval!.id)).map((n) => n.state)).toEqual(['undeliverable']);

    // Nothing fails silently: the clinician sees it when they next look.
    const replies: Array<{ attachments?: Array<{ content: unknown }> }> = [];
    nock(serviceUrl.replace(/\/$/, ''))
      .post(/\/v3\/conversations\/.+\/activities(\/.*)?$/)
      .reply(200, (_uri, body) => {
        replies.push(body as never);
        return { id: 'x' };
      });
    await bot.say('my retrievals', now);
    expect(textOf(replies[0]?.attachments?.[0]?.content)).toContain('I could not send you the notification for this one');
  });

  it('"my retrievals" lists state, site and expiry', async () => {
    await confirmCtHead();
    pacs.completeJob(pacs.jobIds()[0]!);
    await bot.application.pollOnce();
    const result = await bot.say('my retrievals', now);
    const text = textOf(cardsOf(result.replies)[0]);
    expect(text).toContain('CT Head');
    expect(text).toContain('Exeter');
    expect(text).toContain('✅ stored on UH Bristol PACS, kept until 1 Jan 2027');
  });

  it('after a restart on the same database, an owed notification is sent once', async () => {
    await confirmCtHead();
    pacs.completeJob(pacs.jobIds()[0]!);
    // Stop before the poll that would settle it, then start a new bot on the same file.
    await bot.stop();
    const restarted = await new BotHarness().start({}, () => now, { pacs, store: openSqliteStore(file) });
    try {
      await restarted.application.pollOnce();
      await restarted.application.pollOnce();
      expect(restarted.sentActivities.filter((a) => (a.text ?? '').includes('is now on UH Bristol PACS'))).toHaveLength(1);
    } finally {
      await restarted.stop();
      bot = await new BotHarness().start({}, () => now, { pacs: makePacs(), store: openSqliteStore(path.join(dir, 'other.sqlite')) });
    }
  });
});
