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
import { longDate, studyLine, failureWords, stateWords, notice } from './retrieval-words';
import type { RetryToken } from './retrieval-offers';
import type { RetrievalConversationDeps } from './retrieval-context';
import type { Reply } from './turn';

/** The proactive messages owed by the outbox: the outcome, and the refreshed status card. */
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
    const who = `NHS ${formatNhsNumber(retrieval.nhsNumber)}`;
    const keptUntilWords = longDate(retrieval.keptUntil.slice(0, 10), deps.zone);
    const failure = (retrieval.failureReason ?? 'protocol') as PacsErrorReason;
    let message: Reply;
    switch (notification.kind) {
      case 'stored':
        message = {
          text: `✅ ${what}${images} is now on UH Bristol PACS (${who}), kept until ${keptUntilWords}.`,
        };
        break;
      case 'failed': {
        const token: RetryToken = {
          v: 2,
          kind: 'retry',
          retrievalId: retrieval.id,
          user: retrieval.requester.teamsUserId,
          conversation: retrieval.requester.conversationId,
        };
        message = {
          card: deps.cards.render('notice', {
            title: 'Retrieval failed',
            text: [`❌ ${what} (${who}) could not be retrieved: the PACS ${failureWords(failure)}.`],
            choices: [{ title: 'Try again', data: { isa: 'retry', offer: deps.signer.sign(token) } }],
            source: sourceLine(deps.guide),
          }),
        };
        break;
      }
    }
    // The status card lists every study confirmed on it, each with where it is now.
    let card: Reply | null = null;
    if (retrieval.cardActivityId) {
      const siblings = await retrievalsOnCard(deps.store, retrieval);
      card = notice(
        deps,
        'Retrieval status',
        siblings.map((r) => `${studyLine(r.study, deps.zone)} · ${trustName(deps.guide, r.site)} · ${stateWords[r.state]}`),
      );
    }
    return { message, card };
  };
}
