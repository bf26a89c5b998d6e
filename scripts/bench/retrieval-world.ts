/**
 * The retrieval side of the real bot, assembled in-process for the notification and memory
 * benchmarks: createApplication in development mode with the SQLite store on a temporary file and
 * a FakePacs (driven only through its public API: `completeJob`, `requests`), wrapped so that the
 * PACS requests of every poll cycle can be counted. Each retrieval has its own requester and 1:1
 * conversation, whose saved reference points at the connector stand-in.
 */
import { randomUUID } from 'node:crypto';
import { FakePacs } from '../../src/adapters/pacs/fake-pacs';
import { openSqliteStore } from '../../src/adapters/store/sqlite/sqlite-store';
import { createApplication, type Application } from '../../src/application';
import { parseConfig } from '../../src/config/config';
import { createLogger } from '../../src/logging/logger';
import type {
  PacsCancelOutcome,
  PacsJobStatus,
  PacsPort,
  PatientSearch,
  RemoteStudies,
  SiteId,
  StudySummary,
  LocalPatientRecord,
} from '../../src/ports/pacs-port';
import type { Requester, StorePort } from '../../src/ports/store-port';
import { confirmRetrievals } from '../../src/retrieval/confirm-retrievals';
import type { RetrievalDeps } from '../../src/retrieval/retrieval-deps';

/** PACS requests, by kind. */
export interface PacsCounts {
  /** One request for the states of every job in flight (Orthanc: GET /jobs?expand). */
  status: number;
  /** The check of one finished job against the local PACS (Orthanc: /tools/find + statistics). */
  verify: number;
  /** Anything else (searches, starting retrievals). */
  other: number;
}

/** A PacsPort that counts what it is asked, then asks the fake. */
export class CountingPacs implements PacsPort {
  readonly counts: PacsCounts = { status: 0, verify: 0, other: 0 };

  constructor(readonly fake: FakePacs) {}

  sites(): readonly SiteId[] {
    return this.fake.sites();
  }

  findLocalPatients(search: PatientSearch): Promise<LocalPatientRecord[]> {
    this.counts.other += 1;
    return this.fake.findLocalPatients(search);
  }

  queryRemoteStudies(site: SiteId, nhsNumber: string, timeoutMs: number): Promise<RemoteStudies> {
    this.counts.other += 1;
    return this.fake.queryRemoteStudies(site, nhsNumber, timeoutMs);
  }

  startRetrieval(site: SiteId, nhsNumber: string, studyInstanceUid: string): Promise<string> {
    this.counts.other += 1;
    return this.fake.startRetrieval(site, nhsNumber, studyInstanceUid);
  }

  retrievalStates(jobIds: readonly string[]): Promise<ReadonlyMap<string, PacsJobStatus>> {
    this.counts.status += 1;
    return this.fake.retrievalStates(jobIds);
  }

  cancelRetrieval(jobId: string): Promise<PacsCancelOutcome> {
    this.counts.other += 1;
    return this.fake.cancelRetrieval(jobId);
  }

  ping(): Promise<void> {
    return this.fake.ping();
  }

  localInstanceCounts(studyInstanceUids: readonly string[]): Promise<ReadonlyMap<string, number>> {
    this.counts.verify += 1;
    return this.fake.localInstanceCounts(studyInstanceUids);
  }
}

/** The assembled bot and the handles the benchmarks drive it with. */
export interface RetrievalWorld {
  readonly app: Application;
  readonly store: StorePort;
  readonly pacs: CountingPacs;
  /** Per retrieval (index i): the PACS job id and the requester's conversation id. */
  readonly jobs: Array<{ readonly jobId: string; readonly conversationId: string }>;
}

const site = 'exeter';
const nhsOf = (i: number): string => String(9_000_000_000 + i);
const studyOf = (i: number): StudySummary => ({
  studyInstanceUid: `2.25.7${i}`,
  date: '2026-11-05',
  description: 'CT Head',
  modalities: ['CT'],
  instanceCount: 5,
});

/**
 * Builds the application (not listening, no poll timer: the caller polls) with `jobs` patients
 * whose studies wait at Exeter, then saves a conversation reference and confirms one retrieval
 * for each, through the real use case (confirmRetrievals), as a clinician's "Confirm" would.
 */
export async function buildWorld(options: {
  readonly jobs: number;
  readonly databaseFile: string;
  readonly connectorUrl: string;
}): Promise<RetrievalWorld> {
  const studies: Record<string, StudySummary[]> = {};
  for (let i = 0; i < options.jobs; i += 1) studies[nhsOf(i)] = [studyOf(i)];
  const pacs = new CountingPacs(new FakePacs({ local: [], sites: { [site]: { studies } } }));
  const store = openSqliteStore(options.databaseFile);
  const config = parseConfig({
    NODE_ENV: 'development',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    DATABASE_URL: `sqlite:${options.databaseFile}`,
  });
  const app = await createApplication(config, { logger: createLogger('warn'), clock: () => new Date(), pacs, store, pollIntervalMs: 0 });

  const deps: RetrievalDeps = { pacs, store, queryTimeoutMs: config.pacs.queryTimeoutMs, jobTimeoutMs: 30 * 60 * 1000 };
  const serviceUrl = options.connectorUrl.endsWith('/') ? options.connectorUrl : `${options.connectorUrl}/`;
  const jobs: Array<{ jobId: string; conversationId: string }> = [];
  for (let i = 0; i < options.jobs; i += 1) {
    const now = new Date();
    const requester: Requester = {
      teamsUserId: `29:bench-user-${i}`,
      entraObjectId: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`,
      displayName: 'Bench Clinician',
      tenantId: 'bench-tenant',
      conversationId: `a:bench-chat-${i}`,
    };
    await store.saveReference({
      teamsUserId: requester.teamsUserId,
      entraObjectId: requester.entraObjectId,
      conversationId: requester.conversationId,
      reference: JSON.stringify({
        activityId: `bench-activity-${i}`,
        user: { id: requester.teamsUserId, name: requester.displayName, aadObjectId: requester.entraObjectId },
        bot: { id: '28:bench-bot', name: 'Image Sharing' },
        conversation: { id: requester.conversationId, conversationType: 'personal', tenantId: requester.tenantId },
        channelId: 'msteams',
        locale: 'en-GB',
        serviceUrl,
      }),
      updatedAt: now.toISOString(),
    });
    const [result] = await confirmRetrievals(nhsOf(i), [{ site, study: studyOf(i) }], requester, deps, now, randomUUID, `status-card-${i}`);
    if (result?.outcome.kind !== 'started' || !result.outcome.retrieval.pacsJobId)
      throw new Error(`retrieval ${i} did not start: ${result?.outcome.kind}`);
    jobs.push({ jobId: result.outcome.retrieval.pacsJobId, conversationId: requester.conversationId });
  }
  return { app, store, pacs, jobs };
}
