/**
 * Retrievals through Orthanc: a C-MOVE started as an asynchronous job through
 * /queries/{id}/answers/{n}/retrieve, the states of those jobs from /jobs, and their cancelling.
 */
import { z } from 'zod';
import type { PacsSite } from '../../config/config';
import { PacsError, type PacsCancelOutcome, type PacsJobStatus } from '../../ports/pacs-port';
import { nhsNumberPattern, text, uidPattern } from './orthanc-dicom';
import { classifyDetails, created, describeWhere, type OrthancCall } from './orthanc-http';
import { holdsNhsNumber, runStudyQuery } from './orthanc-queries';

const job = z.object({
  ID: z.string(),
  State: z.string(),
  ErrorCode: z.number().optional(),
  ErrorDetails: z.string().optional(),
  ErrorDescription: z.string().optional(),
});

/** The job states of Orthanc's job engine (1.10). */
type OrthancJobState = 'Pending' | 'Running' | 'Paused' | 'Retry' | 'Success' | 'Failure';
const orthancJobStates: readonly string[] = ['Pending', 'Running', 'Paused', 'Retry', 'Success', 'Failure'] satisfies OrthancJobState[];

function isOrthancJobState(state: string): state is OrthancJobState {
  return orthancJobStates.includes(state);
}

/** The timeouts a retrieval runs with. */
export interface RetrievalTimeouts {
  /** Timeout of the C-FIND that finds the study again, in ms. */
  readonly requestTimeoutMs: number;
  /** DICOM network timeout of the C-MOVE, in whole seconds. */
  readonly retrievalTimeoutS: number;
}

/**
 * Starts the C-MOVE of one study of the patient from `site` to `localAet`; returns Orthanc's job id.
 * A study the site does not hold for this patient (or an id that is not a UID) is 'not-found'.
 */
export async function startRetrieval(
  call: OrthancCall,
  site: PacsSite,
  localAet: string,
  timeouts: RetrievalTimeouts,
  nhsNumber: string,
  studyInstanceUid: string,
): Promise<string> {
  const notFound = new PacsError('not-found', `${describeWhere(site.site)} holds no such study for this patient`, site.site);
  if (!nhsNumberPattern.test(nhsNumber) || !uidPattern.test(studyInstanceUid) || studyInstanceUid.length > 64) throw notFound;
  // A fresh C-FIND every time: Orthanc keeps query ids in memory only, so a stored one may be gone.
  const { queryId, answers } = await runStudyQuery(
    call,
    site,
    { StudyInstanceUID: studyInstanceUid, [site.nhsNumberAttribute]: nhsNumber },
    timeouts.requestTimeoutMs,
  );
  const index = answers.findIndex(
    (answer) => text(answer, 'StudyInstanceUID') === studyInstanceUid && holdsNhsNumber(answer, site, nhsNumber),
  );
  if (index < 0) throw notFound;
  const retrieve = { TargetAet: localAet, Asynchronous: true, Timeout: timeouts.retrievalTimeoutS };
  const { ID } = await call('POST', `/queries/${encodeURIComponent(queryId)}/answers/${index}/retrieve`, created, site.site, retrieve);
  return ID;
}

/** The state of each job in `jobIds`; 'unknown' for a job Orthanc does not know. */
export async function retrievalStates(call: OrthancCall, jobIds: readonly string[]): Promise<ReadonlyMap<string, PacsJobStatus>> {
  const states = new Map<string, PacsJobStatus>();
  if (jobIds.length === 0) return states;
  // One request for all jobs, whatever their number: the poller costs the PACS one call per cycle.
  const jobs = await call('GET', '/jobs?expand', z.array(job), null);
  const byId = new Map(jobs.map((j) => [j.ID, j]));
  for (const id of jobIds) {
    const found = byId.get(id);
    states.set(id, found ? jobStatus(found) : { state: 'unknown' });
  }
  return states;
}

function jobStatus(found: z.infer<typeof job>): PacsJobStatus {
  if (!isOrthancJobState(found.State)) return { state: 'unknown' };
  switch (found.State) {
    case 'Pending':
    case 'Paused':
    case 'Retry':
      return { state: 'pending' };
    case 'Running':
      return { state: 'running' };
    case 'Success':
      return { state: 'succeeded' };
    case 'Failure':
      // Orthanc's C-MOVE SCP answers 0xC000 "resource not found ?" for every failure, so only the
      // network failures are told apart; the rest is a generic protocol failure.
      return { state: 'failed', reason: classifyDetails(found.ErrorDetails ?? '') };
  }
}

/** Orthanc's error code of a job that was cancelled (ErrorCode 37, "This job was canceled"). */
const canceledJob = 37;

/** What one job's record says, for a cancel: ended (how), or still to stop. */
function cancelOutcome(found: z.infer<typeof job>): PacsCancelOutcome | null {
  switch (found.State) {
    case 'Success':
      return 'finished';
    case 'Failure':
      return found.ErrorCode === canceledJob ? 'cancelled' : 'failed';
    default:
      return null;
  }
}

/**
 * Cancels one retrieval job: a job already ended is left as it is and said to be so; otherwise
 * `POST /jobs/{id}/cancel`, then the job is read again. Orthanc cancels a pending job at once but
 * cannot interrupt a C-MOVE blocked in network I/O: that one ends at its DICOM timeout ('stopping').
 */
export async function cancelRetrieval(call: OrthancCall, jobId: string): Promise<PacsCancelOutcome> {
  const path = `/jobs/${encodeURIComponent(jobId)}`;
  const read = async (): Promise<z.infer<typeof job> | null> => {
    try {
      return await call('GET', path, job, null);
    } catch (error) {
      if (error instanceof PacsError && error.reason === 'not-found') return null;
      throw error;
    }
  };
  const before = await read();
  if (!before) return 'unknown';
  const ended = cancelOutcome(before);
  if (ended) return ended;
  await call('POST', `${path}/cancel`, z.object({}).passthrough(), null, {});
  const after = await read();
  return after ? (cancelOutcome(after) ?? 'stopping') : 'unknown';
}
