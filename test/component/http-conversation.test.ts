/**
 * Real HTTP through restify and botbuilder's CloudAdapter; the Bot Connector service's reply
 * endpoint is caught with nock. Each test reads like a Teams transcript.
 */
import { actionsOf, BotHarness, cardsOf, textOf, type TurnResult } from '../support/bot-harness';
import { realGuide } from '../support/fixtures';
import { london } from '../support/instants';
import { allContacts } from '../../src/domain/guide/guide';

const guide = realGuide();
let bot: BotHarness;

beforeAll(async () => {
  // The crawl below presses ~150 buttons in one chat at machine speed; Teams' pace (7 messages a second
  // per chat, which the notifier keeps and its own tests check) would make that a 20-second wait.
  bot = await new BotHarness().start({}, undefined, { perConversationPerSecond: 1000 });
});
afterAll(async () => {
  await bot.stop();
});

function button(result: TurnResult, title: string): unknown {
  const action = cardsOf(result.replies)
    .flatMap(actionsOf)
    .find((a) => a.title.startsWith(title));
  if (!action) throw new Error(`no button "${title}" in: ${cardsOf(result.replies).map(textOf).join('\n---\n')}`);
  return action.data;
}

const night = london('2026-12-03T02:00'); // Thursday 2am
const morning = london('2026-07-15T08:30'); // Wednesday 08:30 BST

describe('a clinician in a Teams chat', () => {
  it('gets the menu for "help", and walks to Taunton access at 2am', async () => {
    const help = await bot.say('help', night);
    expect(help.status).toBe(200);
    expect(cardsOf(help.replies)).toHaveLength(1);
    expect(textOf(cardsOf(help.replies)[0])).toContain('Image Sharing Assistant');

    const where = await bot.press(button(help, 'Find the right way'), night);
    expect(textOf(cardsOf(where.replies)[0])).toContain('Which Trust holds the images?');

    const taunton = await bot.press(button(where, 'Taunton & Yeovil'), night);
    const text = textOf(cardsOf(taunton.replies)[0]);
    expect(text).toContain('At 02:00 on Thu 3 Dec (GMT): emergency access applies');
    expect(text).toContain('01823 343317');
    expect(text).toContain('Bleep 2310');
    expect(text).toContain("Source: Clinician's Guide to Image Sharing v1.0");

    const back = await bot.press(button(taunton, 'Back'), night);
    expect(textOf(cardsOf(back.replies)[0])).toContain('Which Trust holds the images?');
    const again = await bot.press(button(taunton, 'Start again'), night);
    expect(textOf(cardsOf(again.replies)[0])).toContain('Image Sharing Assistant');
  });

  it('is told about a permanent account at 08:30 BST, with emergency accounts from 17:00', async () => {
    const where = await bot.press({ isa: 'nav', step: 'where', trail: ['menu'] }, morning);
    const taunton = await bot.press(button(where, 'Taunton & Yeovil'), morning);
    const text = textOf(cardsOf(taunton.replies)[0]);
    expect(text).toContain('At 08:30 on Wed 15 Jul (BST): use a permanent account');
    expect(text).toContain('available from 17:00 today');
    expect(text).toContain('01823 287728');
  });

  it('gets the welcome card when the app is installed', async () => {
    const result = await bot.send({ type: 'installationUpdate', action: 'add' }, night);
    expect(result.status).toBe(200);
    expect(textOf(cardsOf(result.replies)[0])).toContain('Image Sharing Assistant');
  });

  it.each(['menu', 'start', 'Hi', 'hello!', 'START AGAIN'])('"%s" brings up the menu', async (text) => {
    const result = await bot.say(text, night);
    expect(result.replies).toHaveLength(1);
    expect(textOf(cardsOf(result.replies)[0])).toContain('Image Sharing Assistant');
  });

  it('in a channel, reads the text after the @mention', async () => {
    const result = await bot.say('<at>Image Sharing</at> help', night, {
      conversation: { id: '19:channel@thread.tacv2', conversationType: 'channel', tenantId: 'tenant-1' },
      entities: [{ type: 'mention', text: '<at>Image Sharing</at>', mentioned: { id: '28:bot', name: 'Image Sharing' } }],
    });
    expect(result.replies).toHaveLength(1);
    expect(textOf(cardsOf(result.replies)[0])).toContain('Image Sharing Assistant');
    // The reply goes back to the same channel conversation.
    expect(result.replies[0]!.conversation).toMatchObject({ id: '19:channel@thread.tacv2' });
  });

  it('in a group chat, works the same way', async () => {
    const result = await bot.say('<at>Image Sharing</at> menu', night, {
      conversation: { id: '19:group@thread.v2', conversationType: 'groupChat', isGroup: true, tenantId: 'tenant-1' },
      entities: [{ type: 'mention', text: '<at>Image Sharing</at>', mentioned: { id: '28:bot', name: 'Image Sharing' } }],
    });
    expect(textOf(cardsOf(result.replies)[0])).toContain('Image Sharing Assistant');
  });
});

describe('bad input gets a clear answer and no crash', () => {
  it('text that matches nothing in the guide: says so, and the menu', async () => {
    const result = await bot.say('purple monkey dishwasher', night);
    expect(result.status).toBe(200);
    expect(result.replies[0]!.text).toMatch(/could not match that to the guide.*menu/);
    expect(cardsOf(result.replies)).toHaveLength(1);
  });

  it('an empty message', async () => {
    const result = await bot.send({ text: '' }, night);
    expect(result.status).toBe(200);
    expect(result.replies[0]!.text).toContain('did not get any text');
  });

  it('a message with no text at all', async () => {
    const result = await bot.send({}, night);
    expect(result.status).toBe(200);
    expect(result.replies[0]!.text).toContain('did not get any text');
  });

  it('a 10,000-character message', async () => {
    const result = await bot.say('x'.repeat(10_000), night);
    expect(result.status).toBe(200);
    expect(result.replies.length).toBeGreaterThan(0);
    expect(cardsOf(result.replies)).toHaveLength(1);
  });

  it.each([
    ['unknown button data', { isa: 'nav', step: 'route-z' }],
    ['a button from another app', { action: 'approve', id: 7 }],
    ['a tampered trail', { isa: 'nav', step: 'route-a', trail: [1, 2, 3] }],
    ['a string value', 'route-a'],
  ])('%s', async (_name, value) => {
    const result = await bot.press(value, night);
    expect(result.status).toBe(200);
    expect(result.replies).toHaveLength(1);
    expect(textOf(cardsOf(result.replies)[0])).toContain('I cannot use that button');
  });

  it('a button from an old card still works (navigation is in the button)', async () => {
    const result = await bot.press({ isa: 'nav', step: 'route-b-bath', trail: ['menu', 'where'] }, night);
    expect(textOf(cardsOf(result.replies)[0])).toContain('01225 825444');
  });

  it('a double press gives the same card twice and nothing else', async () => {
    const data = { isa: 'nav', step: 'route-a', trail: ['menu', 'where', 'p2p-registered'] };
    const first = await bot.press(data, night);
    const second = await bot.press(data, night);
    expect(cardsOf(second.replies)).toEqual(cardsOf(first.replies));
  });

  it.each(['typing', 'messageReaction', 'event', 'conversationUpdate', 'endOfConversation'])(
    'a %s activity is accepted and ignored',
    async (type) => {
      const result = await bot.send({ type }, night);
      expect(result.status).toBeLessThan(300);
      expect(result.replies).toHaveLength(0);
    },
  );

  it('malformed JSON gets 400', async () => {
    const result = await bot.post('{"type": "message", ');
    expect(result.status).toBe(400);
    expect(result.replies).toHaveLength(0);
  });

  it('a body that is not an activity gets 400', async () => {
    for (const body of ['[]', '"hello"', '{"text":"no type"}']) expect((await bot.post(body)).status).toBe(400);
  });

  it('an oversized body gets 413', async () => {
    const result = await bot.post(JSON.stringify({ type: 'message', text: 'x'.repeat(300 * 1024) }));
    expect(result.status).toBe(413);
  });

  it('logs no message text', async () => {
    await bot.say('patient Jane Example 943 476 5919 needs images', night);
    expect(bot.logger.lines.join('\n')).not.toMatch(/Jane|943 476 5919/);
  });
});

describe('GET /healthz', () => {
  it('answers 200 with the app and guide versions', async () => {
    const res = await fetch(`${bot.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', version: '0.1.0', guide: { version: 'v1.0', reviewOverdue: false } });
  });
});

describe('pressing every button of every card', () => {
  it.each([
    ['a weekday afternoon', london('2026-12-02T14:00')],
    ['2am', night],
    ['a bank holiday (BST)', london('2026-08-31T10:00')],
  ])('reaches every contact in the guide at %s', async (_name, instant) => {
    const seen = new Set<string>();
    const texts: string[] = [];
    let presses = 0;
    const queue: unknown[] = [];
    const visit = (result: TurnResult): void => {
      expect(result.status).toBe(200);
      expect(result.replies.length).toBeGreaterThan(0);
      for (const card of cardsOf(result.replies)) {
        const json = JSON.stringify(card);
        expect(Number(card.version)).toBeLessThanOrEqual(1.5);
        expect(Buffer.byteLength(json)).toBeLessThan(28 * 1024);
        texts.push(textOf(card));
        for (const action of actionsOf(card)) {
          if (action.type !== 'Action.Submit') continue;
          const key = JSON.stringify(action.data);
          if (!seen.has(key)) {
            seen.add(key);
            queue.push(action.data);
          }
        }
      }
    };
    visit(await bot.say('help', instant));
    while (queue.length) {
      presses += 1;
      expect(presses).toBeLessThan(2000);
      visit(await bot.press(queue.shift(), instant));
    }
    const all = texts.join('\n');
    for (const contact of allContacts(guide)) expect(all).toContain(contact.value);
    for (const expected of [
      '01823 343317',
      'Bleep 2310',
      '01823 287728',
      '0117 340 2020',
      '01225 825444',
      'Bleep 2726',
      'Extension 22724',
      'crishelp@uhbristol.nhs.uk',
      'https://rbapacs.tst.nhs.uk/Portal',
      'IEP Receipts (Temporary)',
      'Radiology favourites',
    ]) {
      expect(all).toContain(expected);
    }
    expect(presses).toBeGreaterThan(15);
  });
});
