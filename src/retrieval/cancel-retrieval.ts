/**
 * Cancelling a retrieval still downloading: the store decides (a compare-and-set to 'cancelled', so
 * a cancel and the poll's ending cannot both win), then the PACS is asked to stop the job. A
 * cancelled retrieval owes no notification, whatever the PACS job does afterwards. Audited.
 */
import { PacsError, type PacsCancelOutcome } from '../ports/pacs-port';
import type { Requester, Retrieval } from '../ports/store-port';
import { auditEvent } from './audit-events';
import type { RetrievalDeps } from './retrieval-deps';
import { activeStates } from './retrieval-states';

/** What the PACS said to the cancel: its outcome, 'not-started' (no job yet) or 'unanswered' (it could not be asked). */
export type PacsCancelReply = PacsCancelOutcome | 'not-started' | 'unanswered';

/** What a cancel did. */
export type CancelOutcome =
  | { readonly kind: 'cancelled'; readonly retrieval: Retrieval; readonly pacs: PacsCancelReply }
  /** It had ended (stored, failed, or cancelled already) before the cancel: nothing changed. */
  | { readonly kind: 'already-ended'; readonly retrieval: Retrieval }
  /** The store holds no such retrieval of this clinician's. */
  | { readonly kind: 'gone' };

/**
 * Cancels one of the requester's retrievals that has not ended. The store's move to 'cancelled' is
 * the decision: from then on the poll cannot settle it (its move from 'retrieving' finds it gone) and
 * no completion or failure message is owed. Then the PACS is asked to stop the job; what it said is
 * returned for the clinician (a transfer under way may still finish: the images may then arrive).
 */
export async function cancelRetrieval(retrievalId: string, requester: Requester, deps: RetrievalDeps, now: Date): Promise<CancelOutcome> {
  const { pacs, store } = deps;
  const current = await store.getRetrieval(retrievalId);
  // Only the clinician who asked may cancel: the card is theirs, and so is the notification.
  if (!current || current.requester.teamsUserId !== requester.teamsUserId) return { kind: 'gone' };
  if (!activeStates.includes(current.state)) return { kind: 'already-ended', retrieval: current };
  const cancelled = await store.transition(retrievalId, activeStates, 'cancelled', now.toISOString(), {
    detail: 'cancelled by the clinician',
  });
  if (!cancelled) {
    // The poll (or another press) ended it first: that outcome stands.
    return { kind: 'already-ended', retrieval: (await store.getRetrieval(retrievalId)) ?? current };
  }
  const reply = cancelled.pacsJobId ? await askPacs(() => pacs.cancelRetrieval(cancelled.pacsJobId!)) : 'not-started';
  await store.appendAudit(
    auditEvent(requester, now, {
      action: 'retrieval-cancelled',
      nhsNumber: cancelled.nhsNumber,
      site: cancelled.site,
      studies: [cancelled.study.studyInstanceUid],
      outcome: `cancelled while downloading; PACS job: ${reply}`,
    }),
  );
  return { kind: 'cancelled', retrieval: cancelled, pacs: reply };
}

/** The PACS's answer to a cancel, or 'unanswered' when it could not be asked. */
async function askPacs(cancel: () => Promise<PacsCancelOutcome>): Promise<PacsCancelReply> {
  try {
    return await cancel();
  } catch (error) {
    if (error instanceof PacsError) return 'unanswered';
    throw error;
  }
}

/**
 * After a job was started for a retrieval whose move to 'retrieving' found it moved on: if it was
 * cancelled meanwhile (a cancel between the store's record and the PACS's answer), the job just
 * started is stopped too, so nothing is downloaded that nobody follows. Best effort: a PACS that
 * does not answer leaves a job the retrieval no longer watches. True when it was cancelled.
 */
export async function withdrawStartedJob(retrievalId: string, jobId: string, deps: RetrievalDeps): Promise<boolean> {
  const now = await deps.store.getRetrieval(retrievalId);
  if (now?.state !== 'cancelled') return false;
  await askPacs(() => deps.pacs.cancelRetrieval(jobId));
  return true;
}
