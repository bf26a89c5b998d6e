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

/**
 * What the PACS said to the cancel: its outcome; 'not-started' (no job yet: the start, when it
 * comes, finds the retrieval cancelled and stops its job); or 'unanswered' (it could not be asked).
 */
export type PacsCancelReply = PacsCancelOutcome | 'not-started' | 'unanswered';

/** What a cancel did. */
export type CancelOutcome =
  | { readonly kind: 'cancelled'; readonly retrieval: Retrieval; readonly pacs: PacsCancelReply }
  /** It had ended (stored, failed, or cancelled already) before the cancel: nothing changed. */
  | { readonly kind: 'already-ended'; readonly retrieval: Retrieval }
  /** The PACS had already finished the job: too late; the poll checks it and announces it as usual. */
  | { readonly kind: 'already-finished'; readonly retrieval: Retrieval }
  /** Another clinician asked for this study while it downloaded, and is waiting for it too: not cancelled. */
  | { readonly kind: 'shared'; readonly retrieval: Retrieval }
  /** The store holds no such retrieval of this clinician's. */
  | { readonly kind: 'gone' };

/**
 * Cancels one of the requester's retrievals that has not ended. A job the PACS has already finished
 * is not cancelled (the images are there: the poll checks and announces them), nor is a download
 * another clinician joined (their confirmation found it downloading and started nothing of its own).
 * Otherwise the store's move to 'cancelled' is the decision, audited at once: from then on the poll
 * cannot settle it and no completion or failure message is owed. Then the PACS is asked to stop the
 * job, and what it said is audited and returned for the clinician (a transfer under way may still
 * finish: the images may then arrive).
 */
export async function cancelRetrieval(retrievalId: string, requester: Requester, deps: RetrievalDeps, now: Date): Promise<CancelOutcome> {
  const { pacs, store } = deps;
  const current = await store.getRetrieval(retrievalId);
  // Only the clinician who asked may cancel: the card is theirs, and so is the notification.
  if (!current || current.requester.teamsUserId !== requester.teamsUserId) return { kind: 'gone' };
  if (!activeStates.includes(current.state)) return { kind: 'already-ended', retrieval: current };
  if (await joinedByOthers(current, deps)) return { kind: 'shared', retrieval: current };
  if (current.pacsJobId && (await jobFinished(current.pacsJobId, deps))) return { kind: 'already-finished', retrieval: current };
  const cancelled = await store.transition(retrievalId, activeStates, 'cancelled', now.toISOString(), {
    detail: 'cancelled by the clinician',
  });
  if (!cancelled) {
    // The poll (or another press) ended it first: that outcome stands.
    return { kind: 'already-ended', retrieval: (await store.getRetrieval(retrievalId)) ?? current };
  }
  const audit = (outcome: string) =>
    store.appendAudit(
      auditEvent(requester, now, {
        action: 'retrieval-cancelled',
        nhsNumber: cancelled.nhsNumber,
        site: cancelled.site,
        studies: [cancelled.study.studyInstanceUid],
        outcome,
      }),
    );
  await audit('cancelled while downloading');
  const reply = cancelled.pacsJobId ? await askPacs(() => pacs.cancelRetrieval(cancelled.pacsJobId!)) : 'not-started';
  await audit(`PACS job: ${reply}`);
  return { kind: 'cancelled', retrieval: cancelled, pacs: reply };
}

/** True when the PACS says the job has already succeeded (a PACS that does not answer says nothing). */
async function jobFinished(jobId: string, deps: RetrievalDeps): Promise<boolean> {
  try {
    return (await deps.pacs.retrievalStates([jobId])).get(jobId)?.state === 'succeeded';
  } catch (error) {
    if (error instanceof PacsError) return false;
    throw error;
  }
}

/**
 * True when another clinician's confirmation found this retrieval downloading and joined it (the
 * audit's 'already-downloading' line for the study and site, since the retrieval was created).
 */
async function joinedByOthers(retrieval: Retrieval, deps: RetrievalDeps): Promise<boolean> {
  const since = await deps.store.auditSince(retrieval.createdAt);
  return since.some(
    (event) =>
      event.action === 'retrieval-confirmed' &&
      event.outcome === 'already-downloading' &&
      event.site === retrieval.site &&
      event.studies.includes(retrieval.study.studyInstanceUid) &&
      event.teamsUserId !== retrieval.requester.teamsUserId,
  );
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

/** True when the retrieval has been cancelled (read afresh: a cancel may have come since it was loaded). */
export async function wasCancelled(retrievalId: string, deps: RetrievalDeps): Promise<boolean> {
  return (await deps.store.getRetrieval(retrievalId))?.state === 'cancelled';
}

/**
 * After a job was started for a retrieval whose move to 'retrieving' found it moved on: if it was
 * cancelled meanwhile (a cancel between the check before the start and the PACS's answer), the job
 * just started is stopped too, so nothing is downloaded that nobody follows, and what the PACS said
 * is audited. Best effort: a PACS that does not answer leaves a job the retrieval no longer watches.
 * True when it was cancelled.
 */
export async function withdrawStartedJob(retrieval: Retrieval, jobId: string, deps: RetrievalDeps, now: Date): Promise<boolean> {
  if (!(await wasCancelled(retrieval.id, deps))) return false;
  const reply = await askPacs(() => deps.pacs.cancelRetrieval(jobId));
  await deps.store.appendAudit(
    auditEvent(retrieval.requester, now, {
      action: 'retrieval-cancelled',
      nhsNumber: retrieval.nhsNumber,
      site: retrieval.site,
      studies: [retrieval.study.studyInstanceUid],
      outcome: `PACS job started after the cancel: ${reply}`,
    }),
  );
  return true;
}
