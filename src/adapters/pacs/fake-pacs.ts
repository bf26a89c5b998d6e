/**
 * An in-memory PACS that keeps the PacsPort contract: local patients, remote sites that can be
 * linked, slow, unreachable, hung or rejecting, and retrieval jobs that finish on a timer or when
 * a test says so. Used by tests, and (seeded with synthetic data) as the demo backend.
 */
import {
  PacsError,
  type LocalPatientRecord,
  type PacsCancelOutcome,
  type PacsJobStatus,
  type PacsPort,
  type PatientSearch,
  type RemoteStudies,
  type SiteId,
  type StudySummary,
} from '../../ports/pacs-port';

/** How a fake remote site behaves when queried or retrieved from. */
export type FakeSiteBehaviour = 'linked' | 'unreachable' | 'hung' | 'rejecting';

/** One fake remote site. */
export interface FakeSite {
  /** Studies held there, by NHS number. */
  readonly studies: Readonly<Record<string, readonly StudySummary[]>>;
  behaviour?: FakeSiteBehaviour;
  /** Answers without an NHS number that the site also gave (a real adapter leaves them out and counts them). */
  withoutNhsNumber?: number;
  /** Extra delay before a linked site answers, in ms. */
  delayMs?: number;
}

/** How the fake is set up. */
export interface FakePacsOptions {
  /** Local records; nhsNumberValues defaults to the local id and the identity's NHS number. */
  readonly local: ReadonlyArray<Omit<LocalPatientRecord, 'nhsNumberValues'> & { readonly nhsNumberValues?: readonly string[] }>;
  readonly sites: Readonly<Record<SiteId, FakeSite>>;
  /** When set, a retrieval finishes by itself after this many ms; otherwise a test calls completeJob/failJob. */
  readonly retrievalMs?: number;
}

interface FakeJob {
  readonly site: SiteId;
  readonly nhsNumber: string;
  readonly study: StudySummary;
  status: PacsJobStatus;
  /** Held in a transfer (holdTransfers): a cancel cannot stop it, as on Orthanc. */
  held: boolean;
  cancelled: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** The fake PACS, with controls for tests. */
export class FakePacs implements PacsPort {
  private readonly jobs = new Map<string, FakeJob>();
  private readonly localStudies = new Map<string, number>();
  private readonly local: Array<{ identity: LocalPatientRecord['identity']; studies: StudySummary[]; nhsNumberValues: string[] }>;
  private nextJob = 1;
  /** How many requests each method received (tests check one request per poll cycle). */
  readonly requests = {
    findLocalPatients: 0,
    queryRemoteStudies: 0,
    startRetrieval: 0,
    retrievalStates: 0,
    localInstanceCounts: 0,
    cancelRetrieval: 0,
  };
  /** Test control: new jobs are held in their transfer (see FakeJob.held) until releaseTransfers. */
  private holding = false;

  constructor(private readonly options: FakePacsOptions) {
    this.local = options.local.map((r) => ({
      identity: { ...r.identity },
      studies: [...r.studies],
      nhsNumberValues: [...(r.nhsNumberValues ?? [r.identity.localId, ...(r.identity.nhsNumber ? [r.identity.nhsNumber] : [])])],
    }));
    for (const record of this.local)
      for (const study of record.studies) this.localStudies.set(study.studyInstanceUid, study.instanceCount ?? 1);
  }

  sites(): readonly SiteId[] {
    return Object.keys(this.options.sites);
  }

  findLocalPatients(search: PatientSearch): Promise<LocalPatientRecord[]> {
    this.requests.findLocalPatients += 1;
    const matches = this.local.filter((r) =>
      search.kind === 'nhs-number'
        ? r.nhsNumberValues.includes(search.nhsNumber)
        : r.identity.familyName.toLowerCase() === search.familyName.toLowerCase() &&
          r.identity.givenName.toLowerCase() === search.givenName.toLowerCase() &&
          r.identity.birthDate === search.birthDate,
    );
    return Promise.resolve(
      matches.map((r) => ({ identity: { ...r.identity }, studies: [...r.studies], nhsNumberValues: [...r.nhsNumberValues] })),
    );
  }

  async queryRemoteStudies(site: SiteId, nhsNumber: string, timeoutMs: number): Promise<RemoteStudies> {
    this.requests.queryRemoteStudies += 1;
    const remote = this.options.sites[site];
    if (!remote) throw new PacsError('unknown-site', `no peer-to-peer site "${site}" is configured`, site);
    const behaviour = remote.behaviour ?? 'linked';
    switch (behaviour) {
      case 'unreachable':
        throw new PacsError('unreachable', `the ${site} PACS did not accept a connection`, site);
      case 'rejecting':
        throw new PacsError('rejected', `the ${site} PACS refused the association`, site);
      case 'hung':
        await sleep(timeoutMs);
        throw new PacsError('timed-out', `the ${site} PACS did not answer in time`, site);
      case 'linked':
        break;
    }
    if ((remote.delayMs ?? 0) >= timeoutMs) {
      await sleep(timeoutMs);
      throw new PacsError('timed-out', `the ${site} PACS did not answer in time`, site);
    }
    if (remote.delayMs) await sleep(remote.delayMs);
    const studies = [...(remote.studies[nhsNumber] ?? [])];
    return { studies: studies.sort((a, b) => (b.date ?? '').localeCompare(a.date ?? '')), withoutNhsNumber: remote.withoutNhsNumber ?? 0 };
  }

  startRetrieval(site: SiteId, nhsNumber: string, studyInstanceUid: string): Promise<string> {
    this.requests.startRetrieval += 1;
    const remote = this.options.sites[site];
    if (!remote) return Promise.reject(new PacsError('unknown-site', `no peer-to-peer site "${site}" is configured`, site));
    if ((remote.behaviour ?? 'linked') === 'unreachable') {
      return Promise.reject(new PacsError('unreachable', `the ${site} PACS did not accept a connection`, site));
    }
    const study = remote.studies[nhsNumber]?.find((s) => s.studyInstanceUid === studyInstanceUid);
    if (!study) return Promise.reject(new PacsError('not-found', `the study is not at ${site}`, site));
    const id = `fake-job-${this.nextJob++}`;
    this.jobs.set(id, { site, nhsNumber, study, status: { state: 'running' }, held: this.holding, cancelled: false });
    const ms = this.options.retrievalMs;
    if (ms !== undefined) {
      // A held job waits for its release before its timer may finish it.
      const finish = (): void => {
        if (this.jobs.get(id)?.held) setTimeout(finish, ms).unref();
        else this.completeJob(id);
      };
      setTimeout(finish, ms).unref();
    }
    return Promise.resolve(id);
  }

  retrievalStates(jobIds: readonly string[]): Promise<ReadonlyMap<string, PacsJobStatus>> {
    this.requests.retrievalStates += 1;
    return Promise.resolve(new Map(jobIds.map((id) => [id, this.jobs.get(id)?.status ?? { state: 'unknown' }])));
  }

  cancelRetrieval(jobId: string): Promise<PacsCancelOutcome> {
    this.requests.cancelRetrieval += 1;
    if (!this.reachable) return Promise.reject(new PacsError('unreachable', "UH Bristol's PACS could not be reached"));
    const job = this.jobs.get(jobId);
    if (!job) return Promise.resolve('unknown');
    switch (job.status.state) {
      case 'succeeded':
        return Promise.resolve('finished');
      case 'failed':
        return Promise.resolve(job.cancelled ? 'cancelled' : 'failed');
      case 'unknown':
        return Promise.resolve('unknown');
      case 'pending':
      case 'running':
        // Orthanc (1.10) cannot interrupt a C-MOVE in a transfer: once the link goes on, it succeeds.
        if (job.held) return Promise.resolve('stopping');
        job.status = { state: 'failed', reason: 'protocol' };
        job.cancelled = true;
        return Promise.resolve('cancelled');
    }
  }

  /** Test control: jobs started from now on are held in their transfer, as a peer that stops answering holds one. */
  holdTransfers(): void {
    this.holding = true;
  }

  /** Test control: held jobs go on (asked to cancel or not) and finish with completeJob, or by themselves. */
  releaseTransfers(): void {
    this.holding = false;
    for (const job of this.jobs.values()) job.held = false;
  }

  /** Test control: whether the local PACS answers ping (the sites behave as configured either way). */
  reachable = true;

  ping(): Promise<void> {
    return this.reachable ? Promise.resolve() : Promise.reject(new PacsError('unreachable', "UH Bristol's PACS could not be reached"));
  }

  localInstanceCounts(studyInstanceUids: readonly string[]): Promise<ReadonlyMap<string, number>> {
    this.requests.localInstanceCounts += 1;
    return Promise.resolve(new Map(studyInstanceUids.map((uid) => [uid, this.localStudies.get(uid) ?? 0])));
  }

  /** Test control: the job finishes and the study is stored locally (a held job too: its transfer got through). */
  completeJob(jobId: string): void {
    const job = this.jobs.get(jobId);
    if (!job || job.status.state !== 'running') return;
    job.held = false;
    job.status = { state: 'succeeded' };
    this.localStudies.set(job.study.studyInstanceUid, job.study.instanceCount ?? 1);
    // As on a real PACS, the retrieved study is now part of the patient's local record.
    const record = this.local.find((r) => r.identity.nhsNumber === job.nhsNumber);
    if (record && !record.studies.some((s) => s.studyInstanceUid === job.study.studyInstanceUid)) {
      record.studies.push(job.study);
    }
  }

  /** Test control: the job fails. */
  failJob(jobId: string, reason: PacsJobStatus['reason'] = 'unreachable'): void {
    const job = this.jobs.get(jobId);
    if (job) job.status = { state: 'failed', reason };
  }

  /** Test control: the PACS forgets every job (as Orthanc does on restart). */
  forgetJobs(): void {
    this.jobs.clear();
  }

  /** Test control: change how a site behaves. */
  setBehaviour(site: SiteId, behaviour: FakeSiteBehaviour): void {
    const remote = this.options.sites[site];
    if (remote) remote.behaviour = behaviour;
  }

  /** Ids of every job started so far. */
  jobIds(): string[] {
    return [...this.jobs.keys()];
  }
}
