/**
 * Input the bot does not control, through the real HTTP endpoint: markdown, HTML and binding syntax
 * in PACS data are shown literally in cards and messages; very long or odd Unicode messages get an
 * ordinary answer; impossible dates and malformed NHS numbers on the search form are refused with
 * the reason, and nothing is searched.
 */
import { FakePacs } from '../../src/adapters/pacs/fake-pacs';
import { createMemoryStore } from '../support/fakes/memory-store';
import type { StorePort } from '../../src/ports/store-port';
import { actionsOf, BotHarness, cardsOf } from '../support/bot-harness';
import { london } from '../support/instants';
import { fakeAlice } from '../support/fixtures';

const nhs = '9434765919';
const asked = london('2026-12-02T02:00');
const hostile = '**URGENT** [click here](https://evil.example) <img src=x onerror=alert(1)> ${$root.secret}';

describe('hostile and odd input', () => {
  let bot: BotHarness;
  let pacs: FakePacs;
  let store: StorePort;

  beforeEach(async () => {
    pacs = new FakePacs({
      local: [
        {
          identity: {
            nhsNumber: nhs,
            localId: 'UHB<b>1</b>',
            familyName: 'TEST_PATIENT*',
            givenName: '[Alice](https://evil.example)',
            birthDate: '1970-03-12',
            sex: 'F',
          },
          studies: [],
        },
      ],
      sites: {
        exeter: {
          studies: {
            [nhs]: [{ studyInstanceUid: '2.25.2', date: '2023-11-05', description: hostile, modalities: ['CT'], instanceCount: 5 }],
          },
        },
      },
    });
    store = createMemoryStore();
    bot = await new BotHarness().start({}, () => asked, { pacs, store });
  });
  afterEach(() => bot.stop());

  it('shows markdown, HTML and binding syntax from the PACS literally, in cards and in the notification', async () => {
    const before = bot.sentActivities.length;
    await bot.say(`find images for ${nhs}`, asked);
    await bot.application.idle();
    const studies = cardsOf(bot.sentActivities.slice(before))[0];
    const shown = JSON.stringify(studies);
    expect(shown).toContain('\\\\*\\\\*URGENT\\\\*\\\\*');
    expect(shown).toContain('\\\\[click here\\\\](https://evil.example)');
    expect(shown).toContain('\\\\<img src=x onerror=alert(1)\\\\>');
    expect(shown).not.toContain('${');
    expect(shown).not.toMatch(/[^\\]\[Alice\]/);
    expect(shown).toContain('TEST\\\\_PATIENT\\\\*');

    const retrieve = actionsOf(studies).find((a) => a.title === 'Retrieve selected')!;
    const confirmCard = cardsOf((await bot.press({ ...(retrieve.data as object), 'pick-0': 'true' }, asked)).replies)[0];
    expect(JSON.stringify(confirmCard)).not.toContain('${');
    await bot.press(actionsOf(confirmCard).find((a) => a.title === 'Confirm retrieval')!.data, asked);
    await bot.application.idle();
    pacs.completeJob(pacs.jobIds()[0]!);
    await bot.application.pollOnce();
    const done = bot.sentActivities.find((a) => (a.text ?? '').includes('is now on UH Bristol PACS'))!;
    expect(done.text).toContain('\\*\\*URGENT\\*\\* \\[click here\\](https://evil.example)');
  });

  it('answers a message too long to read by saying so, with the menu', async () => {
    const turn = await bot.say(`find images for ${nhs} ${'please '.repeat(20_000)}`, asked);
    expect(turn.replies[0]!.text).toContain('That message is too long for me (over 2000 characters)');
    expect(cardsOf(turn.replies)).toHaveLength(1);
    await bot.application.idle();
    expect(pacs.requests.findLocalPatients).toBe(0);
  });

  it.each([
    ['a message just under the limit', `how do I get Taunton access ${'please '.repeat(270)}`],
    ['right-to-left overrides and zero-width joiners', '\u202ehow do I get\u200d Taunton\u2066 access at 2am?\u2069'],
    ['emoji and combining marks', '🩻🩻 how do I get Tau\u0301nton access? 👩🏽‍⚕️'],
    ['a lone surrogate and controls', 'taunton\ud800 access\u0000\u0007'],
    ['only whitespace', ' \n\t '],
    ['markdown and HTML', '<script>alert(1)</script> **taunton** [x](http://y)'],
  ])('answers %s with an ordinary reply', async (_name, text) => {
    const turn = await bot.say(text, asked);
    expect(turn.status).toBe(200);
    expect(turn.replies.length).toBeGreaterThan(0);
    expect(JSON.stringify(turn.replies)).not.toContain('Sorry, something went wrong');
  });

  it.each([
    [{ familyName: 'TESTPATIENT', givenName: 'Alice', birthDate: '1970-02-30' }, 'The date of birth is not a valid date.'],
    [{ familyName: 'TESTPATIENT', givenName: 'Alice', birthDate: '12/03/1970' }, 'The date of birth is not a valid date.'],
    [{ familyName: 'X'.repeat(65), givenName: 'Alice', birthDate: '1970-03-12' }, 'The names are too long.'],
    [{ nhsNumber: '943 476 5918' }, 'check digit'],
    [{ nhsNumber: '12345' }, '10 digits'],
    [{ nhsNumber: { $gt: '' } }, 'Enter the NHS number, or all three'],
  ])('refuses the search form %j, saying why', async (fields, why) => {
    const turn = await bot.press({ isa: 'patient-search', ...fields }, asked);
    await bot.application.idle();
    expect(turn.replies.map((r) => r.text).join(' ')).toContain(why);
    expect(pacs.requests.findLocalPatients).toBe(0);
  });
});

describe('a patient with very many studies (found by the property tests)', () => {
  it('still gets a studies card within the size limit, newest first, saying how many are not shown', async () => {
    const study = (i: number, description: string) => ({
      studyInstanceUid: `2.25.${1000 + i}`,
      date: `20${String(10 + (i % 15)).padStart(2, '0')}-0${1 + (i % 9)}-1${i % 9}`,
      description: `${description} ${i} ${'x'.repeat(50)}`,
      modalities: ['CT'],
      instanceCount: 100,
    });
    const pacs = new FakePacs({
      local: [{ identity: fakeAlice, studies: Array.from({ length: 280 }, (_, i) => study(i, 'CT Head local')) }],
      sites: { exeter: { studies: { [nhs]: Array.from({ length: 25 }, (_, i) => study(500 + i, 'MR remote')) } } },
    });
    const bot = await new BotHarness().start({}, () => asked, { pacs, store: createMemoryStore() });
    try {
      const before = bot.sentActivities.length;
      await bot.say(`find images for ${nhs}`, asked);
      await bot.application.idle();
      const cards = cardsOf(bot.sentActivities.slice(before));
      expect(cards).toHaveLength(1);
      const shown = JSON.stringify(cards[0]);
      expect(Buffer.byteLength(shown)).toBeLessThan(28 * 1024);
      expect(shown).toContain('And 270 older studies on UH Bristol PACS, not shown.');
      expect(shown).toContain('Showing the 20 most recent of 25 studies at other sites.');
    } finally {
      await bot.stop();
    }
  });
});
