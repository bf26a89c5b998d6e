/**
 * The status card of a confirmation (every study confirmed on it, each with where it is now, a
 * "Cancel download" button for each still downloading and "Open images" for each stored) and the
 * "Cancel download" press itself, from the status card or from "my retrievals".
 */
import { DateTime } from 'luxon';
import { plainText } from '../cards/plain-text';
import { noticeCard } from '../cards/step-cards';
import type { ButtonData } from '../cards/card-models';
import { trustName } from '../domain/guide/guide';
import { viewerLink } from '../domain/viewer/viewer-link';
import type { Retrieval } from '../ports/store-port';
import { cancelRetrieval, type PacsCancelReply } from '../retrieval/cancel-retrieval';
import { retrievalsOnCard } from '../retrieval/retrieval-history';
import { activeStates } from '../retrieval/retrieval-states';
import { checkCard, isTurn, say, type RetrievalConversationDeps, type TurnCaller } from './retrieval-context';
import type { CancelDownloadToken } from './retrieval-offers';
import { longDate, stateWords, studyLine } from './retrieval-words';
import type { Reply, Turn } from './turn';

/** "Open images" for a stored study, when a viewer is configured. */
export function openImages(deps: RetrievalConversationDeps, retrieval: Retrieval): Array<{ title: string; url: string }> {
  const url =
    retrieval.state === 'stored'
      ? viewerLink(deps.viewerUrlTemplate, retrieval.study.studyInstanceUid, retrieval.study.accessionNumber)
      : null;
  return url ? [{ title: 'Open images', url }] : [];
}

/** A study in a button's title: its description and date, no patient identifier. */
function studyTitle(retrieval: Retrieval, deps: RetrievalConversationDeps): string {
  return `${plainText(retrieval.study.description) || 'study'} (${longDate(retrieval.study.date, deps.zone)})`;
}

/**
 * "Cancel download" for each retrieval not yet ended; `page` says which page of "my retrievals" the
 * button is on (absent on the status card), so that page can be shown again after the press.
 */
export function cancelButtons(retrievals: readonly Retrieval[], deps: RetrievalConversationDeps, page?: number): ButtonData[] {
  return retrievals
    .filter((r) => activeStates.includes(r.state))
    .map((r) => {
      const token: CancelDownloadToken = {
        v: 2,
        kind: 'cancel-download',
        retrievalId: r.id,
        user: r.requester.teamsUserId,
        conversation: r.requester.conversationId,
        ...(page === undefined ? {} : { page }),
      };
      return { title: `Cancel download: ${studyTitle(r, deps)}`, data: { isa: 'cancel-download', offer: deps.signer.sign(token) } };
    });
}

/** The status card of the retrievals confirmed on one card: where each is now, and what can be done. */
export function statusCard(
  deps: RetrievalConversationDeps,
  title: string,
  preface: readonly string[],
  retrievals: readonly Retrieval[],
): Reply {
  return {
    card: noticeCard(
      title,
      [
        ...preface,
        ...retrievals.map((r) => `${studyLine(r.study, deps.zone)} · ${trustName(deps.guide, r.site)} · ${stateWords[r.state]}`),
      ],
      deps.guide,
      deps.cards,
      retrievals.flatMap((r) =>
        openImages(deps, r).map((link) => ({ ...link, title: `Open images: ${plainText(r.study.description) || 'study'}` })),
      ),
      cancelButtons(retrievals, deps),
    ),
  };
}

/** What the PACS's answer to a cancel means for the clinician. */
function pacsWords(reply: PacsCancelReply): string {
  switch (reply) {
    case 'cancelled':
      return 'The download was stopped.';
    case 'not-started':
      return 'It had not started at the PACS yet, and now it will not (one that starts meanwhile is stopped).';
    case 'stopping':
      return (
        'The PACS was part-way through a transfer it cannot interrupt, so some or all of the images may still ' +
        'arrive on UH Bristol PACS.'
      );
    case 'finished':
      return 'The PACS had already finished the download, so the images may already be on UH Bristol PACS.';
    case 'failed':
      return 'The download had already failed at the PACS.';
    case 'unknown':
      return 'The PACS no longer knows this download, so I cannot tell whether any images arrived.';
    case 'unanswered':
      return 'UH Bristol PACS did not answer, so the download may still finish there.';
  }
}

/** `text` with its first letter a capital (a study description may start in lower case). */
function capitalised(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}

/** Words for a retrieval that ended before the cancel came. */
function endedWords(retrieval: Retrieval, what: string): string {
  switch (retrieval.state) {
    case 'stored':
      return `Too late to cancel: ${what} had already arrived on UH Bristol PACS.`;
    case 'failed':
      return `Nothing to cancel: ${what} had already failed.`;
    case 'cancelled':
      return `${capitalised(what)} was already cancelled.`;
    case 'requested':
    case 'retrieving':
      return `${capitalised(what)} is still downloading; try Cancel again.`;
  }
}

/** The card pressed, brought up to date: the status card it was, or the page of "my retrievals". */
async function refreshedCard(
  retrieval: Retrieval,
  token: CancelDownloadToken,
  caller: TurnCaller,
  deps: RetrievalConversationDeps,
  list: (page: number) => Promise<Reply>,
): Promise<Reply | undefined> {
  if (token.page !== undefined) return list(token.page);
  if (retrieval.cardActivityId === null || retrieval.cardActivityId !== caller.pressedActivityId) return undefined;
  return statusCard(deps, 'Retrieval status', [], await retrievalsOnCard(deps.store, retrieval));
}

/** "Cancel download": the retrieval cancelled (the store decides), the PACS asked to stop, and the outcome said back. */
export async function cancelDownload(
  value: Record<string, unknown>,
  caller: TurnCaller,
  deps: RetrievalConversationDeps,
  now: Date,
  list: (page: number) => Promise<Reply>,
): Promise<Turn> {
  const signed = deps.signer.verify(value.offer) as Partial<CancelDownloadToken> | null;
  const token = await checkCard(
    signed && signed.v === 2 && signed.kind === 'cancel-download' ? (signed as CancelDownloadToken) : null,
    caller,
    deps,
    now,
    null,
  );
  if (isTurn(token)) return token;
  const outcome = await cancelRetrieval(token.retrievalId, caller.requester, deps, now);
  if (outcome.kind === 'gone') return say('I no longer have that retrieval. Type "my retrievals" to see yours.');
  const r = outcome.retrieval;
  const what = `${plainText(r.study.description) || 'the study'} from ${trustName(deps.guide, r.site)}`;
  const at = DateTime.fromJSDate(now, { zone: deps.zone }).toFormat('HH:mm');
  let text: string;
  switch (outcome.kind) {
    case 'cancelled':
      text = `✖️ Cancelled at ${at}: ${what}. ${pacsWords(outcome.pacs)} You will not get a message about it.`;
      break;
    case 'already-finished':
      text =
        `Too late to cancel: the PACS has already finished downloading ${what}. ` +
        'I will tell you as usual once UH Bristol PACS is checked to hold it.';
      break;
    case 'shared':
      text =
        `Not cancelled: another clinician asked for ${what} while it was downloading and is waiting for it too. ` +
        'You will still get a message when it arrives.';
      break;
    case 'already-ended':
      text = endedWords(r, what);
      break;
  }
  return { replies: [{ text }], updatePressedCard: await refreshedCard(r, token, caller, deps, list) };
}
