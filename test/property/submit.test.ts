/**
 * Property-based tests of the card submit handler (converse with a submit input: the patient
 * search form, pick, confirm and retry buttons and the decision tree's buttons), against the
 * in-memory store and a fake PACS holding the demo patients, with a real signer. For any button data
 * (random JSON, payloads shaped almost like real ones, real signed offers with their body or
 * signature tampered with, signed by another key, for another user or chat, of the wrong kind or expired,
 * oversized tokens) pressed at any instant from 1990 to 2100, they prove:
 * - nothing throws (the slow part posted later included), and every press gets a reply, with
 *   well-formed cards and no contact that is not in content/guide.json;
 * - a submit that is not a validly signed confirmation for the caller never starts a retrieval:
 *   the PACS is never asked to start one and the store holds none;
 * - outside a 1:1 chat (group chat, channel, unknown), whatever is pressed or typed, even a genuine
 *   confirmation: no reply carries the patients' names, NHS numbers, dates of birth, local ids or
 *   studies (in words or inside signed card data), the PACS is never asked about a patient and no
 *   retrieval starts;
 * - a caller the access rules refuse (tenant, allow list, production with no list) never reaches
 *   the PACS and sees no patient data, genuine confirmations included;
 * - whatever the PACS holds for a patient (hundreds of studies, 64-character DICOM fields), the
 *   search result and the confirmation are cards Teams accepts, and the genuine card is accepted.
 * An example checks that the detectors work: the search shows the patient in a 1:1 chat, and the
 * genuine confirmation, in time, does start the retrievals.
 */
import fc from 'fast-check';
import { FakePacs, type FakeSite } from '../../src/adapters/pacs/fake-pacs';
import { demoPatients } from '../../src/adapters/pacs/demo-pacs';
import { createMemoryStore } from '../support/fakes/memory-store';
import { converse, type ConversationDeps, type Incoming, type Turn } from '../../src/conversation/conversation';
import { type RetrievalConversationDeps, type TurnCaller } from '../../src/conversation/retrieval-context';
import { composeNotification } from '../../src/conversation/retrieval-notification';
import { createSearchLimiter } from '../../src/retrieval/gatekeeper';
import { createSigner } from '../../src/conversation/signed-data';
import { buildKnowledge } from '../../src/domain/questions/answer-question';
import type { AccessRules } from '../../src/retrieval/access';
import { checkDigit, formatNhsNumber } from '../../src/domain/patients/nhs-number';
import { insigniaSiteIds } from '../../src/domain/guide/guide';
import { navigationKind } from '../../src/domain/tree/navigation';
import type { LocalPatientRecord, StudySummary } from '../../src/ports/pacs-port';
import type { Notification, Retrieval, StorePort } from '../../src/ports/store-port';
import { realCards, realGuide } from '../support/fixtures';
import { london, zone } from '../support/instants';
import {
  actionsOf,
  allProblems,
  anyText,
  instantArb,
  nastyFragments,
  replyProblems,
  runs,
  stringsOf,
  submitValue,
  type AnyReply,
} from './property-support';

const guide = realGuide();
const cards = realCards();
const access = { mode: 'development' as const, allowedTenantIds: [], retrievalAllowedUsers: [] };
const conversationDeps: ConversationDeps = { access, guide, knowledge: buildKnowledge(guide, zone), cards, zone };
const secret = 'x'.repeat(32);
const signer = createSigner(secret);

const { alice, bob, carol } = demoPatients;
function study(uid: string, date: string, description: string, modality: string, instances: number): StudySummary {
  return {
    studyInstanceUid: `2.25.999${uid}`,
    date,
    description: `${description} (DEMO)`,
    modalities: [modality],
    instanceCount: instances,
  };
}
const aliceLocal = [study('1001', '2026-10-02', 'XR Chest', 'CR', 1)];
const aliceExeter = [
  study('2001', '2024-03-12', 'XR Chest', 'DX', 2),
  study('2002', '2023-11-05', 'CT Head', 'CT', 5),
  study('2003', '2022-06-18', 'MR Knee Left', 'MR', 3),
];
const alicePlymouth = [study('3001', '2025-01-20', 'US Abdomen', 'US', 4)];

/** The demo backend's patients and sites, answering at once (the demo's delays would only slow the runs). */
function demoLikePacs(): FakePacs {
  const identity = (p: typeof alice | typeof bob, localId: string) => ({
    nhsNumber: p.nhsNumber,
    localId,
    familyName: p.familyName,
    givenName: p.givenName,
    birthDate: p.birthDate,
    sex: null,
  });
  return new FakePacs({
    local: [
      { identity: identity(alice, 'DEMO0001'), studies: aliceLocal },
      { identity: identity(bob, 'DEMO0002'), studies: [] },
    ],
    sites: {
      exeter: { studies: { [alice.nhsNumber]: aliceExeter } },
      plymouth: { studies: { [alice.nhsNumber]: alicePlymouth } },
      cornwall: { behaviour: 'unreachable', studies: {} },
      weston: { behaviour: 'rejecting', studies: {} },
      'north-devon': { studies: {} },
      'south-devon': { studies: {} },
      'dorset-county': { studies: {} },
    },
  });
}

interface World {
  readonly pacs: FakePacs;
  readonly store: StorePort;
  readonly retrieval: RetrievalConversationDeps;
}
function world(rules: AccessRules = access): World {
  const pacs = demoLikePacs();
  const store = createMemoryStore();
  return {
    pacs,
    store,
    retrieval: {
      pacs,
      store,
      queryTimeoutMs: 1000,
      guide,
      cards,
      signer,
      access: rules,
      zone,
      demo: true,
      searches: createSearchLimiter(30),
      viewerUrlTemplate: null,
    },
  };
}

function caller(conversationType: string | null, teamsUserId = '29:user-1'): TurnCaller {
  return {
    tenantId: 'tenant-1',
    entraObjectId: '00000000-0000-0000-0000-000000000001',
    upn: 'a.clinician@uhbristol.nhs.uk',
    conversationType,
    pressedActivityId: 'card-1',
    requester: {
      teamsUserId,
      entraObjectId: '00000000-0000-0000-0000-000000000001',
      displayName: 'Test Clinician',
      tenantId: 'tenant-1',
      conversationId: `a:${conversationType ?? 'none'}`,
    },
  };
}
const personal = caller('personal');

/** Every reply of a turn: now, the card update, and what is posted later (which must not throw either). */
async function everyReply(turn: Turn): Promise<AnyReply[]> {
  const later = turn.followUp ? await turn.followUp : { replies: [], failure: null };
  // The slow work's failure is caught for the transport's log; it must not happen at all.
  expect(later.failure).toBeNull();
  return [...turn.replies, ...(turn.updatePressedCard ? [turn.updatePressedCard] : []), ...later.replies];
}

/** What nobody outside a 1:1 chat may see: the demo patients' identities and studies, in every form the bot writes them. */
const patientData: readonly string[] = [
  ...[alice, bob, carol].flatMap((p) => [
    p.nhsNumber,
    formatNhsNumber(p.nhsNumber),
    p.familyName,
    `${p.familyName}, ${p.givenName}`,
    p.birthDate,
  ]),
  '12 Mar 1970',
  '1 Jul 1985',
  '23 Nov 1990',
  'DEMO0001',
  'DEMO0002',
  ...[...aliceLocal, ...aliceExeter, ...alicePlymouth].flatMap((s) => [s.studyInstanceUid, s.description]),
];

/** The payloads of every signed token on a card (base64url body before the dot), decoded. */
function signedPayloads(value: unknown): string {
  return stringsOf(value)
    .split('\n')
    .filter((s) => /^[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}$/.test(s))
    .map((s) => Buffer.from(s.split('.')[0]!, 'base64url').toString('utf8'))
    .join('\n');
}

/** Patient data in the replies that the input did not itself contain (an empty list is right). */
function leaks(replies: readonly AnyReply[], typed: string): string[] {
  const shown = replies
    .map((r) => `${r.text ?? ''}\n${r.card ? stringsOf(r.card.content) : ''}\n${r.card ? signedPayloads(r.card.content) : ''}`)
    .join('\n');
  return patientData.filter((secretText) => shown.includes(secretText) && !typed.toLowerCase().includes(secretText.toLowerCase()));
}

// ---------------------------------------------------------------------------------------------
// Genuine signed card data, from the real flow in a 1:1 chat (harvested once).
// ---------------------------------------------------------------------------------------------

const issued = london('2026-12-02T02:00');
const offerLifetimeMs = 30 * 60_000;
interface Genuine {
  readonly pick: Record<string, unknown>;
  readonly confirm: Record<string, unknown>;
  readonly retry: Record<string, unknown>;
}
let genuine: Genuine;

function submitData(replies: readonly AnyReply[], isa: string): Record<string, unknown> {
  for (const reply of replies)
    for (const action of actionsOf(reply.card?.content))
      if ((action.data as { isa?: unknown } | undefined)?.isa === isa) return action.data as Record<string, unknown>;
  throw new Error(`no ${isa} button in ${JSON.stringify(replies)}`);
}

beforeAll(async () => {
  const { retrieval, store } = world();
  const found = await everyReply(
    await converse(
      { kind: 'submit', value: { isa: 'patient-search', nhsNumber: formatNhsNumber(alice.nhsNumber) } },
      personal,
      conversationDeps,
      retrieval,
      issued,
    ),
  );
  const pick = submitData(found, 'pick');
  const confirmCard = await everyReply(
    await converse(
      { kind: 'submit', value: { ...pick, 'pick-0': 'true', 'pick-1': 'true', 'pick-3': 'true' } },
      personal,
      conversationDeps,
      retrieval,
      issued,
    ),
  );
  const confirm = submitData(confirmCard, 'confirm');
  // The "Try again" button of a failure notice, as the outbox composes it for one of those retrievals.
  await everyReply(await converse({ kind: 'submit', value: confirm }, personal, conversationDeps, retrieval, issued));
  const started = (await store.retrievalsFor(personal.requester.teamsUserId, 1))[0]!;
  const failed: Retrieval = { ...started, state: 'failed', failureReason: 'unreachable' };
  const notification: Notification = {
    id: 'n-1',
    retrievalId: failed.id,
    kind: 'failed',
    state: 'pending',
    attempts: 0,
    nextAttemptAt: issued.toISOString(),
    leaseOwner: null,
    leaseUntil: null,
    lastError: null,
    createdAt: issued.toISOString(),
    sentAt: null,
  };
  const retry = submitData([(await composeNotification(retrieval)(failed, notification)).message], 'retry');
  genuine = { pick, confirm, retry };
});

// ---------------------------------------------------------------------------------------------
// Generators of submit values that are not a valid confirmation.
// ---------------------------------------------------------------------------------------------

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A valid NHS number (Modulus 11), of anyone. */
const nhsNumberArb = fc
  .array(fc.integer({ min: 0, max: 9 }), { minLength: 9, maxLength: 9 })
  .map((d) => d.join(''))
  .filter((nine) => checkDigit(nine) !== null)
  .map((nine) => `${nine}${checkDigit(nine)!}`);
const typedNhs = fc.oneof(
  fc.constantFrom(
    alice.nhsNumber,
    bob.nhsNumber,
    carol.nhsNumber,
    formatNhsNumber(alice.nhsNumber),
    '999-000-0018',
    ' 9990000018 ',
    '9990000019',
    '999 000 001',
    '943 476 5919',
  ),
  nhsNumberArb,
  fc.string({ maxLength: 20 }),
);

/** The patient search form, filled in every way. */
const searchForm = fc.record(
  {
    isa: fc.constant('patient-search'),
    nhsNumber: fc.oneof(typedNhs, fc.jsonValue({ maxDepth: 1 })),
    familyName: fc.oneof(
      fc.constantFrom(alice.familyName, 'demo-patient', 'DEMO-PATIENT ', ''),
      fc.string({ maxLength: 80 }),
      fc.constantFrom(...nastyFragments),
    ),
    givenName: fc.oneof(fc.constantFrom('Alice', 'alice', 'Bob', ''), fc.string({ maxLength: 80 })),
    birthDate: fc.oneof(
      fc.constantFrom(alice.birthDate, bob.birthDate, '1970-02-30', '1970-3-12', '12/03/1970', '', '0000-00-00', '+001970-03-12'),
      fc.string({ maxLength: 12 }),
      fc.jsonValue({ maxDepth: 1 }),
    ),
  },
  { requiredKeys: ['isa'] },
);

/** Ticked studies, as Input.Toggle sends them (and not as it does). */
const ticks = fc.dictionary(
  fc.constantFrom('pick-0', 'pick-1', 'pick-2', 'pick-3', 'pick-4', 'pick-19', 'pick-20', 'pick--1', 'pick-0.0'),
  fc.oneof(fc.constantFrom('true', 'false', 'TRUE', ''), fc.jsonValue({ maxDepth: 0 })),
);

type TokenKind = 'pick' | 'confirm' | 'retry';

/** A genuine token whose signed body was changed (its JSON re-encoded with a field altered), signature kept. */
function tamperBody(token: string, field: string, value: unknown): string {
  const [body, signature] = token.split('.') as [string, string];
  const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
  const changed = Buffer.from(JSON.stringify({ ...payload, [field]: value })).toString('base64url');
  return changed === body ? `${body}A.${signature}` : `${changed}.${signature}`;
}

/** A genuine token with one character of its signature changed (never the last, whose low bits the decoder ignores). */
function tamperSignature(token: string, position: number, replacement: number): string {
  const [body, signature] = token.split('.') as [string, string];
  const i = position % (signature.length - 1);
  const current = alphabet.indexOf(signature[i]!);
  const next = alphabet[(current + 1 + (replacement % (alphabet.length - 1))) % alphabet.length]!;
  return `${body}.${signature.slice(0, i)}${next}${signature.slice(i + 1)}`;
}

const otherSigner = createSigner('y'.repeat(32));

/**
 * A pick/confirm/retry press with card data that must not be acted on: tampered, forged, of the
 * wrong kind, for someone else, or expired (then pressed after it expired); with its instant.
 */
const badOfferPress: fc.Arbitrary<{ value: Record<string, unknown>; at: Date; who: TurnCaller }> = fc
  .record({
    isa: fc.constantFrom('pick', 'confirm', 'retry'),
    from: fc.constantFrom<TokenKind>('pick', 'confirm', 'retry'),
    how: fc.constantFrom('body', 'signature', 'other-key', 'other-user', 'other-chat', 'wrong-kind', 'expired', 'junk', 'mangled', 'huge'),
    field: fc.constantFrom('nhsNumber', 'user', 'conversation', 'kind', 'expires', 'studies', 'identity', 'v', 'retrievalId'),
    fieldValue: fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      nhsNumberArb,
      fc.constantFrom('29:user-1', 'confirm', 'pick', 'retry', '2100-01-01T00:00:00.000Z', 1),
    ),
    position: fc.nat(),
    replacement: fc.nat(),
    junk: fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('.', '..', 'a.b', 'a.b.c', '', ' ')),
    extra: ticks,
    at: instantArb,
    late: fc.integer({ min: 1, max: 60 * 24 * 365 * 70 }),
  })
  .map(({ isa, from, how, field, fieldValue, position, replacement, junk, extra, at, late }) => {
    const token = genuine[from].offer as string;
    const payload = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    let offer: unknown = token;
    let pressIsa: string = isa;
    let when = at;
    let who = personal;
    // A genuine confirmation for this caller, pressed in time, is the one thing that may start a
    // retrieval; every case below changes the token, the button's kind, the caller or the time.
    switch (how) {
      case 'body':
        offer = tamperBody(token, field, fieldValue);
        break;
      case 'signature':
        offer = tamperSignature(token, position, replacement);
        break;
      case 'other-key':
        offer = otherSigner.sign({ ...payload, kind: pressIsa });
        break;
      case 'other-user':
        who = caller('personal', `29:someone-else-${position % 5}`);
        break;
      case 'other-chat':
        // The same clinician, pressing a card forwarded or copied into another 1:1 chat.
        who = { ...personal, requester: { ...personal.requester, conversationId: `a:another-chat-${position % 5}` } };
        break;
      case 'wrong-kind': {
        // A genuine token pressed as a button of another kind ("pick" offered as a confirmation).
        const others = (['pick', 'confirm', 'retry'] as const).filter((k) => k !== from);
        pressIsa = others[position % others.length]!;
        break;
      }
      case 'expired':
        // Genuine, for this caller, but pressed after the offer expired.
        pressIsa = from === 'retry' ? 'confirm' : from;
        offer = genuine[from === 'retry' ? 'confirm' : from].offer;
        when = new Date(issued.getTime() + offerLifetimeMs + late * 60_000);
        break;
      case 'junk':
        offer = junk;
        break;
      case 'mangled':
        offer = [
          token.slice(0, position % token.length),
          `${token}.x`,
          `${token}${token}`,
          token.replace('.', ''),
          token.split('.').reverse().join('.'),
          ` ${token}`,
        ][replacement % 6];
        break;
      case 'huge':
        offer = `${token.split('.')[0]!}${'A'.repeat(16_384)}.${token.split('.')[1]!}`;
        break;
    }
    return { value: { ...extra, isa: pressIsa, offer }, at: when, who };
  });

/** Anything pressed in a 1:1 chat that is not a valid confirmation, with its instant. */
const notAValidConfirmation: fc.Arbitrary<{ value: unknown; at: Date; who: TurnCaller }> = fc.oneof(
  { weight: 4, arbitrary: badOfferPress },
  { weight: 2, arbitrary: fc.tuple(searchForm, instantArb).map(([value, at]) => ({ value, at, who: personal })) },
  { weight: 1, arbitrary: fc.tuple(ticks, instantArb).map(([t, at]) => ({ value: { ...t, ...genuine.pick }, at, who: personal })) },
  { weight: 2, arbitrary: fc.tuple(submitValue, instantArb).map(([value, at]) => ({ value, at, who: personal })) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom(
          { isa: navigationKind, step: 'find-images' },
          { isa: navigationKind, step: 'find-images', trail: ['menu', 'where', 'p2p-registered', 'route-a'] },
        ),
        instantArb,
      )
      .map(([value, at]) => ({ value, at, who: personal })),
  },
);

async function noRetrievalStarted({ pacs, store }: World): Promise<void> {
  expect(pacs.requests.startRetrieval).toBe(0);
  expect(await store.activeRetrievals()).toEqual([]);
  expect(await store.retrievalsFor(personal.requester.teamsUserId, 100)).toEqual([]);
  expect((await store.auditSince('1900-01-01T00:00:00.000Z')).filter((a) => a.action === 'retrieval-confirmed')).toEqual([]);
}

describe('the card submit handler (property-based)', () => {
  it('the detectors work: in a 1:1 chat the search shows the patient, and the genuine confirmation starts the retrievals', async () => {
    const search = await everyReply(
      await converse(
        { kind: 'submit', value: { isa: 'patient-search', nhsNumber: alice.nhsNumber } },
        personal,
        conversationDeps,
        world().retrieval,
        issued,
      ),
    );
    expect(leaks(search, '')).toEqual(
      expect.arrayContaining([formatNhsNumber(alice.nhsNumber), 'DEMO-PATIENT, Alice', '12 Mar 1970', 'DEMO0001', 'CT Head (DEMO)']),
    );
    expect(
      leaks([{ text: 'x', card: { contentType: 'application/vnd.microsoft.card.adaptive', content: { data: genuine.confirm } } }], ''),
    ).toContain(alice.birthDate);
    const w = world();
    const replies = await everyReply(
      await converse({ kind: 'submit', value: genuine.confirm }, personal, conversationDeps, w.retrieval, issued),
    );
    expect(allProblems(replies, guide)).toEqual([]);
    expect(w.pacs.requests.startRetrieval).toBe(3);
    expect(await w.store.activeRetrievals()).toHaveLength(3);
  });

  it('any press that is not a valid confirmation gets a well-formed reply and never starts a retrieval', async () => {
    await fc.assert(
      fc.asyncProperty(notAValidConfirmation, async ({ value, at, who }) => {
        const w = world();
        const turn = await converse({ kind: 'submit', value }, who, conversationDeps, w.retrieval, at);
        expect(turn.replies.length).toBeGreaterThanOrEqual(1);
        expect(allProblems(await everyReply(turn), guide)).toEqual([]);
        await noRetrievalStarted(w);
      }),
      runs(400),
    );
  });

  it('any text in a 1:1 chat ("find images for ...", "my retrievals", anything) gets a well-formed reply and starts nothing', async () => {
    const command = fc
      .tuple(
        fc.constantFrom(
          'find images for ',
          'search for patient ',
          'pull images for ',
          'get scans for patient ',
          'find images',
          'my retrievals',
          'status',
          'look up imaging for ',
        ),
        fc.oneof(typedNhs, anyText, fc.constant('')),
      )
      .map(([c, rest]) => `${c}${rest}`);
    await fc.assert(
      fc.asyncProperty(fc.oneof(command, anyText), instantArb, async (text, at) => {
        const w = world();
        const turn = await converse({ kind: 'text', text }, personal, conversationDeps, w.retrieval, at);
        expect(turn.replies.length).toBeGreaterThanOrEqual(1);
        expect(allProblems(await everyReply(turn), guide, text)).toEqual([]);
        await noRetrievalStarted(w);
      }),
      runs(300),
    );
  });

  it('a caller who may not search (tenant not allowed, not on the list, production with no list) never reaches the PACS', async () => {
    const refused: readonly AccessRules[] = [
      { mode: 'production', allowedTenantIds: [], retrievalAllowedUsers: [] },
      { mode: 'development', allowedTenantIds: ['tenant-2'], retrievalAllowedUsers: [] },
      {
        mode: 'production',
        allowedTenantIds: ['tenant-1'],
        retrievalAllowedUsers: ['@nbt.nhs.uk', '00000000-0000-0000-0000-000000000002'],
      },
      { mode: 'development', allowedTenantIds: [], retrievalAllowedUsers: ['@uhbristol.nhs.uk.evil', 'uhbristol.nhs.uk'] },
    ];
    const input: fc.Arbitrary<Incoming> = fc.oneof(
      fc
        .tuple(fc.constantFrom<TokenKind>('pick', 'confirm', 'retry'), ticks)
        .map(([k, t]) => ({ kind: 'submit' as const, value: { ...t, ...genuine[k] } })),
      searchForm.map((value) => ({ kind: 'submit' as const, value })),
      fc.constant({ kind: 'submit' as const, value: { isa: navigationKind, step: 'find-images' } }),
      fc
        .constantFrom('find images for 999 000 0018', 'find images for 9990000026', 'my retrievals', 'find images')
        .map((text) => ({ kind: 'text' as const, text })),
    );
    const at = fc.oneof(
      fc.integer({ min: 0, max: offerLifetimeMs - 1 }).map((ms) => new Date(issued.getTime() + ms)),
      instantArb,
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...refused), input, at, async (rules, incoming, instant) => {
        const w = world(rules);
        const turn = await converse(incoming, personal, { ...conversationDeps, access: rules }, w.retrieval, instant);
        expect(turn.replies.length).toBeGreaterThanOrEqual(1);
        const replies = await everyReply(turn);
        expect(allProblems(replies, guide, incoming.kind === 'text' ? incoming.text : '')).toEqual([]);
        expect(leaks(replies, incoming.kind === 'text' ? incoming.text : '')).toEqual([]);
        expect(w.pacs.requests).toMatchObject({ findLocalPatients: 0, queryRemoteStudies: 0, startRetrieval: 0 });
        await noRetrievalStarted(w);
      }),
      runs(200),
    );
  });

  it('whatever the PACS holds for the patient (hundreds of studies, long DICOM fields), the search result and the confirmation are cards Teams accepts', async () => {
    // DICOM: descriptions and names are LO (at most 64 characters), UIDs at most 64 characters. Studies
    // are made from counts and one description, so that a failure shrinks to the fewest studies.
    const lo = fc.oneof(
      fc.string({ maxLength: 64 }),
      fc.string({ unit: 'grapheme', maxLength: 64 }),
      fc.constantFrom('CT Head', 'X'.repeat(64), 'é'.repeat(64)),
    );
    const isoDay = fc
      .integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2100, 0, 1) })
      .map((ms) => new Date(ms).toISOString().slice(0, 10));
    const holdings = fc.record({
      familyName: lo,
      givenName: lo,
      localId: fc.string({ minLength: 1, maxLength: 64 }),
      birthDate: fc.option(isoDay, { nil: null }),
      description: lo,
      date: fc.option(isoDay, { nil: null }),
      modalities: fc.array(fc.constantFrom('CT', 'MR', 'DX', 'CR', 'US', 'NM', 'PT', 'XA', 'MG', 'OT'), { maxLength: 3 }),
      instanceCount: fc.option(fc.integer({ min: 0, max: 10_000 }), { nil: null }),
      localCount: fc.oneof(fc.nat({ max: 10 }), fc.integer({ min: 10, max: 400 })),
      siteCounts: fc.array(fc.oneof(fc.nat({ max: 5 }), fc.nat({ max: 60 })), { minLength: 7, maxLength: 7 }),
      behaviours: fc.array(fc.constantFrom<NonNullable<FakeSite['behaviour']>>('linked', 'linked', 'unreachable', 'rejecting'), {
        minLength: 7,
        maxLength: 7,
      }),
      alsoLocalPercent: fc.nat({ max: 100 }),
    });
    await fc.assert(
      fc.asyncProperty(holdings, instantArb, async (h, at) => {
        const study = (prefix: string, i: number): StudySummary => ({
          studyInstanceUid: `${prefix}.${i}.`.padEnd(64, '9'),
          date: h.date,
          description: i % 2 === 0 ? h.description : `${h.description.slice(0, 56)} ${i}`,
          modalities: h.modalities,
          instanceCount: h.instanceCount,
        });
        const remote = insigniaSiteIds.map((_, s) => Array.from({ length: h.siteCounts[s]! }, (__, i) => study(`1.2.826.0.2.${s}`, i)));
        // Some studies at the other sites are already on UH Bristol PACS (the same UID).
        const alreadyLocal = remote.flat().filter((_, i) => (i * 37) % 100 < h.alsoLocalPercent);
        const record: Omit<LocalPatientRecord, 'nhsNumberValues'> = {
          identity: {
            nhsNumber: alice.nhsNumber,
            localId: h.localId,
            familyName: h.familyName,
            givenName: h.givenName,
            birthDate: h.birthDate,
            sex: null,
          },
          studies: [...Array.from({ length: h.localCount }, (_, i) => study('1.2.826.0.1', i)), ...alreadyLocal],
        };
        const sites = Object.fromEntries(
          insigniaSiteIds.map((id, s) => [id, { behaviour: h.behaviours[s]!, studies: { [alice.nhsNumber]: remote[s]! } }]),
        );
        const pacs = new FakePacs({ local: [record], sites });
        const deps: RetrievalConversationDeps = {
          pacs,
          store: createMemoryStore(),
          queryTimeoutMs: 1000,
          guide,
          cards,
          signer,
          access,
          zone,
          demo: false,
          searches: createSearchLimiter(30),
          viewerUrlTemplate: null,
        };
        const fromPacs = JSON.stringify(h);
        const found = await everyReply(
          await converse(
            { kind: 'submit', value: { isa: 'patient-search', nhsNumber: alice.nhsNumber } },
            personal,
            conversationDeps,
            deps,
            at,
          ),
        );
        for (const reply of found) expect(replyProblems(reply, guide, fromPacs)).toEqual([]);
        const pick = actionsOf(found.at(-1)?.card?.content).find((a) => (a.data as { isa?: unknown } | undefined)?.isa === 'pick');
        if (!pick) return;
        const allTicked = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`pick-${i}`, 'true']));
        const confirm = await everyReply(
          await converse({ kind: 'submit', value: { ...(pick.data as object), ...allTicked } }, personal, conversationDeps, deps, at),
        );
        for (const reply of confirm) expect(replyProblems(reply, guide, fromPacs)).toEqual([]);
        // The genuine card, pressed at once by the clinician it was made for, is accepted: the confirmation card comes back.
        expect(
          confirm.flatMap((r) => actionsOf(r.card?.content)).some((a) => (a.data as { isa?: unknown } | undefined)?.isa === 'confirm'),
        ).toBe(true);
      }),
      runs(60),
    );
  });

  it('outside a 1:1 chat, nothing pressed or typed shows patient data, asks the PACS about a patient or starts a retrieval', async () => {
    const shared = fc.constantFrom<string | null>('groupChat', 'channel', null, '', 'Personal', 'personal ');
    const genuinePress = fc.tuple(fc.constantFrom<TokenKind>('pick', 'confirm', 'retry'), ticks).map(([k, t]) => ({ ...t, ...genuine[k] }));
    const input: fc.Arbitrary<Incoming> = fc.oneof(
      { weight: 2, arbitrary: genuinePress.map((value) => ({ kind: 'submit' as const, value })) },
      { weight: 2, arbitrary: notAValidConfirmation.map(({ value }) => ({ kind: 'submit' as const, value })) },
      {
        weight: 2,
        arbitrary: fc
          .tuple(
            fc.constantFrom('find images for ', 'my retrievals', 'status', 'find images', 'search for patient '),
            fc.constantFrom('', alice.nhsNumber, formatNhsNumber(alice.nhsNumber), bob.nhsNumber, 'DEMO-PATIENT Alice 1970-03-12'),
          )
          .map(([c, n]) => ({ kind: 'text' as const, text: `${c}${n}` })),
      },
      { weight: 1, arbitrary: anyText.map((text) => ({ kind: 'text' as const, text })) },
      { weight: 1, arbitrary: fc.constant({ kind: 'installed' as const }) },
    );
    // Pressed while the genuine offers are still valid, or at any instant.
    const at = fc.oneof(
      fc.integer({ min: 0, max: offerLifetimeMs - 1 }).map((ms) => new Date(issued.getTime() + ms)),
      instantArb,
    );
    await fc.assert(
      fc.asyncProperty(input, shared, at, async (incoming, conversationType, instant) => {
        const w = world();
        const turn = await converse(incoming, caller(conversationType), conversationDeps, w.retrieval, instant);
        expect(turn.replies.length).toBeGreaterThanOrEqual(1);
        const replies = await everyReply(turn);
        const typed = incoming.kind === 'text' ? incoming.text : '';
        expect(allProblems(replies, guide, typed)).toEqual([]);
        expect(leaks(replies, typed)).toEqual([]);
        expect(w.pacs.requests.findLocalPatients).toBe(0);
        expect(w.pacs.requests.queryRemoteStudies).toBe(0);
        await noRetrievalStarted(w);
      }),
      runs(400),
    );
  });
});
