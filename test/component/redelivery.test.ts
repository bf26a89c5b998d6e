/**
 * Teams re-delivers a turn it thinks timed out, with the same activity id: the bot handles each id
 * once (one effect, one reply), even when the two deliveries race; a turn that failed is handled
 * afresh when it comes again; slow work (the PACS) never holds the turn open.
 */
import { FakePacs } from '../../src/adapters/pacs/fake-pacs';
import { createMemoryStore } from '../support/fakes/memory-store';
import os from 'node:os';
import type { StorePort } from '../../src/ports/store-port';
import { instanceId } from '../../src/retrieval/lease-owners';
import { activityClaimMs } from '../../src/teams/teams-bot';
import { actionsOf, BotHarness, cardsOf } from '../support/bot-harness';
import { london } from '../support/instants';
import { fakeAlice } from '../support/fixtures';

const nhs = '9434765919';
const asked = london('2026-12-02T02:00');

function makePacs(): FakePacs {
  return new FakePacs({
    local: [{ identity: fakeAlice, studies: [] }],
    sites: {
      exeter: {
        studies: {
          [nhs]: [{ studyInstanceUid: '2.25.2', date: '2023-11-05', description: 'CT Head', modalities: ['CT'], instanceCount: 5 }],
        },
      },
      // A site that never answers: the search must still answer the turn at once.
      'south-devon': { behaviour: 'hung', studies: {} },
    },
  });
}

const liveness = { heartbeatMs: 100, silentMs: 500 };
let dbNow: Date;

describe('re-delivered activities', () => {
  let bot: BotHarness;
  let pacs: FakePacs;
  let store: StorePort;
  let failNextList = false;

  beforeEach(async () => {
    pacs = makePacs();
    dbNow = new Date('2026-12-02T02:00:00.000Z');
    // The database's clock, driven by the test: heartbeats and silences never depend on the real clock.
    const inner = createMemoryStore({ clock: () => dbNow });
    failNextList = false;
    store = {
      ...inner,
      retrievalsFor: (user, limit) => {
        if (failNextList) {
          failNextList = false;
          return Promise.reject(new Error('database hiccup'));
        }
        return inner.retrievalsFor(user, limit);
      },
    };
    // Short heartbeats, so waiting out a live-looking owner takes a moment, not seconds.
    bot = await new BotHarness().start({ PACS_QUERY_TIMEOUT_S: '1' }, () => asked, { pacs, store, liveness });
  });
  afterEach(() => bot.stop());

  it('answers a question once when the same activity comes twice', async () => {
    const first = await bot.say('how do I get Taunton access at 2am?', asked, { id: 'teams-activity-1' });
    const again = await bot.say('how do I get Taunton access at 2am?', asked, { id: 'teams-activity-1' });
    expect(first.status).toBe(200);
    expect(first.replies.length).toBeGreaterThan(0);
    expect(again.status).toBe(200);
    expect(again.replies).toHaveLength(0);
    // The same id in another conversation is another activity.
    const elsewhere = await bot.say('how do I get Taunton access at 2am?', asked, {
      id: 'teams-activity-1',
      conversation: { id: 'a:other-chat', conversationType: 'personal', tenantId: 'tenant-1' },
    });
    expect(elsewhere.replies.length).toBeGreaterThan(0);
  });

  it('starts one retrieval and says so once when a confirmation is re-delivered, even while the first is still running', async () => {
    const before = bot.sentActivities.length;
    const search = await bot.say(`find images for ${nhs}`, asked);
    // The turn answered at once although a site is hung; the search result comes later.
    expect(search.replies.map((r) => r.text)).toEqual([expect.stringContaining('Searching UH Bristol PACS')]);
    await bot.application.idle();
    const studiesCard = cardsOf(bot.sentActivities.slice(before))[0];
    const retrieve = actionsOf(studiesCard).find((a) => a.title === 'Retrieve selected')!;
    const confirmCard = cardsOf((await bot.press({ ...(retrieve.data as object), 'pick-0': 'true' }, asked)).replies)[0];
    const confirm = actionsOf(confirmCard).find((a) => a.title === 'Confirm retrieval')!;

    const [one, two] = await Promise.all([
      bot.send({ id: 'teams-confirm-1', value: confirm.data, replyToId: 'card-1' }, asked),
      bot.send({ id: 'teams-confirm-1', value: confirm.data, replyToId: 'card-1' }, asked),
    ]);
    await bot.application.idle();
    expect([...one.replies, ...two.replies].map((r) => r.text)).toEqual(['Starting the retrieval of 1 study...']);
    expect(pacs.requests.startRetrieval).toBe(1);
    expect(bot.sentActivities.filter((a) => (a.text ?? '').includes('Started: CT Head'))).toHaveLength(1);
    const audit = await store.auditSince('2026-01-01T00:00:00Z');
    expect(audit.filter((a) => a.action === 'retrieval-confirmed')).toHaveLength(1);
  });

  it('handles a re-delivery afresh when the first delivery failed', async () => {
    failNextList = true;
    const failed = await bot.say('my retrievals', asked, { id: 'teams-activity-9' });
    expect(failed.replies.map((r) => r.text)).toEqual([expect.stringContaining('Sorry, something went wrong')]);
    const again = await bot.say('my retrievals', asked, { id: 'teams-activity-9' });
    expect(cardsOf(again.replies).length + again.replies.filter((r) => r.text).length).toBeGreaterThan(0);
    expect(JSON.stringify(again.replies)).not.toContain('Sorry, something went wrong');
  });

  describe('a delivery cut short (claims)', () => {
    const key = (id: string): string => JSON.stringify(['msteams', 'a:personal-chat', id]);
    const claimAs = (id: string, owner: string, at: Date) =>
      store.claimActivity({ key: key(id), owner, at: at.toISOString(), claimMs: activityClaimMs, keepMs: 86_400_000 });

    /** An instance that beat last `agoMs` before the database's clock (0: it is beating now, and the clock stands still). */
    async function lastBeat(owner: string, agoMs: number): Promise<string> {
      await store.heartbeat(owner, new Date(dbNow.getTime() - agoMs).toISOString());
      return owner;
    }

    it('handles afresh a re-delivery whose first delivery was claimed by an instance that has fallen silent', async () => {
      const gone = await lastBeat(instanceId('another-host', 'deadbeef'), liveness.silentMs);
      expect(await claimAs('teams-cut-1', gone, asked)).toMatchObject({ outcome: 'claimed' });
      const again = await bot.say('how do I get Taunton access at 2am?', asked, { id: 'teams-cut-1' });
      expect(again.replies.length).toBeGreaterThan(0);
      expect(await store.activityFor(key('teams-cut-1'))).toMatchObject({ state: 'done' });
      expect((await store.activityFor(key('teams-cut-1')))!.owner).not.toBe(gone);
      // And once done, a third delivery gets nothing.
      expect((await bot.say('how do I get Taunton access at 2am?', asked, { id: 'teams-cut-1' })).replies).toHaveLength(0);
    });

    it('ignores a re-delivery while a live owner (another instance) holds the claim, and takes it over once the claim has run out', async () => {
      const elsewhere = instanceId('another-host', 'cafef00d');
      await lastBeat(elsewhere, 0);
      await claimAs('teams-cut-2', elsewhere, asked);
      const during = await bot.say('how do I get Taunton access at 2am?', new Date(asked.getTime() + activityClaimMs - 1), {
        id: 'teams-cut-2',
      });
      expect(during.replies).toHaveLength(0);
      const after = await bot.say('how do I get Taunton access at 2am?', new Date(asked.getTime() + activityClaimMs), {
        id: 'teams-cut-2',
      });
      expect(after.replies.length).toBeGreaterThan(0);
      expect(await store.activityFor(key('teams-cut-2'))).toMatchObject({ state: 'done' });
    });

    it('takes over from an owner that stopped beating while the re-delivery waited, and finishes the turn', async () => {
      const elsewhere = instanceId('another-host', 'f00dcafe');
      await lastBeat(elsewhere, 0);
      await claimAs('teams-cut-3', elsewhere, asked);
      // Within the claim's time, but its owner never beats again: while the re-delivery waits (600 ms), the
      // database's clock passes the silence, and the turn is taken over and answered.
      const silence = setTimeout(() => (dbNow = new Date(dbNow.getTime() + liveness.silentMs)), 200);
      const again = await bot.say('how do I get Taunton access at 2am?', new Date(asked.getTime() + 1_000), { id: 'teams-cut-3' });
      expect(again.replies.length).toBeGreaterThan(0);
      expect(await store.activityFor(key('teams-cut-3'))).toMatchObject({ state: 'done' });
      expect(bot.logger.lines.some((line) => line.includes('activity-taken-over'))).toBe(true);
      clearTimeout(silence);
    });

    it('judges owners by their heartbeats, never by a host name and pid they share with this process', async () => {
      // Containers of one image: the same host name and pid 1 here, as this process's own.
      const sameHostAndPid = (nonce: string): string => `${os.hostname()}:${process.pid}:${nonce}`;
      const dead = await lastBeat(sameHostAndPid('dead'), liveness.silentMs);
      await claimAs('teams-cut-4', dead, asked);
      const afterDead = await bot.say('how do I get Taunton access at 2am?', new Date(asked.getTime() + 1_000), { id: 'teams-cut-4' });
      expect(afterDead.replies.length).toBeGreaterThan(0);

      const alive = await lastBeat(sameHostAndPid('alive'), 0);
      await claimAs('teams-cut-5', alive, asked);
      const whileAlive = await bot.say('how do I get Taunton access at 2am?', new Date(asked.getTime() + 1_000), { id: 'teams-cut-5' });
      expect(whileAlive.replies).toHaveLength(0);
      expect(await store.activityFor(key('teams-cut-5'))).toMatchObject({ state: 'claimed', owner: alive });
    });

    it('records a confirmation and marks its activity done in one unit, so a re-delivery after the record starts nothing twice', async () => {
      const before = bot.sentActivities.length;
      await bot.say(`find images for ${nhs}`, asked);
      await bot.application.idle();
      const retrieve = actionsOf(cardsOf(bot.sentActivities.slice(before))[0]).find((a) => a.title === 'Retrieve selected')!;
      const confirmCard = cardsOf((await bot.press({ ...(retrieve.data as object), 'pick-0': 'true' }, asked)).replies)[0];
      const confirm = actionsOf(confirmCard).find((a) => a.title === 'Confirm retrieval')!;
      // What the claim says the moment the confirmation is recorded, before the turn answers.
      const inner = store.recordConfirmation.bind(store);
      const seenAfterRecord: Array<string | undefined> = [];
      store.recordConfirmation = async (confirmation) => {
        const results = await inner(confirmation);
        seenAfterRecord.push((await store.activityFor(key('teams-confirm-unit')))?.state);
        return results;
      };
      const first = await bot.send({ id: 'teams-confirm-unit', value: confirm.data, replyToId: 'card-9' }, asked);
      await bot.application.idle();
      expect(first.replies.map((r) => r.text)).toEqual(['Starting the retrieval of 1 study...']);
      expect(seenAfterRecord).toEqual(['done']);
      const again = await bot.send({ id: 'teams-confirm-unit', value: confirm.data, replyToId: 'card-9' }, asked);
      expect(again.replies).toHaveLength(0);
      expect(pacs.requests.startRetrieval).toBe(1);
    });
  });
});
