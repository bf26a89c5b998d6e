/**
 * The Orthanc PACS adapter: UH Bristol's PACS and its peer-to-peer links, driven through the REST API
 * of the trust's Orthanc DICOM gateway. Remote sites are Orthanc "modalities": C-FIND through
 * /modalities/{M}/query, C-MOVE as asynchronous jobs through /queries/{id}/answers/{n}/retrieve,
 * job states from /jobs. See the lab recipe (orthanc-lab/RECIPE.md) for the behaviour relied on here.
 *
 * This module puts the port together; the work is done by orthanc-http (the REST client and its error
 * mapping), orthanc-local-search (/tools/find), orthanc-queries (remote C-FIND) and orthanc-jobs (C-MOVE).
 *
 * Nothing patient-identifying goes into an error message: only site ids, HTTP and Orthanc status codes.
 */
import { z } from 'zod';
import type { PacsSite } from '../../config/config';
import {
  PacsError,
  type LocalPatientRecord,
  type PacsCancelOutcome,
  type RemoteStudies,
  type PacsJobStatus,
  type PacsPort,
  type PatientSearch,
  type SiteId,
} from '../../ports/pacs-port';
import { createOrthancCall, networkMessage } from './orthanc-http';
import { cancelRetrieval, retrievalStates, startRetrieval } from './orthanc-jobs';
import { findLocalPatients, localInstanceCounts } from './orthanc-local-search';
import { queryRemoteStudies } from './orthanc-queries';

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

/** Creates the Orthanc-backed PACS port. */
export function createOrthancPacs(options: OrthancPacsOptions): PacsPort {
  const requestTimeoutMs = options.requestTimeoutMs ?? defaultRequestTimeoutMs;
  const retrievalTimeoutS = Math.max(1, Math.ceil((options.retrievalTimeoutMs ?? defaultRetrievalTimeoutMs) / 1000));
  const call = createOrthancCall({ url: options.url, username: options.username, password: options.password, requestTimeoutMs });
  const sites = new Map(options.sites.map((site) => [site.site, site]));

  function siteOf(site: SiteId): PacsSite {
    const found = sites.get(site);
    if (!found) throw new PacsError('unknown-site', networkMessage('unknown-site', site), site);
    return found;
  }

  return {
    sites: () => options.sites.map((site) => site.site),

    async findLocalPatients(search: PatientSearch): Promise<LocalPatientRecord[]> {
      return findLocalPatients(call, search);
    },

    async queryRemoteStudies(siteId: SiteId, nhsNumber: string, timeoutMs: number): Promise<RemoteStudies> {
      return queryRemoteStudies(call, siteOf(siteId), nhsNumber, timeoutMs);
    },

    async startRetrieval(siteId: SiteId, nhsNumber: string, studyInstanceUid: string): Promise<string> {
      const timeouts = { requestTimeoutMs, retrievalTimeoutS };
      return startRetrieval(call, siteOf(siteId), options.localAet, timeouts, nhsNumber, studyInstanceUid);
    },

    async retrievalStates(jobIds: readonly string[]): Promise<ReadonlyMap<string, PacsJobStatus>> {
      return retrievalStates(call, jobIds);
    },

    async cancelRetrieval(jobId: string): Promise<PacsCancelOutcome> {
      return cancelRetrieval(call, jobId);
    },

    async ping(): Promise<void> {
      await call('GET', '/system', z.object({ Version: z.string() }).passthrough(), null);
    },

    async localInstanceCounts(studyInstanceUids: readonly string[]): Promise<ReadonlyMap<string, number>> {
      return localInstanceCounts(call, studyInstanceUids);
    },
  };
}
