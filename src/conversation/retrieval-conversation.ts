/**
 * The find-and-retrieve conversation (route A done from a phone): search form, patient identity and
 * studies, picking, confirmation, and the start of retrievals. Patient data only in 1:1 chats, only
 * for allowed users; the patient and studies offered travel in signed card data.
 */
import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { type Attachment } from 'botbuilder';
import { type CardRenderer } from '../cards/card-renderer';
import { plainText } from '../cards/plain-text';
import { sourceLine } from '../cards/step-cards';
import { trustName, type Guide } from '../domain/guide/guide';
import { findNhsNumberText, formatNhsNumber, parseNhsNumber } from '../domain/patients/nhs-number';
import { payloadFor, start } from '../domain/tree/navigation';
import { PacsError, type PacsErrorReason, type PatientSearch, type StudySummary } from '../ports/pacs-port';
import { type TurnClaim } from '../ports/store-port';
import { type AccessRules } from '../retrieval/access';
import { admitToPatientData, checkCardHolder, refuseInvalidSearch, type GateCaller, type SearchLimiter } from '../retrieval/gatekeeper';
import { recentRetrievals } from '../retrieval/retrieval-history';
import {
  findPatientImages,
  heldWhole,
  keptUntil,
  localCountsWithin,
  outcomeOf,
  recordConfirmation,
  retentionDays,
  requestRetry,
  sitesSearched,
  startRetry,
  startRecorded,
  toStart,
  type StudyPick,
  type RemoteStudy,
  type RetrievalDeps,
} from '../retrieval/retrieval-service';
import { type Signer } from './signed-data';
import {
  cardProblemWords,
  longDate,
  identityFacts,
  studyLine,
  linkWords,
  unidentifiedWords,
  locationWords,
  accessRefusalWords,
  failureWords,
  stateWords,
  notice,
} from './retrieval-words';
import { maxPickable, offerLifetimeMinutes, RetryToken, Offer } from './retrieval-offers';

/** Everything the retrieval conversation needs. */
export interface RetrievalConversationDeps extends RetrievalDeps {
  readonly guide: Guide;
  readonly cards: CardRenderer;
  readonly signer: Signer;
  readonly access: AccessRules;
  readonly zone: string;
  /** The per-user patient search limit (PATIENT_SEARCHES_PER_MINUTE); over it, searches are refused and audited. */
  readonly searches: SearchLimiter;
  /** True for the demo backend: every card says the data is synthetic. */
  readonly demo: boolean;
}

/** Who is asking, and where. */
export interface TurnCaller extends GateCaller {
  /** The card whose button was pressed (Teams' replyToId), if any. */
  readonly pressedActivityId?: string | null;
  /** This turn's claim on its activity, marked done with what the turn records (null: none). */
  readonly turnClaim?: TurnClaim | null;
}

/** A message to send. */
export interface RetrievalReply {
  readonly text?: string;
  readonly card?: Attachment;
}

/** What a retrieval turn does: replies now, replies later (slow work), and a card to update in place. */
export interface RetrievalTurn {
  readonly replies: readonly RetrievalReply[];
  readonly later?: () => Promise<RetrievalReply[]>;
  /** Replace the card the button was pressed on (so it cannot be confirmed twice). */
  readonly updatePressedCard?: RetrievalReply;
}

/**
 * Checks a signed card payload against the caller. A forged or tampered card, or one offered to
 * somebody else or in another chat, is refused and audited; an expired one is only refused.
 */
async function checkCard<T extends { readonly user: string; readonly conversation: string }>(
  payload: T | null,
  caller: TurnCaller,
  deps: RetrievalConversationDeps,
  now: Date,
  expires: string | null,
): Promise<T | RetrievalTurn> {
  const problem = await checkCardHolder(payload, caller, deps.store, now, expires);
  return problem === null ? payload! : { replies: [{ text: cardProblemWords[problem] }] };
}

function isTurn(value: unknown): value is RetrievalTurn {
  return typeof value === 'object' && value !== null && 'replies' in value;
}

const statusCommand = /^\s*(my\s+retrievals?|my\s+downloads?|status|retrieval\s+status)\s*[.!?]*\s*$/i;

const findCommand = new RegExp(
  String.raw`^\s*(please\s+)?(find|search|look\s*up|lookup|pull|retrieve|get|fetch|show)\b.*\b(images?|` +
    String.raw`imaging|studies|study|scans?|patient|x-?rays?)\b`,
  'i',
);

/** True when the text asks to find a patient's images ("find images for 943 476 5919"). */
export function isFindCommand(text: string): boolean {
  return (
    findCommand.test(text) &&
    (findNhsNumberText(text) !== null || /\bfor\b|\bpatient\b|^\s*(find|search)\s+(images?|patient)\s*$/i.test(text))
  );
}

/** The search form (from route A's button or "find images" with no number). */
export function searchForm(deps: RetrievalConversationDeps): RetrievalReply {
  return {
    card: deps.cards.render('patient-search', {
      title: deps.demo ? "Find a patient's images (DEMO: synthetic patients only)" : "Find a patient's images at the other Insignia sites",
      intro: [
        'Search with the most accurate information you have: the NHS number is best; surname, forename and date of birth are acceptable.',
      ],
      search: { isa: 'patient-search' },
      source: sourceLine(deps.guide),
    }),
  };
}

/** Refuses patient data outside 1:1 chats and to callers not allowed; null when the caller may go on. */
async function guard(caller: TurnCaller, deps: RetrievalConversationDeps, now: Date): Promise<RetrievalTurn | null> {
  const refusal = await admitToPatientData(caller, deps.access, deps.store, now);
  return refusal === null ? null : { replies: [{ text: accessRefusalWords[refusal] }] };
}

/** Refuses a search over the user's per-minute limit, saying so; null when the search may go ahead. */
async function overSearchLimit(caller: TurnCaller, deps: RetrievalConversationDeps, now: Date): Promise<RetrievalTurn | null> {
  const over = await deps.searches.admit(caller, deps.store, now);
  if (over === null) return null;
  return {
    replies: [
      {
        text:
          `You have made ${over.recent} patient searches in the last minute; the limit is ${over.limit} a ` +
          `minute, to protect patients' data. Please wait a minute and try again. If you need more, ` +
          `ask the PACS team.`,
      },
    ],
  };
}

function searchFrom(value: Record<string, unknown>): PatientSearch | { error: string } {
  const text = (key: string): string => (typeof value[key] === 'string' ? value[key].trim() : '');
  const nhs = text('nhsNumber');
  if (nhs) {
    const parsed = parseNhsNumber(nhs);
    return parsed.ok ? { kind: 'nhs-number', nhsNumber: parsed.nhsNumber } : { error: parsed.message };
  }
  const familyName = text('familyName');
  const givenName = text('givenName');
  const birthDate = text('birthDate');
  if (!familyName || !givenName || !birthDate) {
    return { error: 'Enter the NHS number, or all three of surname, forename and date of birth.' };
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(birthDate) || !DateTime.fromISO(birthDate).isValid)
    return { error: 'The date of birth is not a valid date.' };
  if (familyName.length > 64 || givenName.length > 64) return { error: 'The names are too long.' };
  return { kind: 'demographics', familyName, givenName, birthDate };
}

function search(search: PatientSearch, caller: TurnCaller, deps: RetrievalConversationDeps, now: Date): RetrievalTurn {
  const siteCount = sitesSearched(deps);
  const done = deps.searches.started(caller.requester.teamsUserId);
  return {
    replies: [{ text: `Searching UH Bristol PACS and ${siteCount} peer-to-peer site${siteCount === 1 ? '' : 's'}...` }],
    later: async () => {
      let outcome: Awaited<ReturnType<typeof findPatientImages>>;
      try {
        outcome = await findPatientImages(search, caller.requester, deps, now);
      } catch (error) {
        // UH Bristol's own PACS failing is said plainly; anything else goes to the transport's catch-all.
        if (!(error instanceof PacsError) || error.site !== null) throw error;
        return [
          notice(deps, 'UH Bristol PACS is not answering', [
            `I could not search: UH Bristol PACS ${failureWords(error.reason)}. Nothing was searched ` +
              `at the other sites. Please try again in a few minutes.`,
          ]),
        ];
      } finally {
        done();
      }
      switch (outcome.kind) {
        case 'not-registered':
          return [
            notice(deps, 'No record of this patient on UH Bristol PACS', [
              'Peer to peer only works when the patient is registered on Medway UH Bristol and at the source Trust with an NHS Number.',
              'Without that, use IEP instead (Guide D).',
            ]),
          ];
        case 'several-matches':
          return [
            notice(deps, 'More than one patient matches', ['Search again with the NHS number, so that the right patient is identified.']),
          ];
        case 'nhs-number-conflict':
          // Never guess: a record that also holds another NHS number may be another person's.
          return [
            notice(deps, 'Cannot positively identify this patient on UH Bristol PACS', [
              'The record found holds another NHS number as well as, or instead of, the one searched, so ' +
                'I cannot be sure it is the right patient. Nothing was searched at the other sites.',
              "Ask the PACS team to check the patient's record.",
            ]),
          ];
        case 'no-nhs-number':
          return [
            notice(deps, 'This patient has no NHS number on UH Bristol PACS', [
              'The link to other Insignia sites cannot be established without an NHS number. Use IEP instead (Guide D).',
            ]),
          ];
        case 'found':
          return [studiesCard(outcome, caller, deps, now)];
      }
    },
  };
}

function studiesCard(
  outcome: Extract<Awaited<ReturnType<typeof findPatientImages>>, { kind: 'found' }>,
  caller: TurnCaller,
  deps: RetrievalConversationDeps,
  now: Date,
): RetrievalReply {
  const { patient, sites, studies } = outcome;
  const { zone, guide } = deps;
  const remoteCount = studies.filter((s) => s.location === 'remote').length;
  const pickable = studies.filter((s) => s.location === 'remote').slice(0, maxPickable);
  const offer: Offer = {
    v: 2,
    kind: 'pick',
    nhsNumber: patient.identity.nhsNumber!,
    identity: patient.identity,
    studies: pickable.map((s) => ({ site: s.site, study: summaryOf(s) })),
    expires: new Date(now.getTime() + offerLifetimeMinutes * 60_000).toISOString(),
    user: caller.requester.teamsUserId,
    conversation: caller.requester.conversationId,
  };
  return {
    card: deps.cards.render('patient-studies', {
      title: 'Images for this patient',
      banner: deps.demo ? 'DEMO DATA: synthetic patients and sites, not real patients.' : null,
      identity: identityFacts(patient.identity, zone),
      localStudies:
        patient.studies.length > 0 ? newestFirst(patient.studies, (s) => studyLine(s, zone), 'on UH Bristol PACS') : ['No studies.'],
      sites: sites.map((s) => ({ title: trustName(guide, s.site), value: `${linkWords[s.link]}${unidentifiedWords(s.withoutNhsNumber)}` })),
      remoteLines: [
        ...(studies.length === 0 ? ['No studies found at the other sites.'] : []),
        ...newestFirst(
          studies.filter((s) => s.location !== 'remote'),
          (s) => `${studyLine(s, zone)} · ${trustName(guide, s.site)} · ${locationWords(s, guide)}`,
          'already retrieved or downloading',
        ),
        // Cards have a size limit; say so rather than silently drop the older studies.
        ...(remoteCount > pickable.length ? [`Showing the ${pickable.length} most recent of ${remoteCount} studies at other sites.`] : []),
      ],
      choices: pickable.map((s, i) => ({ id: `pick-${i}`, title: `${studyLine(s, zone)} · ${locationWords(s, guide)}` })),
      pick: { isa: 'pick', offer: deps.signer.sign(offer) },
      source: sourceLine(guide),
    }),
  };
}

function summaryOf(study: RemoteStudy): StudySummary {
  // DICOM limits a study description to 64 characters; a PACS that sends more must not overfill the signed card.
  return {
    studyInstanceUid: study.studyInstanceUid,
    date: study.date,
    description: [...study.description].slice(0, 64).join(''),
    modalities: study.modalities.slice(0, 8),
    instanceCount: study.instanceCount,
  };
}

/** Studies listed on a card at most, per list: a card has a size limit (Teams refuses over 28 KB). */
const maxListedStudies = 10;

/** The most recent studies' lines, and a line saying how many older ones are not shown. */
function newestFirst<T extends { readonly date: string | null }>(
  studies: readonly T[],
  line: (study: T) => string,
  where: string,
): string[] {
  const sorted = [...studies].sort((a, b) => (b.date ?? '').localeCompare(a.date ?? ''));
  const shown = sorted.slice(0, maxListedStudies).map(line);
  const hidden = sorted.length - shown.length;
  return hidden > 0 ? [...shown, `And ${hidden} older stud${hidden === 1 ? 'y' : 'ies'} ${where}, not shown.`] : shown;
}

async function readOffer(
  value: Record<string, unknown>,
  kind: Offer['kind'],
  caller: TurnCaller,
  deps: RetrievalConversationDeps,
  now: Date,
): Promise<Offer | RetrievalTurn> {
  const signed = deps.signer.verify(value.offer) as Partial<Offer> | null;
  const offer = signed && signed.v === 2 && signed.kind === kind ? (signed as Offer) : null;
  return checkCard(offer, caller, deps, now, offer?.expires ?? null);
}

async function pick(
  value: Record<string, unknown>,
  caller: TurnCaller,
  deps: RetrievalConversationDeps,
  now: Date,
): Promise<RetrievalTurn> {
  const offer = await readOffer(value, 'pick', caller, deps, now);
  if (isTurn(offer)) return offer;
  const chosen = offer.studies.filter((_, i) => value[`pick-${i}`] === 'true');
  if (chosen.length === 0) return { replies: [{ text: 'Tick at least one study to retrieve.' }] };
  const confirm: Offer = { ...offer, kind: 'confirm', studies: chosen };
  const until = DateTime.fromJSDate(keptUntil(now), { zone: deps.zone }).setLocale('en-GB').toFormat('d LLL yyyy');
  return {
    replies: [
      {
        card: deps.cards.render('retrieval-confirm', {
          title: deps.demo ? 'Confirm retrieval (DEMO)' : 'Confirm retrieval',
          identity: identityFacts(offer.identity, deps.zone),
          studies: chosen.map((c) => `${studyLine(c.study, deps.zone)} · from ${trustName(deps.guide, c.site)}`),
          retention:
            `Kept locally for ${retentionDays} days, until ${until}. After that the retrieval must be ` +
            `repeated to view the images again.`,
          confirm: { isa: 'confirm', offer: deps.signer.sign(confirm) },
          cancel: payloadFor(start),
          source: sourceLine(deps.guide),
        }),
      },
    ],
  };
}

/** How long a confirmation waits to learn which studies UH Bristol's PACS already holds. */
const localCheckMs = 2000;

async function confirm(
  value: Record<string, unknown>,
  caller: TurnCaller,
  deps: RetrievalConversationDeps,
  now: Date,
): Promise<RetrievalTurn> {
  const offer = await readOffer(value, 'confirm', caller, deps, now);
  if (isTurn(offer)) return offer;
  const at = DateTime.fromJSDate(now, { zone: deps.zone }).toFormat('HH:mm');
  const count = offer.studies.length;
  // Studies UH Bristol's PACS already holds whole are not retrieved again; a PACS slow to say is not waited for (the start checks again).
  const picks = offer.studies.map((s) => ({ site: s.site, study: s.study }));
  const local = await localCountsWithin(
    deps,
    picks.map((p) => p.study.studyInstanceUid),
    localCheckMs,
  );
  const complete = (p: StudyPick): boolean => heldWhole(p.study, local?.get(p.study.studyInstanceUid) ?? 0);
  // Recorded before the clinician is answered: once they see "Starting", a crash cannot lose it (the poll starts what the turn did not).
  const recorded = await recordConfirmation(offer.nhsNumber, picks, caller.requester, deps, now, randomUUID, {
    cardActivityId: caller.pressedActivityId ?? null,
    alreadyLocal: complete,
    activity: caller.turnClaim ?? null,
  });
  return {
    // The card is replaced at once so it cannot be confirmed twice; the PACS work is posted when done.
    updatePressedCard: notice(deps, 'Retrieval confirmed', [
      `Confirmed by ${plainText(caller.requester.displayName)} at ${at}.`,
      ...offer.studies.map((s) => studyLine(s.study, deps.zone)),
    ]),
    replies: [{ text: `Starting the retrieval of ${count} stud${count === 1 ? 'y' : 'ies'}...` }],
    later: async () => {
      const started = await startRecorded(toStart(recorded), deps, now);
      const until = DateTime.fromJSDate(keptUntil(now), { zone: deps.zone }).setLocale('en-GB').toFormat('d LLL yyyy');
      const lines = recorded.map((r) => {
        const p = r.pick;
        const description = plainText(p.study.description) || 'Study';
        const what = `${description} (${longDate(p.study.date, deps.zone)}) from ${trustName(deps.guide, p.site)}`;
        const outcome = outcomeOf(r, started);
        switch (outcome.kind) {
          case 'started':
            return `⬇️ Started: ${what}. It will be kept on UH Bristol PACS until ${until}.`;
          case 'already-downloading':
            return `⬇️ Already downloading: ${what}. Nothing new was started.`;
          case 'already-local':
            return `✅ Already on UH Bristol PACS: ${what}. Nothing new was started.`;
          case 'failed':
            return outcome.where === 'local'
              ? `❌ Could not start: ${what}: UH Bristol PACS ${failureWords(outcome.reason)}. Nothing was ` +
                  `started; try again in a few minutes.`
              : `❌ Could not start: ${what}: the ${trustName(deps.guide, p.site)} PACS ${failureWords(outcome.reason)}.`;
        }
      });
      return [{ text: lines.join('\n\n') }];
    },
  };
}

/** The retrieval conversation's answer to a text command; null when the text is not one. */
export async function retrievalText(
  text: string,
  caller: TurnCaller,
  deps: RetrievalConversationDeps,
  now: Date,
): Promise<RetrievalTurn | null> {
  if (statusCommand.test(text)) {
    return (await guard(caller, deps, now)) ?? { replies: [await myRetrievals(caller, deps)] };
  }
  if (!isFindCommand(text)) return null;
  const refused = await guard(caller, deps, now);
  if (refused) return refused;
  const typed = findNhsNumberText(text) ?? /\d{6,}/.exec(text)?.[0] ?? null;
  if (typed === null) return { replies: [searchForm(deps)] };
  const parsed = parseNhsNumber(typed);
  if (!parsed.ok) {
    await refuseInvalidSearch(caller, deps.store, now, parsed.problem);
    return { replies: [{ text: parsed.message }] };
  }
  return (await overSearchLimit(caller, deps, now)) ?? search({ kind: 'nhs-number', nhsNumber: parsed.nhsNumber }, caller, deps, now);
}

/** The retrieval conversation's answer to a card submit; null when the submit is not one of its own. */
export async function retrievalSubmit(
  value: unknown,
  caller: TurnCaller,
  deps: RetrievalConversationDeps,
  now: Date,
): Promise<RetrievalTurn | null> {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  if (v.isa !== 'patient-search' && v.isa !== 'pick' && v.isa !== 'confirm' && v.isa !== 'retry') return null;
  const refused = await guard(caller, deps, now);
  if (refused) return refused;
  switch (v.isa) {
    case 'patient-search': {
      const parsed = searchFrom(v);
      if ('error' in parsed) return { replies: [{ text: parsed.error }] };
      return (await overSearchLimit(caller, deps, now)) ?? search(parsed, caller, deps, now);
    }
    case 'pick':
      return pick(v, caller, deps, now);
    case 'confirm':
      return confirm(v, caller, deps, now);
    case 'retry':
      return retry(v, caller, deps, now);
  }
}

/** "my retrievals": the clinician's recent retrievals with state, site and expiry date. */
async function myRetrievals(caller: TurnCaller, deps: RetrievalConversationDeps): Promise<RetrievalReply> {
  const recent = await recentRetrievals(deps.store, caller.requester.teamsUserId, 10);
  if (recent.length === 0) return { text: 'You have no retrievals yet. Type "find images for" and an NHS number to start one.' };
  const lines: string[] = [];
  for (const { retrieval: r, undeliverable } of recent) {
    const undelivered = undeliverable ? ' (I could not send you the notification for this one)' : '';
    const until = r.state === 'stored' ? `, kept until ${longDate(r.keptUntil.slice(0, 10), deps.zone)}` : '';
    const why = r.state === 'failed' && r.failureReason ? `: the PACS ${failureWords(r.failureReason as PacsErrorReason)}` : '';
    lines.push(
      `${studyLine(r.study, deps.zone)} · ${trustName(deps.guide, r.site)} · NHS ` +
        `${formatNhsNumber(r.nhsNumber)} · ${stateWords[r.state]}${why}${until}${undelivered}`,
    );
  }
  return notice(deps, 'Your recent retrievals', lines);
}

async function retry(
  value: Record<string, unknown>,
  caller: TurnCaller,
  deps: RetrievalConversationDeps,
  now: Date,
): Promise<RetrievalTurn> {
  const signed = deps.signer.verify(value.offer) as Partial<RetryToken> | null;
  const token = await checkCard(
    signed && signed.v === 2 && signed.kind === 'retry' ? (signed as RetryToken) : null,
    caller,
    deps,
    now,
    null,
  );
  if (isTurn(token)) return token;
  // Recorded before the clinician is answered, as a confirmation is; the PACS is asked afterwards.
  const requested = await requestRetry(token.retrievalId, caller.requester, deps, now);
  switch (requested.kind) {
    case 'gone':
      return { replies: [{ text: 'I no longer have that retrieval. Please search for the patient again.' }] };
    case 'not-failed':
      return {
        replies: [
          { text: 'That retrieval is no longer failed (it may already have been tried again). Type "my retrievals" to see where it is.' },
        ],
      };
    case 'requested':
      break;
  }
  return {
    replies: [{ text: 'Trying again...' }],
    later: async () => {
      const outcome = await startRetry(requested.retrieval, caller.requester, deps, now);
      switch (outcome.kind) {
        case 'started':
          return [
            {
              text:
                `⬇️ Started again: ${plainText(outcome.retrieval.study.description) || 'the study'} from ` +
                `${trustName(deps.guide, outcome.retrieval.site)}. I will tell you when it is on UH Bristol PACS.`,
            },
          ];
        case 'failed':
          return [{ text: `❌ It could not start: the PACS ${failureWords(outcome.reason)}.` }];
      }
    },
  };
}

/** Turns a retrieval turn for the transport into the route A "find images" button's reply, when allowed. */
export async function findImagesButton(caller: TurnCaller, deps: RetrievalConversationDeps, now: Date): Promise<RetrievalTurn> {
  return (await guard(caller, deps, now)) ?? { replies: [searchForm(deps)] };
}
