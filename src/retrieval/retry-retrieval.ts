/**
 * "Try again" on a failed retrieval: recorded (failed -> requested) before the clinician is answered,
 * then started at the PACS after the answer; audited like a confirmation.
 */
import { PacsError, type PacsErrorReason } from '../ports/pacs-port';
import type { Requester, Retrieval } from '../ports/store-port';
import { auditEvent } from './audit-events';
import { wasCancelled, withdrawStartedJob } from './cancel-retrieval';
import type { RetrievalDeps } from './retrieval-deps';

/** What starting a recorded "Try again" did. */
export type RetryOutcome =
  | { readonly kind: 'started'; readonly retrieval: Retrieval }
  | { readonly kind: 'cancelled' }
  | { readonly kind: 'failed'; readonly reason: PacsErrorReason };

/** What "Try again" found before anything was started. */
export type RetryRequest =
  { readonly kind: 'requested'; readonly retrieval: Retrieval } | { readonly kind: 'not-failed' } | { readonly kind: 'gone' };

/**
 * Records a "Try again" (failed -> requested), audited like a confirmation, before the clinician is
 * answered: once they see "Trying again", a crash cannot lose it (the poll starts a stalled
 * 'requested' retrieval).
 */
export async function requestRetry(retrievalId: string, requester: Requester, deps: RetrievalDeps, now: Date): Promise<RetryRequest> {
  const { store } = deps;
  // A retrieval the store no longer holds (a card from before a clean-up) cannot be tried again.
  if (!(await store.getRetrieval(retrievalId))) return { kind: 'gone' };
  const requested = await store.transition(retrievalId, ['failed'], 'requested', now.toISOString(), { detail: 'try again' });
  if (!requested) return { kind: 'not-failed' };
  await store.appendAudit(
    auditEvent(requester, now, {
      action: 'retrieval-confirmed',
      nhsNumber: requested.nhsNumber,
      site: requested.site,
      studies: [requested.study.studyInstanceUid],
      outcome: 'try-again',
    }),
  );
  return { kind: 'requested', retrieval: requested };
}

/** Starts a retrieval "Try again" recorded (requested -> retrieving); a PACS that will not start it fails it again. */
export async function startRetry(requested: Retrieval, requester: Requester, deps: RetrievalDeps, now: Date): Promise<RetryOutcome> {
  const { pacs, store } = deps;
  const at = now.toISOString();
  const uid = requested.study.studyInstanceUid;
  // Cancelled since "Trying again..." was said: nothing is started.
  if (await wasCancelled(requested.id, deps)) return { kind: 'cancelled' };
  try {
    const jobId = await pacs.startRetrieval(requested.site, requested.nhsNumber, uid);
    const started = await store.transition(requested.id, ['requested'], 'retrieving', at, { pacsJobId: jobId });
    if (!started && (await withdrawStartedJob(requested, jobId, deps, now))) return { kind: 'cancelled' };
    return { kind: 'started', retrieval: started ?? requested };
  } catch (error) {
    const reason = error instanceof PacsError ? error.reason : 'protocol';
    const failed = await store.transition(requested.id, ['requested'], 'failed', at, {
      failureReason: reason,
      detail: 'the PACS did not start the retrieval',
    });
    // Cancelled meanwhile: that is its one outcome, not a failure.
    if (!failed && (await wasCancelled(requested.id, deps))) return { kind: 'cancelled' };
    await store.appendAudit(
      auditEvent(requester, now, {
        action: 'retrieval-outcome',
        nhsNumber: requested.nhsNumber,
        site: requested.site,
        studies: [uid],
        outcome: `failed: ${reason}`,
      }),
    );
    return { kind: 'failed', reason };
  }
}
