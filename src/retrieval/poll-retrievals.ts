/**
 * Following retrievals until they end: one poll cycle starts what no turn is starting, asks the PACS
 * for every active job at once, and settles the ones that ended (a success checked against the
 * local instance count; a job gone too long timed out). Every outcome audited.
 */
import type { PacsJobStatus } from '../ports/pacs-port';
import type { Retrieval } from '../ports/store-port';
import { auditEvent } from './audit-events';
import { startRecorded } from './confirm-retrievals';
import type { RetrievalDeps } from './retrieval-deps';

/** A 'requested' retrieval older than this was not started by the turn that recorded it (a crash, a database error): the poll starts it. */
export const stalledAfterMs = 60_000;

/**
 * When the current attempt of a retrieval in 'retrieving' started, in epoch ms: it has not changed
 * since it moved there (requested -> retrieving is its last transition), so its updatedAt says. A
 * "Try again" is a new attempt, so its job gets the whole timeout again.
 */
export function attemptStartedMs(retrieval: Retrieval): number {
  return Date.parse(retrieval.updatedAt);
}

/** A retrieval that has just ended. */
export interface Settled {
  readonly retrieval: Retrieval;
}

/**
 * One poll cycle: starts the 'requested' retrievals no turn is starting (see `stalled` below), asks the
 * PACS for every active job in one request, settles the ones that ended (checking a success against the
 * local instance count), and returns those that changed.
 */
export async function pollRetrievals(deps: RetrievalDeps, now: Date, processStartedAt: Date | null = null): Promise<Settled[]> {
  const { pacs, store } = deps;
  const all = await store.activeRetrievals();
  // 'requested' and not moved on: a turn of a process that is gone (recorded before this one started), or one that stalled.
  const stalled = all.filter((r) => {
    if (r.state !== 'requested') return false;
    const updated = Date.parse(r.updatedAt);
    return now.getTime() - updated > stalledAfterMs || (processStartedAt !== null && updated < processStartedAt.getTime());
  });
  if (stalled.length > 0) await startRecorded(stalled, deps, now);
  const active = all.filter((r) => r.state === 'retrieving' && r.pacsJobId);
  if (active.length === 0) return [];
  const states = await pacs.retrievalStates(active.map((r) => r.pacsJobId!));
  const statusOf = (retrieval: Retrieval): PacsJobStatus => states.get(retrieval.pacsJobId!) ?? { state: 'unknown' };
  // Every study whose job ended (or vanished) is checked locally in one batched request, not one each.
  const ended = active.filter((r) => ['succeeded', 'unknown'].includes(statusOf(r).state)).map((r) => r.study.studyInstanceUid);
  const local = ended.length > 0 ? await pacs.localInstanceCounts(ended) : new Map<string, number>();
  const at = now.toISOString();
  const settled: Settled[] = [];
  for (const retrieval of active) {
    const status = statusOf(retrieval);
    const expected = retrieval.study.instanceCount ?? 1;
    let next: Retrieval | null = null;
    const overdue = deps.jobTimeoutMs !== undefined && now.getTime() - attemptStartedMs(retrieval) > deps.jobTimeoutMs;
    switch (status.state) {
      case 'pending':
      case 'running':
        if (overdue)
          next = await store.transition(retrieval.id, ['retrieving'], 'failed', at, {
            failureReason: 'timed-out',
            detail: 'the retrieval did not finish in time',
          });
        break;
      case 'succeeded':
      case 'unknown': {
        // A job the PACS forgot is settled by looking for the study itself.
        const count = local.get(retrieval.study.studyInstanceUid) ?? 0;
        if (count >= expected) {
          next = await store.transition(retrieval.id, ['retrieving'], 'stored', at, { detail: `${count} instances on the local PACS` });
        } else if (status.state === 'succeeded') {
          next = await store.transition(retrieval.id, ['retrieving'], 'failed', at, {
            failureReason: 'protocol',
            detail: `incomplete: ${count} of ${expected} instances`,
          });
        } else if (overdue) {
          // Forgotten and never arrived: it ends too, instead of saying "downloading" for ever.
          next = await store.transition(retrieval.id, ['retrieving'], 'failed', at, {
            failureReason: 'timed-out',
            detail: `the PACS no longer knows the job; ${count} of ${expected} instances arrived`,
          });
        }
        break;
      }
      case 'failed':
        next = await store.transition(retrieval.id, ['retrieving'], 'failed', at, { failureReason: status.reason ?? 'protocol' });
        break;
    }
    if (next) {
      await store.appendAudit(
        auditEvent(next.requester, now, {
          action: 'retrieval-outcome',
          nhsNumber: next.nhsNumber,
          site: next.site,
          studies: [next.study.studyInstanceUid],
          outcome: next.state === 'stored' ? 'stored' : `failed: ${next.failureReason ?? 'unknown'}`,
        }),
      );
      settled.push({ retrieval: next });
    }
  }
  return settled;
}
