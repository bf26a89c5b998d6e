/**
 * C-FIND on a remote site through Orthanc: a study-level query through /modalities/{M}/query and its
 * answers from /queries/{id}/answers, with only the answers that positively carry the patient's NHS number kept.
 */
import { z } from 'zod';
import type { PacsSite } from '../../config/config';
import type { RemoteStudies } from '../../ports/pacs-port';
import { count, isoDate, nhsNumberPattern, sortedStudies, tags, text, values } from './orthanc-dicom';
import { created, type OrthancCall } from './orthanc-http';

/** How much longer than Orthanc's own DICOM timeout we wait, so Orthanc usually reports the timeout itself. */
const abortGraceMs = 1_000;

/** A study-level C-FIND's id in Orthanc (to retrieve an answer from) and its answers, simplified. */
export interface StudyQuery {
  readonly queryId: string;
  readonly answers: Array<Record<string, unknown>>;
}

/**
 * A C-FIND at study level on the site through Orthanc; returns the query's id and its answers,
 * simplified (tag name -> string). The HTTP requests get a little longer than the DICOM timeout, so
 * a hung peer is reported as timed out no later than about timeoutMs + 1 s even if Orthanc does not answer.
 */
export async function runStudyQuery(
  call: OrthancCall,
  site: PacsSite,
  query: Record<string, string>,
  timeoutMs: number,
): Promise<StudyQuery> {
  const deadline = AbortSignal.timeout(timeoutMs + abortGraceMs);
  const body = { Level: 'Study', Query: query, Timeout: Math.max(1, Math.ceil(timeoutMs / 1000)) };
  const { ID: queryId } = await call('POST', `/modalities/${encodeURIComponent(site.modality)}/query`, created, site.site, body, deadline);
  const answers = await call(
    'GET',
    `/queries/${encodeURIComponent(queryId)}/answers?expand&simplify`,
    z.array(tags),
    site.site,
    undefined,
    deadline,
  );
  return { queryId, answers };
}

/** Whether a peer's answer carries `nhsNumber` in the site's NHS-number attribute (one of its values). */
export function holdsNhsNumber(answer: Record<string, unknown>, site: PacsSite, nhsNumber: string): boolean {
  return values(text(answer, site.nhsNumberAttribute)).includes(nhsNumber);
}

/** A study-level C-FIND keeping only the answers for the queried patient, and how many had no NHS number. */
async function studyFind(
  call: OrthancCall,
  site: PacsSite,
  query: Record<string, string>,
  timeoutMs: number,
): Promise<{ answers: Array<Record<string, unknown>>; withoutNhsNumber: number }> {
  const { answers } = await runStudyQuery(call, site, query, timeoutMs);
  // A peer that matches loosely must not hand us another patient's studies.
  const nhsNumber = query[site.nhsNumberAttribute] ?? '';
  // An answer with no NHS number at all cannot be positively identified: left out, and counted.
  const withoutNhsNumber = answers.filter((answer) => text(answer, site.nhsNumberAttribute) === '').length;
  return { answers: answers.filter((answer) => holdsNhsNumber(answer, site, nhsNumber)), withoutNhsNumber };
}

/** The studies a remote site holds for the patient with `nhsNumber`, newest first. */
export async function queryRemoteStudies(call: OrthancCall, site: PacsSite, nhsNumber: string, timeoutMs: number): Promise<RemoteStudies> {
  if (!nhsNumberPattern.test(nhsNumber)) return { studies: [], withoutNhsNumber: 0 };
  const { answers, withoutNhsNumber } = await studyFind(
    call,
    site,
    {
      StudyDate: '',
      StudyTime: '',
      StudyDescription: '',
      ModalitiesInStudy: '',
      NumberOfStudyRelatedInstances: '',
      AccessionNumber: '',
      StudyInstanceUID: '',
      // Last, so a site whose NHS-number attribute is one of the keys above still queries by it.
      [site.nhsNumberAttribute]: nhsNumber,
    },
    timeoutMs,
  );
  const studies = sortedStudies(
    answers
      .map((answer) => ({
        studyInstanceUid: text(answer, 'StudyInstanceUID'),
        date: isoDate(text(answer, 'StudyDate')),
        time: text(answer, 'StudyTime'),
        description: text(answer, 'StudyDescription'),
        modalities: values(text(answer, 'ModalitiesInStudy')),
        instanceCount: count(text(answer, 'NumberOfStudyRelatedInstances')),
        accessionNumber: text(answer, 'AccessionNumber'),
      }))
      .filter((study) => study.studyInstanceUid !== ''),
  );
  return { studies, withoutNhsNumber };
}
