/**
 * Finding a patient's images: the search form, a search's checks (the form, the per-minute limit),
 * the search itself as slow work after the turn, and the studies card it ends with (the patient's
 * identity, each site's answer, and the studies offered to pick, signed).
 */
import { DateTime } from 'luxon';
import { sourceLine } from '../cards/step-cards';
import { trustName } from '../domain/guide/guide';
import { parseNhsNumber } from '../domain/patients/nhs-number';
import { PacsError, type PatientSearch, type SiteId, type StudySummary } from '../ports/pacs-port';
import { findPatientImages, sitesSearched, type RemoteStudy, type SiteStatus } from '../retrieval/find-patient-images';
import { checkCard, isTurn, say, type RetrievalConversationDeps, type TurnCaller } from './retrieval-context';
import { maxPickable, offerLifetimeMinutes, type Offer, type SiteSearchToken } from './retrieval-offers';
import {
  failureWords,
  historyWords,
  identityFacts,
  linkWords,
  locationWords,
  notice,
  searchingWords,
  studyLine,
  unidentifiedWords,
} from './retrieval-words';
import { createProgress, followUp, type Reply, type Turn } from './turn';

/** The search form (from route A's button or "find images" with no number). */
export function searchForm(deps: RetrievalConversationDeps): Reply {
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

/** Refuses a search over the user's per-minute limit, saying so; null when the search may go ahead. */
export async function overSearchLimit(caller: TurnCaller, deps: RetrievalConversationDeps, now: Date): Promise<Turn | null> {
  const over = await deps.searches.admit(caller, deps.store, now);
  if (over === null) return null;
  return say(
    `You have made ${over.recent} patient searches in the last minute; the limit is ${over.limit} a ` +
      `minute, to protect patients' data. Please wait a minute and try again. If you need more, ` +
      `ask the PACS team.`,
  );
}

export function searchFrom(value: Record<string, unknown>): PatientSearch | { error: string } {
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

/**
 * A search: "Searching..." at once with the typing indicator, that message updated in place as each
 * site answers, then the studies card (slow work after the turn). `sites`: only these (searched again).
 */
export function search(
  search: PatientSearch,
  caller: TurnCaller,
  deps: RetrievalConversationDeps,
  now: Date,
  sites?: readonly SiteId[],
): Turn {
  const siteCount = sites ? sites.length : sitesSearched(deps);
  const done = deps.searches.started(caller.requester.teamsUserId);
  const progress = createProgress(0);
  const answered: SiteStatus[] = [];
  const onSite = (status: SiteStatus): void => {
    answered.push(status);
    progress.publish({ text: searchingWords(siteCount, answered, deps.guide) });
  };
  return {
    replies: [{ text: searchingWords(siteCount, [], deps.guide) }],
    typing: true,
    progress,
    followUp: followUp(async () => {
      let outcome: Awaited<ReturnType<typeof findPatientImages>>;
      try {
        outcome = await findPatientImages(search, caller.requester, deps, now, { onSite, ...(sites ? { sites } : {}) });
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
    }),
  };
}

function studiesCard(
  outcome: Extract<Awaited<ReturnType<typeof findPatientImages>>, { kind: 'found' }>,
  caller: TurnCaller,
  deps: RetrievalConversationDeps,
  now: Date,
): Reply {
  const { patient, sites, studies, history } = outcome;
  const last = (uid: string): string => historyWords(history.get(uid), now, zone);
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
        patient.studies.length > 0
          ? newestFirst(patient.studies, (s) => `${studyLine(s, zone)}${last(s.studyInstanceUid)}`, 'on UH Bristol PACS')
          : ['No studies.'],
      sites: sites.map((s) => ({ title: trustName(guide, s.site), value: `${linkWords[s.link]}${unidentifiedWords(s.withoutNhsNumber)}` })),
      again: sites
        .filter((s) => s.link === 'unreachable' || s.link === 'timed-out' || s.link === 'rejected')
        .map((s) => {
          const token: SiteSearchToken = {
            v: 2,
            kind: 'search-site',
            nhsNumber: offer.nhsNumber,
            site: s.site,
            expires: offer.expires,
            user: offer.user,
            conversation: offer.conversation,
          };
          return {
            title: `Search ${trustName(guide, s.site)} again`,
            data: { isa: 'search-site' as const, offer: deps.signer.sign(token) },
          };
        }),
      remoteLines: [
        ...(studies.length === 0 ? ['No studies found at the other sites.'] : []),
        ...newestFirst(
          studies.filter((s) => s.location !== 'remote'),
          (s) => `${studyLine(s, zone)} · ${trustName(guide, s.site)} · ${locationWords(s, guide)}${last(s.studyInstanceUid)}`,
          'already retrieved or downloading',
        ),
        // Cards have a size limit; say so rather than silently drop the older studies.
        ...(remoteCount > pickable.length ? [`Showing the ${pickable.length} most recent of ${remoteCount} studies at other sites.`] : []),
      ],
      choices: pickable.map((s, i) => ({
        id: `pick-${i}`,
        title: `${studyLine(s, zone)} · ${locationWords(s, guide)}${last(s.studyInstanceUid)}`,
      })),
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
    // SH: at most 16 characters; a longer one is not an accession number the viewer could use.
    ...(study.accessionNumber && study.accessionNumber.length <= 16 ? { accessionNumber: study.accessionNumber } : {}),
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

/** "Search <site> again": that site alone, for the patient of the signed button, as a new search. */
export async function searchSiteAgain(
  value: Record<string, unknown>,
  caller: TurnCaller,
  deps: RetrievalConversationDeps,
  now: Date,
): Promise<Turn> {
  const signed = deps.signer.verify(value.offer) as Partial<SiteSearchToken> | null;
  const valid = signed && signed.v === 2 && signed.kind === 'search-site' && deps.pacs.sites().includes(signed.site!);
  const token = await checkCard(valid ? (signed as SiteSearchToken) : null, caller, deps, now, signed?.expires ?? null);
  if (isTurn(token)) return token;
  return (
    (await overSearchLimit(caller, deps, now)) ??
    search({ kind: 'nhs-number', nhsNumber: token.nhsNumber }, caller, deps, now, [token.site])
  );
}
