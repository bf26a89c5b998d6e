/**
 * The Orthanc PACS adapter: UH Bristol's PACS and its peer-to-peer links, driven through the REST API
 * of the trust's Orthanc DICOM gateway. Remote sites are Orthanc "modalities": C-FIND through
 * /modalities/{M}/query, C-MOVE as asynchronous jobs through /queries/{id}/answers/{n}/retrieve,
 * job states from /jobs. See the lab recipe (orthanc-lab/RECIPE.md) for the behaviour relied on here.
 *
 * Nothing patient-identifying goes into an error message: only site ids, HTTP and Orthanc status codes.
 */
import { z } from 'zod';
import type { PacsSite } from '../../config/config';
import { recordNhsNumber } from '../../domain/patients/nhs-number';
import {
  PacsError,
  type LocalPatientRecord,
  type RemoteStudies,
  type PacsErrorReason,
  type PacsJobStatus,
  type PacsPort,
  type PatientIdentity,
  type PatientSearch,
  type SiteId,
  type StudySummary,
} from '../../ports/pacs-port';

/** How to reach Orthanc and which sites it links to. */
export interface OrthancPacsOptions {
  /** Base URL of Orthanc's REST API (e.g. http://127.0.0.1:8042). */
  readonly url: string;
  /** HTTP Basic credentials; an empty username sends none. */
  readonly username: string;
  readonly password: string;
  /** AE title of UH Bristol's PACS: where retrieved studies are sent (the C-MOVE destination). */
  readonly localAet: string;
  readonly sites: readonly PacsSite[];
  /** Abort timeout of each REST call that is not a remote C-FIND (default 15 s). */
  readonly requestTimeoutMs?: number;
  /**
   * DICOM network timeout given to Orthanc for the C-MOVE of a retrieval (default 30 s): a peer that
   * stalls longer fails the job instead of leaving it running forever.
   */
  readonly retrievalTimeoutMs?: number;
}

const defaultRequestTimeoutMs = 15_000;
const defaultRetrievalTimeoutMs = 30_000;
/** Studies per local-count query (about 65 bytes of UID each; keeps requests and replies modest). */
const countBatchSize = 200;
/** How much longer than Orthanc's own DICOM timeout we wait, so Orthanc usually reports the timeout itself. */
const abortGraceMs = 1_000;

// Responses are parsed, not trusted: a shape we do not expect is a 'protocol' error, never a crash.
const tags = z.record(z.string(), z.unknown());
const created = z.object({ ID: z.string().min(1) });
const studyResource = z.object({
  ID: z.string(),
  ParentPatient: z.string(),
  MainDicomTags: tags.default({}),
  PatientMainDicomTags: tags.default({}),
});
const seriesResource = z.object({
  ParentStudy: z.string(),
  MainDicomTags: tags.default({}),
  Instances: z.array(z.string()).default([]),
});
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

/** Ten digits: the only NHS-number shape we pass to a PACS (it also keeps DICOM wildcards out). */
const nhsNumberPattern = /^\d{10}$/;
/** A DICOM UID: digits and dots, at most 64 characters. */
const uidPattern = /^[0-9]+(\.[0-9]+)*$/;
/** Characters with a meaning in DICOM matching (wildcards, value and component separators). */
const dicomSpecial = /[*?\\^]/g;

/** Where a failure happened: null = Orthanc itself (UH Bristol), otherwise the remote site. */
type Where = SiteId | null;

function describeWhere(where: Where): string {
  return where === null ? "UH Bristol's Orthanc gateway" : `the PACS at ${where}`;
}

/** Reads Orthanc's error wording (never put into our messages) to tell DICOM network failures apart. */
function classifyDetails(text: string): PacsErrorReason {
  if (/connection refused/i.test(text)) return 'unreachable';
  if (/time[d ]?\s?out/i.test(text)) return 'timed-out';
  if (/association rejected|rejected association|peer aborted/i.test(text)) return 'rejected';
  return 'protocol';
}

function networkMessage(reason: PacsErrorReason, where: Where): string {
  switch (reason) {
    case 'unreachable':
      return `${describeWhere(where)} could not be reached`;
    case 'timed-out':
      return `${describeWhere(where)} did not answer in time`;
    case 'rejected':
      return `${describeWhere(where)} refused the connection`;
    case 'not-found':
      return `${describeWhere(where)} does not hold what was asked for`;
    case 'unknown-site':
      return `no PACS link is configured for site ${where ?? '(none)'}`;
    case 'protocol':
      return `${describeWhere(where)} gave an answer that could not be used`;
  }
}

function text(record: Record<string, unknown>, key: string): string {
  const value = record[key];
  return typeof value === 'string' ? value.trim() : '';
}

/** A DICOM multi-valued string split into its values. */
function values(value: string): string[] {
  return value
    .split('\\')
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

/** DICOM DA (YYYYMMDD) to YYYY-MM-DD; null when absent or not a date. */
function isoDate(value: string): string | null {
  const match = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  return match ? `${match[1]}-${match[2]}-${match[3]}` : null;
}

function count(value: string): number | null {
  return /^\d+$/.test(value) ? Number(value) : null;
}

/** Newest first; undated studies last; the study time breaks ties on the same day. */
function newestFirst(a: { date: string | null; time: string }, b: { date: string | null; time: string }): number {
  if (a.date !== b.date) {
    if (a.date === null) return 1;
    if (b.date === null) return -1;
    return a.date < b.date ? 1 : -1;
  }
  return a.time === b.time ? 0 : a.time < b.time ? 1 : -1;
}

function sortedStudies(studies: Array<StudySummary & { time: string }>): StudySummary[] {
  return studies.sort(newestFirst).map((s) => ({
    studyInstanceUid: s.studyInstanceUid,
    date: s.date,
    description: s.description,
    modalities: s.modalities,
    instanceCount: s.instanceCount,
  }));
}

/** Creates the Orthanc-backed PACS port. */
export function createOrthancPacs(options: OrthancPacsOptions): PacsPort {
  const base = options.url.replace(/\/+$/, '');
  const requestTimeoutMs = options.requestTimeoutMs ?? defaultRequestTimeoutMs;
  const retrievalTimeoutS = Math.max(1, Math.ceil((options.retrievalTimeoutMs ?? defaultRetrievalTimeoutMs) / 1000));
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.username !== '') {
    headers.authorization = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
  }
  const sites = new Map(options.sites.map((site) => [site.site, site]));

  /** One REST call; every failure becomes a PacsError attributed to `where`. */
  async function call<T>(
    method: 'GET' | 'POST',
    path: string,
    schema: z.ZodType<T, z.ZodTypeDef, unknown>,
    where: Where,
    body?: unknown,
    signal: AbortSignal = AbortSignal.timeout(requestTimeoutMs),
  ): Promise<T> {
    let status: number;
    let raw: string;
    try {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
      status = response.status;
      raw = await response.text();
    } catch {
      // Our own abort means the far end went quiet; anything else means Orthanc itself is not there.
      if (signal.aborted) {
        throw new PacsError('timed-out', networkMessage('timed-out', where), where);
      }
      throw new PacsError('unreachable', networkMessage('unreachable', null), null);
    }
    if (status < 200 || status > 299) throw httpError(status, raw, path, where);
    let data: unknown;
    try {
      data = JSON.parse(raw);
    } catch {
      throw new PacsError('protocol', `${describeWhere(null)} sent a reply that is not JSON (HTTP ${status})`, where);
    }
    const parsed = schema.safeParse(data);
    if (!parsed.success) {
      throw new PacsError('protocol', `${describeWhere(null)} sent a reply of an unexpected shape (HTTP ${status})`, where);
    }
    return parsed.data;
  }

  function httpError(status: number, raw: string, path: string, where: Where): PacsError {
    if (status === 401 || status === 403) {
      return new PacsError('rejected', `${describeWhere(null)} refused the bot's credentials (HTTP ${status})`, null);
    }
    let details = '';
    let orthancStatus: number | null = null;
    try {
      const parsed: unknown = JSON.parse(raw);
      if (parsed !== null && typeof parsed === 'object') {
        const error = parsed as Record<string, unknown>;
        details = `${text(error, 'Details')} ${text(error, 'Message')}`;
        orthancStatus = typeof error.OrthancStatus === 'number' ? error.OrthancStatus : null;
      }
    } catch {
      // Not Orthanc's JSON error shape: the HTTP status is all we have.
    }
    if (status === 404) {
      // Orthanc does not know the modality the site is configured with: a configuration gap, not a missing study.
      if (where !== null && path.startsWith('/modalities/')) {
        return new PacsError('unknown-site', `${describeWhere(null)} has no DICOM modality for site ${where}`, where);
      }
      return new PacsError('not-found', networkMessage('not-found', where), where);
    }
    const reason = classifyDetails(details);
    const code = orthancStatus === null ? '' : `, Orthanc status ${orthancStatus}`;
    return new PacsError(reason, `${networkMessage(reason, where)} (HTTP ${status}${code})`, where);
  }

  function siteOf(site: SiteId): PacsSite {
    const found = sites.get(site);
    if (!found) throw new PacsError('unknown-site', networkMessage('unknown-site', site), site);
    return found;
  }

  /**
   * A C-FIND at study level on the site through Orthanc; returns the answers, simplified (tag name ->
   * string). The HTTP request gets a little longer than the DICOM timeout, so a hung peer is reported
   * as timed out no later than about timeoutMs + 1 s even if Orthanc does not answer.
   */
  async function studyFind(
    site: PacsSite,
    query: Record<string, string>,
    timeoutMs: number,
  ): Promise<{ answers: Array<Record<string, unknown>>; withoutNhsNumber: number }> {
    const deadline = AbortSignal.timeout(timeoutMs + abortGraceMs);
    const body = { Level: 'Study', Query: query, Timeout: Math.max(1, Math.ceil(timeoutMs / 1000)) };
    const { ID } = await call('POST', `/modalities/${encodeURIComponent(site.modality)}/query`, created, site.site, body, deadline);
    const answers = await call(
      'GET',
      `/queries/${encodeURIComponent(ID)}/answers?expand&simplify`,
      z.array(tags),
      site.site,
      undefined,
      deadline,
    );
    // A peer that matches loosely must not hand us another patient's studies.
    const nhsNumber = query[site.nhsNumberAttribute] ?? '';
    // An answer with no NHS number at all cannot be positively identified: left out, and counted.
    const withoutNhsNumber = answers.filter((answer) => text(answer, site.nhsNumberAttribute) === '').length;
    return { answers: answers.filter((answer) => holdsNhsNumber(answer, site, nhsNumber)), withoutNhsNumber };
  }

  async function findStudies(query: Record<string, string>): Promise<Array<z.infer<typeof studyResource>>> {
    return call('POST', '/tools/find', z.array(studyResource), null, { Level: 'Study', Query: query, Expand: true });
  }

  /** Local patients from a set of studies (deduplicated by Orthanc study id), with modalities and counts. */
  async function localRecords(studies: Array<z.infer<typeof studyResource>>, query: Record<string, string>): Promise<LocalPatientRecord[]> {
    const unique = [...new Map(studies.map((s) => [s.ID, s])).values()];
    if (unique.length === 0) return [];
    // One series-level find gives every study's modalities and instance counts in a single request.
    const series = await call('POST', '/tools/find', z.array(seriesResource), null, { Level: 'Series', Query: query, Expand: true });
    const perStudy = new Map<string, { modalities: Set<string>; instances: number }>();
    for (const s of series) {
      const entry = perStudy.get(s.ParentStudy) ?? { modalities: new Set<string>(), instances: 0 };
      for (const modality of values(text(s.MainDicomTags, 'Modality'))) entry.modalities.add(modality);
      entry.instances += s.Instances.length;
      perStudy.set(s.ParentStudy, entry);
    }
    const patients = new Map<
      string,
      { identity: PatientIdentity; nhsNumberValues: string[]; studies: Array<StudySummary & { time: string }> }
    >();
    for (const study of unique) {
      let patient = patients.get(study.ParentPatient);
      if (!patient) {
        const nhsNumberValues = nhsNumberValuesOf(study.PatientMainDicomTags);
        patient = { identity: identityOf(study.PatientMainDicomTags, nhsNumberValues), nhsNumberValues, studies: [] };
      }
      const extra = perStudy.get(study.ID);
      patient.studies.push({
        studyInstanceUid: text(study.MainDicomTags, 'StudyInstanceUID'),
        date: isoDate(text(study.MainDicomTags, 'StudyDate')),
        time: text(study.MainDicomTags, 'StudyTime'),
        description: text(study.MainDicomTags, 'StudyDescription'),
        modalities: extra ? [...extra.modalities].sort() : [],
        instanceCount: extra ? extra.instances : null,
      });
      patients.set(study.ParentPatient, patient);
    }
    return [...patients.values()].map((p) => ({
      identity: p.identity,
      nhsNumberValues: p.nhsNumberValues,
      studies: sortedStudies(p.studies),
    }));
  }

  async function findByNhsNumber(nhsNumber: string): Promise<LocalPatientRecord[]> {
    if (!nhsNumberPattern.test(nhsNumber)) return [];
    const byPatientId = { PatientID: nhsNumber };
    // Some records keep a hospital number as PatientID and the NHS number among OtherPatientIDs
    // (a retired tag, so Orthanc only takes it by number); a wildcard finds it among several values.
    const byOtherIds = { '0010,1000': `*${nhsNumber}*` };
    const [first, second] = await Promise.all([findStudies(byPatientId), findStudies(byOtherIds)]);
    const others = second.filter((s) => values(text(s.PatientMainDicomTags, 'OtherPatientIDs')).includes(nhsNumber));
    const records = [...(await localRecords(first, byPatientId)), ...(await localRecords(others, byOtherIds))];
    // The same patient can turn up through both routes.
    return [...new Map(records.map((r) => [r.identity.localId, r])).values()];
  }

  async function findByDemographics(familyName: string, givenName: string, birthDate: string): Promise<LocalPatientRecord[]> {
    const family = familyName.replace(dicomSpecial, '').trim();
    const given = givenName.replace(dicomSpecial, '').trim();
    const dob = /^\d{4}-\d{2}-\d{2}$/.test(birthDate) ? birthDate.replace(/-/g, '') : '';
    // Without a whole name and a date of birth nothing can match (and a bare wildcard would match everyone).
    if (family === '' || given === '' || dob === '') return [];
    // Orthanc matches PatientName without regard to case; the trailing wildcard admits middle names,
    // which the exact check below then limits to "given name, optionally followed by more names".
    const query = { PatientName: `${family}^${given}*`, PatientBirthDate: dob };
    const records = await localRecords(await findStudies(query), query);
    const same = (a: string, b: string): boolean => a.localeCompare(b, 'en', { sensitivity: 'accent' }) === 0;
    return records.filter(
      (r) =>
        same(r.identity.familyName, family) && (same(r.identity.givenName, given) || same(r.identity.givenName.split(' ')[0] ?? '', given)),
    );
  }

  return {
    sites: () => options.sites.map((site) => site.site),

    async findLocalPatients(search: PatientSearch): Promise<LocalPatientRecord[]> {
      switch (search.kind) {
        case 'nhs-number':
          return findByNhsNumber(search.nhsNumber.replace(/\s+/g, ''));
        case 'demographics':
          return findByDemographics(search.familyName, search.givenName, search.birthDate);
      }
    },

    async queryRemoteStudies(siteId: SiteId, nhsNumber: string, timeoutMs: number): Promise<RemoteStudies> {
      const site = siteOf(siteId);
      if (!nhsNumberPattern.test(nhsNumber)) return { studies: [], withoutNhsNumber: 0 };
      const { answers, withoutNhsNumber } = await studyFind(
        site,
        {
          StudyDate: '',
          StudyTime: '',
          StudyDescription: '',
          ModalitiesInStudy: '',
          NumberOfStudyRelatedInstances: '',
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
          }))
          .filter((study) => study.studyInstanceUid !== ''),
      );
      return { studies, withoutNhsNumber };
    },

    async startRetrieval(siteId: SiteId, nhsNumber: string, studyInstanceUid: string): Promise<string> {
      const site = siteOf(siteId);
      const notFound = new PacsError('not-found', `${describeWhere(site.site)} holds no such study for this patient`, site.site);
      if (!nhsNumberPattern.test(nhsNumber) || !uidPattern.test(studyInstanceUid) || studyInstanceUid.length > 64) throw notFound;
      // A fresh C-FIND every time: Orthanc keeps query ids in memory only, so a stored one may be gone.
      const deadline = AbortSignal.timeout(requestTimeoutMs + abortGraceMs);
      const body = {
        Level: 'Study',
        Query: { StudyInstanceUID: studyInstanceUid, [site.nhsNumberAttribute]: nhsNumber },
        Timeout: Math.max(1, Math.ceil(requestTimeoutMs / 1000)),
      };
      const { ID: queryId } = await call(
        'POST',
        `/modalities/${encodeURIComponent(site.modality)}/query`,
        created,
        site.site,
        body,
        deadline,
      );
      const answers = await call(
        'GET',
        `/queries/${encodeURIComponent(queryId)}/answers?expand&simplify`,
        z.array(tags),
        site.site,
        undefined,
        deadline,
      );
      const index = answers.findIndex(
        (answer) => text(answer, 'StudyInstanceUID') === studyInstanceUid && holdsNhsNumber(answer, site, nhsNumber),
      );
      if (index < 0) throw notFound;
      const retrieve = { TargetAet: options.localAet, Asynchronous: true, Timeout: retrievalTimeoutS };
      const { ID } = await call('POST', `/queries/${encodeURIComponent(queryId)}/answers/${index}/retrieve`, created, site.site, retrieve);
      return ID;
    },

    async retrievalStates(jobIds: readonly string[]): Promise<ReadonlyMap<string, PacsJobStatus>> {
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
    },

    async ping(): Promise<void> {
      await call('GET', '/system', z.object({ Version: z.string() }).passthrough(), null);
    },

    async localInstanceCounts(studyInstanceUids: readonly string[]): Promise<ReadonlyMap<string, number>> {
      const counts = new Map(studyInstanceUids.map((uid) => [uid, 0]));
      // Only real UIDs go into the query: a wildcard or separator would widen the match.
      const wanted = [...counts.keys()].filter((uid) => uidPattern.test(uid) && uid.length <= 64);
      for (let start = 0; start < wanted.length; start += countBatchSize) {
        // DICOM list matching (UIDs joined by backslashes): two requests per batch however many studies it holds.
        const query = { StudyInstanceUID: wanted.slice(start, start + countBatchSize).join('\\') };
        const studies = await call('POST', '/tools/find', z.array(studyResource), null, { Level: 'Study', Query: query, Expand: true });
        if (studies.length === 0) continue;
        const uidOf = new Map(studies.map((study) => [study.ID, text(study.MainDicomTags, 'StudyInstanceUID')]));
        const series = await call('POST', '/tools/find', z.array(seriesResource), null, { Level: 'Series', Query: query, Expand: true });
        for (const one of series) {
          const uid = uidOf.get(one.ParentStudy);
          const sofar = uid === undefined ? undefined : counts.get(uid);
          if (uid !== undefined && sofar !== undefined) counts.set(uid, sofar + one.Instances.length);
        }
      }
      return counts;
    },
  };
}

/** The values where a record may keep an NHS number: PatientID, then each of OtherPatientIDs. */
function nhsNumberValuesOf(patient: Record<string, unknown>): string[] {
  return [text(patient, 'PatientID'), ...values(text(patient, 'OtherPatientIDs'))].filter((v) => v !== '');
}

/** Whether a peer's answer carries `nhsNumber` in the site's NHS-number attribute (one of its values). */
function holdsNhsNumber(answer: Record<string, unknown>, site: PacsSite, nhsNumber: string): boolean {
  return values(text(answer, site.nhsNumberAttribute)).includes(nhsNumber);
}

function identityOf(patient: Record<string, unknown>, nhsNumberValues: readonly string[]): PatientIdentity {
  const localId = text(patient, 'PatientID');
  const [family = '', given = ''] = text(patient, 'PatientName').split('^');
  const sex = text(patient, 'PatientSex').toUpperCase();
  // Only a value that passes Modulus 11 is an NHS number (a 10-digit hospital number is not); the use case decides.
  const held = recordNhsNumber(nhsNumberValues, null);
  const nhsNumber = held.kind === 'identified' ? held.nhsNumber : null;
  return {
    nhsNumber,
    localId,
    familyName: family.trim(),
    givenName: given.trim(),
    birthDate: isoDate(text(patient, 'PatientBirthDate')),
    sex: sex === 'F' || sex === 'M' || sex === 'O' ? sex : null,
  };
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
