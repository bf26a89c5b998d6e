/**
 * The conversation reference kept for proactive messages: saved on the first message of a chat,
 * written again only when it changes (or an hour later), and never with the triggering message's id.
 */
import { createMemoryStore } from '../support/fakes/memory-store';
import type { StorePort, StoredReference } from '../../src/ports/store-port';
import { BotHarness } from '../support/bot-harness';
import { london } from '../support/instants';

describe('the saved conversation reference', () => {
  let bot: BotHarness;
  let writes: StoredReference[];
  let store: StorePort;

  beforeEach(async () => {
    const inner = createMemoryStore();
    writes = [];
    store = {
      ...inner,
      saveReference: (reference) => {
        writes.push(reference);
        return inner.saveReference(reference);
      },
    };
    bot = await new BotHarness().start({}, () => london('2026-12-02T02:00'), { store });
  });
  afterEach(() => bot.stop());

  it('is written once for a run of messages, and again when it changes or an hour has passed', async () => {
    await bot.say('hello', london('2026-12-02T02:00'));
    await bot.say('how do I get Taunton access at 2am?', london('2026-12-02T02:01'));
    await bot.say('thanks', london('2026-12-02T02:30'));
    expect(writes).toHaveLength(1);
    const saved = await store.referenceFor('29:user-1', 'a:personal-chat');
    expect(saved?.updatedAt).toBe(london('2026-12-02T02:00').toISOString());
    expect(JSON.parse(saved!.reference)).not.toHaveProperty('activityId');
    expect(JSON.parse(saved!.reference)).toMatchObject({ conversation: { id: 'a:personal-chat' }, serviceUrl: 'http://127.0.0.1:1/' });

    // The user's display name changed: the reference differs, so it is written at once.
    await bot.say('hello again', london('2026-12-02T02:31'), {
      from: { id: '29:user-1', name: 'Dr Renamed', aadObjectId: '00000000-0000-0000-0000-000000000001' },
    });
    expect(writes).toHaveLength(2);
    expect(JSON.parse((await store.referenceFor('29:user-1', 'a:personal-chat'))!.reference).user.name).toBe('Dr Renamed');

    await bot.say('hello again', london('2026-12-02T03:32'), {
      from: { id: '29:user-1', name: 'Dr Renamed', aadObjectId: '00000000-0000-0000-0000-000000000001' },
    });
    expect(writes).toHaveLength(3);
    expect((await store.referenceFor('29:user-1', 'a:personal-chat'))!.updatedAt).toBe(london('2026-12-02T03:32').toISOString());
  });

  it('is kept per chat: the same user in a new chat gets a reference of its own', async () => {
    await bot.say('hello', london('2026-12-02T02:00'));
    await bot.say('hello', london('2026-12-02T02:01'), {
      conversation: { id: 'a:other-chat', conversationType: 'personal', tenantId: 'tenant-1' },
    });
    expect(writes.map((w) => w.conversationId)).toEqual(['a:personal-chat', 'a:other-chat']);
  });
});
