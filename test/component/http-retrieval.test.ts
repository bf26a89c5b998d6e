/**
 * Finding a patient's images and retrieving them, through the real HTTP endpoint, against the fake
 * PACS (the real Orthanc flow is in test/integration). The bot answers at once and posts slow results
 * proactively; confirmation cards are updated in place.
 */
import { FakePacs } from '../../src/adapters/pacs/fake-pacs';
import { createMemoryStore } from '../support/fakes/memory-store';
import type { StorePort } from '../../src/ports/store-port';
import nock from 'nock';
import { actionsOf, BotHarness, cardsOf, serviceUrl, textOf, type TurnResult } from '../support/bot-harness';
import { london } from '../support/instants';
import { fakeAlice } from '../support/fixtures';

const nhs = '9434765919';
const asked = london('2026-12-02T02:00');

function studies() {
  return [
    { studyInstanceUid: '2.25.1', date: '2024-03-12', description: 'XR Chest', modalities: ['DX'], instanceCount: 2 },
    { studyInstanceUid: '2.25.2', date: '2023-11-05', description: 'CT Head', modalities: ['CT'], instanceCount: 5 },
  ];
}

function makePacs(): FakePacs {
  return new FakePacs({
    local: [
      {
        identity: fakeAlice,
        studies: [{ studyInstanceUid: '2.25.9', date: '2026-10-01', description: 'US Abdomen', modalities: ['US'], instanceCount: 3 }],
      },
    ],
    sites: {
      exeter: { studies: { [nhs]: studies() } },
      plymouth: { studies: {} },
      cornwall: { behaviour: 'unreachable', studies: {} },
      'south-devon': { behaviour: 'hung', studies: {} },
    },
  });
}

async function flow(
  bot: BotHarness,
  text: string,
  extra: Record<string, unknown> = {},
): Promise<{ now: TurnResult; later: ReturnType<typeof cardsOf>; laterText: string }> {
  const before = bot.sentActivities.length;
  const now = await bot.say(text, asked, extra);
  await bot.application.idle();
  const laterActivities = bot.sentActivities.slice(before + now.replies.length);
  return {
    now,
    later: cardsOf(laterActivities),
    laterText: laterActivities.map((a) => `${a.text ?? ''}\n${cardsOf([a]).map(textOf).join('\n')}`).join('\n'),
  };
}

describe("find and retrieve a patient's images (fake PACS)", () => {
  let bot: BotHarness;
  let pacs: FakePacs;
  let store: StorePort;

  beforeEach(async () => {
    pacs = makePacs();
    store = createMemoryStore();
    bot = await new BotHarness().start({ PACS_QUERY_TIMEOUT_S: '1' }, () => asked, { pacs, store });
  });
  afterEach(async () => {
    await bot.stop();
  });

  it('searches, shows identity and studies, confirms, and starts the retrieval once', async () => {
    const { now, later, laterText } = await flow(bot, 'find images for 943 476 5919');
    expect(now.replies[0]!.text).toMatch(/^Searching UH Bristol PACS and 4 peer-to-peer sites/);
    expect(later).toHaveLength(1);
    expect(laterText).toContain('TESTPATIENT, Alice');
    expect(laterText).toContain('943 476 5919');
    expect(laterText).toContain('12 Mar 1970');
    expect(laterText).toContain('UHB123');
    expect(laterText).toMatch(/Exeter\s*\n?linked/);
    expect(laterText).toContain('unreachable'); // Cornwall
    expect(laterText).toContain('timed out'); // South Devon, hung: it did not hold back the others
    expect(laterText).toContain('5 Nov 2023 · CT Head · CT · 5 images · 🛰️ at Exeter');

    const retrieve = actionsOf(later[0]).find((a) => a.title === 'Retrieve selected')!;
    const confirmCard = cardsOf((await bot.press({ ...(retrieve.data as object), 'pick-1': 'true', 'pick-0': 'false' }, asked)).replies)[0];
    const confirmText = textOf(confirmCard);
    expect(confirmText).toContain('TESTPATIENT, Alice');
    expect(confirmText).toContain('CT Head');
    expect(confirmText).not.toContain('XR Chest');
    expect(confirmText).toContain('Kept locally for 30 days, until 1 Jan 2027');

    const confirm = actionsOf(confirmCard).find((a) => a.title === 'Confirm retrieval')!;
    const first = await bot.send({ value: confirm.data, replyToId: 'card-1' }, asked);
    expect(first.replies[0]!.text).toBe('Starting the retrieval of 1 study...');
    await bot.application.idle();
    expect(bot.sentActivities.at(-1)!.text).toContain(
      'Started: CT Head (5 Nov 2023) from Exeter. It will be kept on UH Bristol PACS until 1 Jan 2027.',
    );
    // Besides the "Searching..." message (reply-1, updated as the sites answered), only the confirmation card was replaced.
    const replaced = bot.updates.filter((u) => u.activityId !== 'reply-1');
    expect(replaced.map((u) => u.activityId)).toEqual(['card-1']);
    expect(textOf(cardsOf([replaced[0]!.activity])[0])).toContain('Retrieval confirmed');
    expect(actionsOf(cardsOf([replaced[0]!.activity])[0]).map((a) => a.title)).not.toContain('Confirm retrieval');

    // A second press of the same confirmation starts nothing.
    await bot.send({ value: confirm.data, replyToId: 'card-1' }, asked);
    await bot.application.idle();
    expect(bot.sentActivities.at(-1)!.text).toContain('Already downloading: CT Head');
    expect(pacs.requests.startRetrieval).toBe(1);
    expect(await store.activeRetrievals()).toHaveLength(1);

    // The job finishes: the next poll settles it as stored, and the audit has the whole story.
    pacs.completeJob(pacs.jobIds()[0]!);
    await bot.application.pollOnce();
    expect((await store.retrievalsFor('29:user-1', 5))[0]).toMatchObject({ state: 'stored', site: 'exeter' });
    const audit = await store.auditSince('2026-01-01T00:00:00Z');
    expect(audit.map((a) => `${a.action}:${a.outcome.split(':')[0]}`)).toEqual([
      'patient-search:found',
      'retrieval-confirmed:confirmed',
      'retrieval-confirmed:already-downloading',
      'retrieval-outcome:stored',
    ]);
    expect(audit[0]).toMatchObject({
      teamsUserId: '29:user-1',
      entraObjectId: '00000000-0000-0000-0000-000000000001',
      displayName: 'Test Clinician',
      nhsNumber: nhs,
    });

    // Nothing identifying the patient reached the logs.
    const logs = bot.logger.lines.join('\n');
    for (const secret of ['9434765919', '943 476 5919', 'TESTPATIENT', 'Alice', '1970-03-12', '19700312', '12 Mar 1970', 'UHB123'])
      expect(logs).not.toContain(secret);
  });

  it('shows it is working at once (typing), and updates its "Searching..." message in place as each site answers', async () => {
    const { now, later } = await flow(bot, 'find images for 943 476 5919');
    // The turn: "Searching..." then Teams' typing indicator, both before the turn ends.
    expect(now.replies.map((r) => r.type)).toEqual(['message', 'typing']);
    expect(now.replies[0]!.text).toBe('Searching UH Bristol PACS and 4 peer-to-peer sites...');
    // Then that one message (reply-1) replaced in place, never a new message per site.
    const progress = bot.updates.filter((u) => u.activityId === 'reply-1').map((u) => u.activity.text ?? '');
    expect(progress.length).toBeGreaterThanOrEqual(1);
    for (const version of progress.slice(0, -1))
      expect(version).toMatch(/^Searching UH Bristol PACS and 4 peer-to-peer sites\.\.\. \(\d of 4 answered\)/);
    const last = progress.at(-1)!;
    expect(last.split('\n\n')[0]).toBe('Searched UH Bristol PACS and 4 peer-to-peer sites:');
    expect(last.split('\n\n').slice(1).sort()).toEqual(
      ['Cornwall: unreachable', 'Exeter: linked', 'Plymouth: no match for this NHS number', 'South Devon: timed out'].sort(),
    );
    // No identifier in the text a phone shows.
    for (const version of progress) expect(version).not.toMatch(/943 ?476 ?5919|TESTPATIENT|Alice|UHB123/i);
    // The studies card came after the last update.
    expect(later).toHaveLength(1);
  });

  it('offers "Search <site> again" for each site that did not answer, and searches that site alone', async () => {
    const { later } = await flow(bot, 'find images for 943 476 5919');
    const again = actionsOf(later[0]).filter((a) => / again$/.test(a.title));
    expect(again.map((a) => a.title).sort()).toEqual(['Search Cornwall again', 'Search South Devon again']);

    pacs.setBehaviour('south-devon', 'linked');
    const before = bot.sentActivities.length;
    const pressed = await bot.press(again.find((a) => a.title === 'Search South Devon again')!.data, asked);
    expect(pressed.replies[0]!.text).toBe('Searching UH Bristol PACS and 1 peer-to-peer site...');
    await bot.application.idle();
    const card = cardsOf(bot.sentActivities.slice(before)).find((c) => textOf(c).includes('Image sharing status'))!;
    expect(textOf(card)).toMatch(/South Devon\s*\n?no match for this NHS number/);
    expect(textOf(card)).not.toContain('Exeter');
    expect(actionsOf(card).filter((a) => / again$/.test(a.title))).toEqual([]);
    // The button is bound to this clinician and chat, like every signed card.
    const elsewhere = await bot.send(
      { value: again[0]!.data, conversation: { id: 'a:other-chat', conversationType: 'personal', tenantId: 'tenant-1' } },
      asked,
    );
    expect(elsewhere.replies[0]!.text).toMatch(/not made for you in this chat/);
  });

  it('Cancel replaces the confirmation card, audits it, and the card can no longer be confirmed', async () => {
    const { later } = await flow(bot, 'find images for 943 476 5919');
    const retrieve = actionsOf(later[0]).find((a) => a.title === 'Retrieve selected')!;
    const confirmCard = cardsOf((await bot.press({ ...(retrieve.data as object), 'pick-1': 'true' }, asked)).replies)[0];
    const [confirm, cancel] = ['Confirm retrieval', 'Cancel'].map((title) => actionsOf(confirmCard).find((a) => a.title === title)!);

    const cancelled = await bot.send({ value: cancel!.data, replyToId: 'confirm-card' }, asked);
    expect(cancelled.replies.map((r) => r.text)).toEqual(['Cancelled: the study was not retrieved. Type "help" for the menu.']);
    // The card is replaced in place: no Confirm button left on it.
    const replaced = bot.updates.find((u) => u.activityId === 'confirm-card')!;
    expect(textOf(cardsOf([replaced.activity])[0])).toContain('Retrieval cancelled');
    expect(actionsOf(cardsOf([replaced.activity])[0]).map((a) => a.title)).not.toContain('Confirm retrieval');

    // A stale copy of the card (another device, a replayed press) cannot start it.
    const late = await bot.send({ value: confirm!.data, replyToId: 'confirm-card' }, asked);
    await bot.application.idle();
    expect(late.replies.map((r) => r.text)).toEqual([
      'That retrieval was cancelled, so nothing was retrieved. Search again to start a new one.',
    ]);
    expect(pacs.requests.startRetrieval).toBe(0);
    expect(await store.activeRetrievals()).toHaveLength(0);
    const audit = await store.auditSince('2026-01-01T00:00:00Z');
    expect(audit.filter((a) => a.action === 'retrieval-cancelled').map((a) => [a.site, a.studies, a.outcome])).toEqual([
      ['exeter', ['2.25.2'], 'cancelled before confirming'],
    ]);
    expect(audit.filter((a) => a.action === 'retrieval-confirmed')).toHaveLength(0);
  });

  /** A retrieval recorded and settled as stored by `displayName` at `createdAt` (kept 30 days from then). */
  async function pastRetrieval(id: string, study: ReturnType<typeof studies>[number], displayName: string, createdAt: Date): Promise<void> {
    const requester = {
      teamsUserId: displayName === 'Test Clinician' ? '29:user-1' : `29:${id}`,
      entraObjectId: null,
      displayName,
      tenantId: 'tenant-1',
      conversationId: `a:${id}`,
    };
    const keptUntil = new Date(createdAt.getTime() + 30 * 86_400_000).toISOString();
    await store.createRetrieval({
      id,
      requester,
      site: 'exeter',
      nhsNumber: nhs,
      study,
      createdAt: createdAt.toISOString(),
      keptUntil,
      cardActivityId: null,
    });
    await store.transition(id, ['requested'], 'retrieving', createdAt.toISOString(), { pacsJobId: `job-${id}` });
    await store.transition(id, ['retrieving'], 'stored', createdAt.toISOString());
  }

  it('shows on the studies card when each study was last retrieved, by whom, and whether that copy has expired', async () => {
    const [xr, ct] = studies();
    // A colleague pulled the CT an hour ago; the X-ray was pulled 40 days ago and its local copy has gone.
    await pastRetrieval('colleague-ct', ct!, 'Dr Bob Example', new Date(asked.getTime() - 3_600_000));
    await pastRetrieval('old-xr', xr!, 'Dr Carol Example', new Date(asked.getTime() - 40 * 86_400_000));
    const { laterText } = await flow(bot, 'find images for 943 476 5919');
    expect(laterText).toContain(
      'CT Head · CT · 5 images · 🛰️ at Exeter · retrieved 2 Dec 2026 01:00 by Dr Bob Example, kept until 1 Jan 2027',
    );
    expect(laterText).toContain(
      // 40 days before 02:00 GMT is 03:00 BST (the clocks went back on 25 Oct).
      'XR Chest · DX · 2 images · 🛰️ at Exeter · retrieved 23 Oct 2026 03:00 by Dr Carol Example, local copy expired 22 Nov 2026',
    );
  });

  it('"my retrievals" pages past the first 10, newest first', async () => {
    const [, ct] = studies();
    for (let i = 1; i <= 12; i += 1) {
      const study = { ...ct!, studyInstanceUid: `2.25.100${i}`, description: `Study ${i}` };
      await pastRetrieval(`mine-${i}`, study, 'Test Clinician', new Date(asked.getTime() - (13 - i) * 3_600_000));
    }
    const first = cardsOf((await bot.say('my retrievals', asked)).replies)[0];
    expect(textOf(first)).toContain('Your recent retrievals');
    expect(textOf(first).match(/Study \d+/g)).toEqual([
      'Study 12',
      'Study 11',
      'Study 10',
      'Study 9',
      'Study 8',
      'Study 7',
      'Study 6',
      'Study 5',
      'Study 4',
      'Study 3',
    ]);
    const older = actionsOf(first).find((a) => a.title === 'Show older')!;
    const second = cardsOf((await bot.press(older.data, asked)).replies)[0];
    expect(textOf(second)).toContain('Your retrievals 11 to 12');
    expect(textOf(second).match(/Study \d+/g)).toEqual(['Study 2', 'Study 1']);
    expect(actionsOf(second).map((a) => a.title)).not.toContain('Show older');
    // A made-up page is refused in words, not an error.
    const bad = await bot.press({ isa: 'my-retrievals', page: -1 }, asked);
    expect(bad.replies.map((r) => r.text)).toEqual(['I cannot use that button. Type "my retrievals" to see your retrievals.']);
  });

  it('asking for a study that is already local starts nothing and says so', async () => {
    const { later } = await flow(bot, 'find images for 9434765919');
    const retrieve = actionsOf(later[0]).find((a) => a.title === 'Retrieve selected')!;
    const confirmCard = cardsOf((await bot.press({ ...(retrieve.data as object), 'pick-0': 'true' }, asked)).replies)[0];
    const confirm = actionsOf(confirmCard).find((a) => a.title === 'Confirm retrieval')!;
    await bot.press(confirm.data, asked);
    await bot.application.idle();
    pacs.completeJob(pacs.jobIds()[0]!);
    await bot.application.pollOnce();
    await bot.press(confirm.data, asked);
    await bot.application.idle();
    expect(bot.sentActivities.at(-1)!.text).toContain('Already on UH Bristol PACS: XR Chest');
    expect(pacs.requests.startRetrieval).toBe(1);
  });

  it('refuses an invalid NHS number, saying why, and audits it', async () => {
    const result = await bot.say('find images for 943 476 5918', asked);
    expect(result.replies[0]!.text).toContain('check digit does not match');
    expect(pacs.requests.findLocalPatients).toBe(0);
    expect((await store.auditSince('2026-01-01T00:00:00Z')).map((a) => a.outcome)).toEqual(['invalid NHS number: bad-check-digit']);
  });

  it('says P2P needs the patient registered at UH Bristol, and points to IEP', async () => {
    const { laterText } = await flow(bot, 'find images for 401 023 2137');
    expect(laterText).toContain('No record of this patient on UH Bristol PACS');
    expect(laterText).toContain('IEP');
  });

  it('shows no patient data in a group chat', async () => {
    const { now, laterText } = await flow(bot, '<at>Image Sharing</at> find images for 943 476 5919', {
      conversation: { id: '19:group@thread.v2', conversationType: 'groupChat', isGroup: true, tenantId: 'tenant-1' },
      entities: [{ type: 'mention', text: '<at>Image Sharing</at>', mentioned: { id: '28:bot', name: 'Image Sharing' } }],
    });
    expect(now.replies[0]!.text).toContain('message me privately');
    expect(laterText).toBe('');
    expect(pacs.requests.findLocalPatients).toBe(0);
    expect((await store.auditSince('2026-01-01T00:00:00Z')).map((a) => a.outcome)).toEqual(['refused: shared chat']);
  });

  it('refuses a forged or altered confirmation', async () => {
    const result = await bot.press({ isa: 'confirm', offer: 'eyJ2IjoxfQ.forged' }, asked);
    expect(result.replies[0]!.text).toContain('I cannot use that card');
    expect(pacs.requests.startRetrieval).toBe(0);
  });

  it('asks for all three of surname, forename and date of birth on the form', async () => {
    const result = await bot.press({ isa: 'patient-search', familyName: 'TESTPATIENT', givenName: '', birthDate: '' }, asked);
    expect(result.replies[0]!.text).toContain('surname, forename and date of birth');
  });

  it('finds the patient by surname, forename and date of birth', async () => {
    await bot.press({ isa: 'patient-search', familyName: 'testpatient', givenName: 'alice', birthDate: '1970-03-12' }, asked);
    await bot.application.idle();
    expect(textOf(cardsOf(bot.sentActivities.slice(-1) as never)[0])).toContain('943 476 5919');
  });
});

describe('who may search', () => {
  it('refuses users not on RETRIEVAL_ALLOWED_USERS, and audits the refusal', async () => {
    const store = createMemoryStore();
    const bot = await new BotHarness().start({ RETRIEVAL_ALLOWED_USERS: 'someone-else' }, () => asked, { pacs: makePacs(), store });
    try {
      const result = await bot.say('find images for 943 476 5919', asked);
      expect(result.replies[0]!.text).toContain('not on the list of staff');
      expect((await store.auditSince('2026-01-01T00:00:00Z')).map((a) => `${a.action}:${a.outcome}`)).toEqual([
        'access-refused:refused: not allowed',
      ]);
    } finally {
      await bot.stop();
    }
  });

  it('refuses other tenants politely, whatever they ask', async () => {
    const store = createMemoryStore();
    const bot = await new BotHarness().start({ ALLOWED_TENANT_IDS: 'uhb-tenant' }, () => asked, { pacs: makePacs(), store });
    try {
      const result = await bot.say('how do I get Taunton access at 2am?', asked);
      expect(result.replies).toHaveLength(1);
      expect(result.replies[0]!.text).toContain('only for UH Bristol staff');
      expect((await store.auditSince('2026-01-01T00:00:00Z')).map((a) => a.outcome)).toEqual(['refused: tenant']);
    } finally {
      await bot.stop();
    }
  });
});

describe('the demo backend (npm start with no PACS configured)', () => {
  it('walks a synthetic patient, clearly labelled, with a slow and an unreachable site', async () => {
    const bot = await new BotHarness().start({ PACS_BACKEND: 'demo' }, () => asked);
    try {
      const now = await bot.say('find images for 999 000 0018', asked);
      expect(now.replies[0]!.text).toContain('Searching UH Bristol PACS and 7 peer-to-peer sites');
      await bot.application.idle();
      const text = textOf(cardsOf(bot.sentActivities.slice(-1))[0]);
      expect(text).toContain('DEMO DATA: synthetic patients and sites');
      expect(text).toContain('DEMO-PATIENT, Alice');
      expect(text).toContain('CT Head (DEMO)');
      expect(text).toMatch(/Cornwall\s*\n?unreachable/);
      expect(text).toMatch(/Plymouth\s*\n?linked/);
    } finally {
      await bot.stop();
    }
  });
});

describe('a patient with many studies elsewhere', () => {
  it('offers the 20 most recent on a card Teams accepts, and says how many there are', async () => {
    const many = Array.from({ length: 45 }, (_, i) => ({
      studyInstanceUid: `2.25.5${String(i).padStart(3, '0')}`,
      date: `20${String(10 + (i % 14)).padStart(2, '0')}-0${1 + (i % 9)}-1${i % 10}`,
      description: `CT Study with a fairly long description number ${i}`,
      modalities: ['CT', 'SR'],
      instanceCount: 100 + i,
    }));
    const pacs = new FakePacs({
      local: [{ identity: fakeAlice, studies: [] }],
      sites: { exeter: { studies: { [nhs]: many } } },
    });
    const bot = await new BotHarness().start({}, () => asked, { pacs, store: createMemoryStore() });
    try {
      await bot.say('find images for 943 476 5919', asked);
      await bot.application.idle();
      const card = cardsOf(bot.sentActivities.slice(-1))[0];
      expect(Buffer.byteLength(JSON.stringify(card))).toBeLessThan(28 * 1024);
      expect(JSON.stringify(card).match(/"type":"Input.Toggle"/g)).toHaveLength(20);
      expect(textOf(card)).toContain('Showing the 20 most recent of 45 studies at other sites.');
    } finally {
      await bot.stop();
    }
  });
});

describe('allow-listing by UPN domain', () => {
  it("asks Teams for the user's UPN and lets in a listed domain, refusing another", async () => {
    const store = createMemoryStore();
    const bot = await new BotHarness().start({ RETRIEVAL_ALLOWED_USERS: '@uhbristol.nhs.uk', PACS_QUERY_TIMEOUT_S: '1' }, () => asked, {
      pacs: makePacs(),
      store,
    });
    try {
      const member = (upn: string) =>
        nock(serviceUrl.replace(/\/$/, ''))
          .get(/\/v3\/conversations\/.+\/members\/.+$/)
          .reply(200, { id: '29:user-1', name: 'Test Clinician', aadObjectId: 'oid', userPrincipalName: upn });
      const allowed = member('a.clinician@UHBristol.nhs.uk');
      const ok = await bot.say('find images for 943 476 5919', asked);
      expect(allowed.isDone()).toBe(true);
      expect(ok.replies[0]!.text).toContain('Searching');
      await bot.application.idle();

      const other = member('someone@elsewhere.nhs.uk');
      const refused = await bot.say('find images for 943 476 5919', asked);
      expect(other.isDone()).toBe(true);
      expect(refused.replies[0]!.text).toContain('not on the list of staff');
    } finally {
      await bot.stop();
    }
  });
});

describe('positive identification (fake PACS)', () => {
  let bot: BotHarness | undefined;
  afterEach(async () => {
    await bot?.stop();
    bot = undefined;
  });

  async function start(pacs: FakePacs): Promise<BotHarness> {
    bot = await new BotHarness().start({ PACS_QUERY_TIMEOUT_S: '1' }, () => asked, { pacs, store: createMemoryStore() });
    return bot;
  }

  it('refuses a record that also holds another valid NHS number, saying why, and searches no other site', async () => {
    const pacs = new FakePacs({
      local: [{ identity: fakeAlice, nhsNumberValues: ['UHB123', nhs, '4010232137'], studies: [] }],
      sites: { exeter: { studies: { [nhs]: studies() } } },
    });
    const { laterText } = await flow(await start(pacs), 'find images for 943 476 5919');
    expect(laterText).toContain('Cannot positively identify this patient on UH Bristol PACS');
    expect(laterText).not.toContain('CT Head');
    expect(pacs.requests.queryRemoteStudies).toBe(0);
  });

  it("says in a site's line how many of its answers carried no NHS number and were left out", async () => {
    const pacs = new FakePacs({
      local: [{ identity: fakeAlice, studies: [] }],
      sites: { exeter: { studies: { [nhs]: studies() }, withoutNhsNumber: 2 }, plymouth: { studies: {}, withoutNhsNumber: 1 } },
    });
    const { laterText } = await flow(await start(pacs), 'find images for 943 476 5919');
    expect(laterText).toContain('linked (2 answers without an NHS number left out)');
    expect(laterText).toContain('no match for this NHS number (1 answer without an NHS number left out)');
  });
});
