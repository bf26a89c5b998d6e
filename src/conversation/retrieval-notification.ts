/**
 * The text and card of a notification: a retrieval stored or failed, told to the clinician who asked,
 * with the status card of everything confirmed together brought up to date.
 */
import { plainText } from '../cards/plain-text';
import { sourceLine } from '../cards/step-cards';
import { trustName } from '../domain/guide/guide';
import { formatNhsNumber } from '../domain/patients/nhs-number';
import { type PacsErrorReason } from '../ports/pacs-port';
import { type Notification, type Retrieval } from '../ports/store-port';
import { retrievalsOnCard } from '../retrieval/retrieval-history';
import { openImages, statusCard } from './retrieval-status';
import { longDate, failureWords } from './retrieval-words';
import type { RetryToken } from './retrieval-offers';
import type { RetrievalConversationDeps } from './retrieval-context';
import type { Reply } from './turn';

/**
 * The proactive messages owed by the outbox: the outcome, and the refreshed status card. The text
 * (what a locked phone's notification shows) names the study, the site and the outcome in words and
 * no patient identifier; the NHS number is only in the card, in the 1:1 chat. Both ask Teams for a
 * feed alert.
 */
export function composeNotification(
  deps: RetrievalConversationDeps,
): (retrieval: Retrieval, notification: Notification) => Promise<{ message: Reply; card: Reply | null }> {
  return async (retrieval, notification) => {
    const what =
      `${plainText(retrieval.study.description) || 'Study'} from ` +
      `${trustName(deps.guide, retrieval.site)} (${longDate(retrieval.study.date, deps.zone)})`;
    const images =
      retrieval.study.instanceCount === null
        ? ''
        : `, ${retrieval.study.instanceCount} image${retrieval.study.instanceCount === 1 ? '' : 's'},`;
    const identity = [{ title: 'NHS number', value: formatNhsNumber(retrieval.nhsNumber) }];
    const keptUntilWords = longDate(retrieval.keptUntil.slice(0, 10), deps.zone);
    const failure = (retrieval.failureReason ?? 'protocol') as PacsErrorReason;
    let message: Reply;
    switch (notification.kind) {
      case 'stored': {
        const summary = `✅ ${what}${images} is now on UH Bristol PACS, kept until ${keptUntilWords}.`;
        message = {
          text: summary,
          card: deps.cards.render('retrieval-outcome', {
            title: 'Retrieved into UH Bristol PACS',
            summary,
            identity,
            links: openImages(deps, retrieval),
            choices: [],
            source: sourceLine(deps.guide),
          }),
          alert: true,
        };
        break;
      }
      case 'failed': {
        const token: RetryToken = {
          v: 2,
          kind: 'retry',
          retrievalId: retrieval.id,
          user: retrieval.requester.teamsUserId,
          conversation: retrieval.requester.conversationId,
        };
        const summary = `❌ ${what} could not be retrieved: the PACS ${failureWords(failure)}.`;
        message = {
          text: summary,
          card: deps.cards.render('retrieval-outcome', {
            title: 'Retrieval failed',
            summary,
            identity,
            links: [],
            choices: [{ title: 'Try again', data: { isa: 'retry', offer: deps.signer.sign(token) } }],
            source: sourceLine(deps.guide),
          }),
          alert: true,
        };
        break;
      }
    }
    // The status card lists every study confirmed on it, each with where it is now.
    const card = retrieval.cardActivityId ? statusCard(deps, 'Retrieval status', [], await retrievalsOnCard(deps.store, retrieval)) : null;
    return { message, card };
  };
}
