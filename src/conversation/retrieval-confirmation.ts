/**
 * Retrieving the studies picked: the pick (to a confirmation card), the confirmation (recorded
 * before the answer, then started as slow work after it), "Try again" on a failed retrieval, and
 * "my retrievals". Each signed card is checked against the caller before anything is done.
 */
import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { plainText } from '../cards/plain-text';
import { noticeCard, sourceLine } from '../cards/step-cards';
import { trustName } from '../domain/guide/guide';
import { formatNhsNumber } from '../domain/patients/nhs-number';
import { type PacsErrorReason } from '../ports/pacs-port';
import { recentRetrievals } from '../retrieval/retrieval-history';
import {
  cancelConfirmation,
  decideConfirmation,
  recordConfirmed,
  startConfirmed,
  type ConfirmedOutcome,
} from '../retrieval/confirm-retrievals';
import { keptUntil, retentionDays } from '../retrieval/retrieval-deps';
import { requestRetry, startRetry } from '../retrieval/retry-retrieval';
import { checkCard, isTurn, say, type RetrievalConversationDeps, type TurnCaller } from './retrieval-context';
import { cancelButtons, statusCard } from './retrieval-status';
import { type Offer, type RetryToken } from './retrieval-offers';
import { failureWords, identityFacts, longDate, notice, stateWords, studyLine } from './retrieval-words';
import { followUp, type Reply, type Turn } from './turn';

async function readOffer(
  value: Record<string, unknown>,
  kind: Offer['kind'],
  caller: TurnCaller,
  deps: RetrievalConversationDeps,
  now: Date,
): Promise<Offer | Turn> {
  const signed = deps.signer.verify(value.offer) as Partial<Offer> | null;
  const offer = signed && signed.v === 2 && signed.kind === kind ? (signed as Offer) : null;
  return checkCard(offer, caller, deps, now, offer?.expires ?? null);
}

/** A pick: the confirmation card for the studies ticked, signed. */
export async function pick(value: Record<string, unknown>, caller: TurnCaller, deps: RetrievalConversationDeps, now: Date): Promise<Turn> {
  const offer = await readOffer(value, 'pick', caller, deps, now);
  if (isTurn(offer)) return offer;
  const chosen = offer.studies.filter((_, i) => value[`pick-${i}`] === 'true');
  if (chosen.length === 0) return say('Tick at least one study to retrieve.');
  const confirm: Offer = { ...offer, kind: 'confirm', studies: chosen, id: randomUUID() };
  const signed = deps.signer.sign(confirm);
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
          confirm: { isa: 'confirm', offer: signed },
          cancel: { isa: 'cancel', offer: signed },
          source: sourceLine(deps.guide),
        }),
      },
    ],
  };
}

/** What became of each study confirmed, one line each. */
function startedLines(confirmed: readonly ConfirmedOutcome[], deps: RetrievalConversationDeps, now: Date): string {
  const until = DateTime.fromJSDate(keptUntil(now), { zone: deps.zone }).setLocale('en-GB').toFormat('d LLL yyyy');
  const lines = confirmed.map(({ pick: p, outcome }) => {
    const description = plainText(p.study.description) || 'Study';
    const what = `${description} (${longDate(p.study.date, deps.zone)}) from ${trustName(deps.guide, p.site)}`;
    switch (outcome.kind) {
      case 'started':
        return `⬇️ Started: ${what}. It will be kept on UH Bristol PACS until ${until}.`;
      case 'already-downloading':
        return `⬇️ Already downloading: ${what}. Nothing new was started.`;
      case 'already-local':
        return `✅ Already on UH Bristol PACS: ${what}. Nothing new was started.`;
      case 'cancelled':
        return `✖️ Cancelled while starting: ${what}.`;
      case 'failed':
        return outcome.where === 'local'
          ? `❌ Could not start: ${what}: UH Bristol PACS ${failureWords(outcome.reason)}. Nothing was ` +
              `started; try again in a few minutes.`
          : `❌ Could not start: ${what}: the ${trustName(deps.guide, p.site)} PACS ${failureWords(outcome.reason)}.`;
    }
  });
  return lines.join('\n\n');
}

/** Confirm: recorded before the clinician is answered, then started after the answer (slow work). */
export async function confirm(
  value: Record<string, unknown>,
  caller: TurnCaller,
  deps: RetrievalConversationDeps,
  now: Date,
): Promise<Turn> {
  const offer = await readOffer(value, 'confirm', caller, deps, now);
  if (isTurn(offer)) return offer;
  // A card cancelled (replaced) cannot be confirmed by a stale copy of it or a replayed press.
  const decided = await decideConfirmation(offer, 'confirmed', deps, now);
  if (decided.decision === 'cancelled') {
    return say('That retrieval was cancelled, so nothing was retrieved. Search again to start a new one.');
  }
  const at = DateTime.fromJSDate(now, { zone: deps.zone }).toFormat('HH:mm');
  const count = offer.studies.length;
  // Recorded before the clinician is answered: once they see "Starting", a crash cannot lose it (the poll starts what the turn did not).
  const confirmed = await recordConfirmed(
    offer.nhsNumber,
    offer.studies.map((s) => ({ site: s.site, study: s.study })),
    caller.requester,
    deps,
    now,
    { newId: randomUUID, cardActivityId: caller.pressedActivityId ?? null, activity: caller.turnClaim ?? null, decision: decided.claim },
  );
  const created = confirmed.recorded.flatMap((r) => (r.created && r.retrieval ? [r.retrieval] : []));
  const others = confirmed.recorded.flatMap((r) => (r.created ? [] : [studyLine(r.pick.study, deps.zone)]));
  return {
    // The card is replaced at once so it cannot be confirmed twice; it becomes the status card (with
    // "Cancel download" while each is downloading); the PACS work is posted when done.
    updatePressedCard: statusCard(
      deps,
      'Retrieval confirmed',
      [`Confirmed by ${plainText(caller.requester.displayName)} at ${at}.`, ...others],
      created,
    ),
    replies: [{ text: `Starting the retrieval of ${count} stud${count === 1 ? 'y' : 'ies'}...` }],
    followUp: followUp(async () => [{ text: startedLines(await startConfirmed(confirmed, deps, now), deps, now) }]),
  };
}

/** Cancel on a confirmation card: the card is replaced, and its offer can no longer be confirmed. */
export async function cancel(
  value: Record<string, unknown>,
  caller: TurnCaller,
  deps: RetrievalConversationDeps,
  now: Date,
): Promise<Turn> {
  const offer = await readOffer(value, 'confirm', caller, deps, now);
  if (isTurn(offer)) return offer;
  if ((await cancelConfirmation(offer, caller.requester, deps, now)) === 'confirmed') {
    // Confirm was pressed first (perhaps on another device): that stands.
    return say(
      'That retrieval was already confirmed, so Cancel no longer applies to it. To stop a download, use "Cancel download" on ' +
        'its status card or in "my retrievals".',
    );
  }
  const count = offer.studies.length;
  return {
    updatePressedCard: notice(deps, 'Retrieval cancelled', [
      `Cancelled by ${plainText(caller.requester.displayName)} at ${DateTime.fromJSDate(now, { zone: deps.zone }).toFormat('HH:mm')}. ` +
        'Nothing was retrieved.',
      ...offer.studies.map((s) => studyLine(s.study, deps.zone)),
    ]),
    replies: [
      {
        text: `Cancelled: the ${count === 1 ? 'study was' : `${count} studies were`} not retrieved. Type "help" for the menu.`,
      },
    ],
  };
}

/** Retrievals per page of "my retrievals". */
export const retrievalsPerPage = 10;

/** The most pages "my retrievals" goes back (a bound on what an old button can ask for). */
const maxPages = 100;

/** The page a "Show older" button asks for (0 = the newest), or null when its data is not one. */
export function pageOf(value: Record<string, unknown>): number | null {
  const page = value.page;
  return typeof page === 'number' && Number.isInteger(page) && page >= 0 && page < maxPages ? page : null;
}

/** "my retrievals": the clinician's retrievals with state, site and expiry date, a page at a time. */
export async function myRetrievals(caller: TurnCaller, deps: RetrievalConversationDeps, page = 0): Promise<Reply> {
  // One more than a page is read, to know whether there are older ones.
  const found = await recentRetrievals(deps.store, caller.requester.teamsUserId, retrievalsPerPage + 1, page * retrievalsPerPage);
  if (found.length === 0) {
    return page === 0
      ? { text: 'You have no retrievals yet. Type "find images for" and an NHS number to start one.' }
      : { text: 'There are no older retrievals.' };
  }
  const shown = found.slice(0, retrievalsPerPage);
  const lines: string[] = [];
  for (const { retrieval: r, undeliverable } of shown) {
    const undelivered = undeliverable ? ' (I could not send you the notification for this one)' : '';
    const until = r.state === 'stored' ? `, kept until ${longDate(r.keptUntil.slice(0, 10), deps.zone)}` : '';
    const why = r.state === 'failed' && r.failureReason ? `: the PACS ${failureWords(r.failureReason as PacsErrorReason)}` : '';
    lines.push(
      `${studyLine(r.study, deps.zone)} · ${trustName(deps.guide, r.site)} · NHS ` +
        `${formatNhsNumber(r.nhsNumber)} · ${stateWords[r.state]}${why}${until}${undelivered}`,
    );
  }
  const first = page * retrievalsPerPage + 1;
  const older = found.length > retrievalsPerPage;
  return {
    card: noticeCard(
      page === 0 ? 'Your recent retrievals' : `Your retrievals ${first} to ${first + shown.length - 1}`,
      lines,
      deps.guide,
      deps.cards,
      [],
      [
        ...cancelButtons(
          shown.map((s) => s.retrieval),
          deps,
          page,
        ),
        ...(older ? [{ title: 'Show older', data: { isa: 'my-retrievals' as const, page: page + 1 } }] : []),
      ],
    ),
  };
}

/** "Try again" on a failed retrieval: recorded before the answer, started after it. */
export async function retry(value: Record<string, unknown>, caller: TurnCaller, deps: RetrievalConversationDeps, now: Date): Promise<Turn> {
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
      return say('I no longer have that retrieval. Please search for the patient again.');
    case 'not-failed':
      return say('That retrieval is no longer failed (it may already have been tried again). Type "my retrievals" to see where it is.');
    case 'requested':
      break;
  }
  return {
    replies: [{ text: 'Trying again...' }],
    followUp: followUp(async () => {
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
        case 'cancelled':
          return [{ text: '✖️ It was cancelled while it was starting.' }];
        case 'failed':
          return [{ text: `❌ It could not start: the PACS ${failureWords(outcome.reason)}.` }];
      }
    }),
  };
}
