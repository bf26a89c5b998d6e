/**
 * The PACS port: what the retrieval use cases need from UH Bristol's PACS and its peer-to-peer
 * links to the other Insignia sites. Adapters: orthanc (real DICOM Q/R through Orthanc's REST API),
 * demo (synthetic, for trying the bot) and a fake for tests; one contract suite checks them all.
 */
import { AppError } from '../domain/app-error';

/** A peer-to-peer site id from the guide data ('exeter', 'plymouth', ...). */
export type SiteId = string;

/** Who a patient is, as the local PACS records them. */
export interface PatientIdentity {
  /** Ten digits, no spaces; null when the local record has none. */
  readonly nhsNumber: string | null;
  /** The local identifier (hospital number / PatientID on UH Bristol's PACS). */
  readonly localId: string;
  readonly familyName: string;
  readonly givenName: string;
  /** YYYY-MM-DD, or null when unknown. */
  readonly birthDate: string | null;
  /** 'F', 'M', 'O' or null. */
  readonly sex: string | null;
}

/** One study, as a C-FIND at study level (or the local index) describes it. */
export interface StudySummary {
  readonly studyInstanceUid: string;
  /** YYYY-MM-DD, or null when the PACS gave none. */
  readonly date: string | null;
  readonly description: string;
  readonly modalities: readonly string[];
  /** NumberOfStudyRelatedInstances; null when the PACS did not say. */
  readonly instanceCount: number | null;
  /** AccessionNumber (the RIS's number for the study); absent or null when the PACS gave none. */
  readonly accessionNumber?: string | null;
}

/** How the clinician identifies the patient. */
export type PatientSearch =
  | { readonly kind: 'nhs-number'; readonly nhsNumber: string }
  | { readonly kind: 'demographics'; readonly familyName: string; readonly givenName: string; readonly birthDate: string };

/** A patient found on the local PACS, with the studies it already holds. */
export interface LocalPatientRecord {
  readonly identity: PatientIdentity;
  /**
   * Every value the record holds where an NHS number may be kept (PatientID and OtherPatientIDs on
   * Orthanc), as stored: hospital numbers included. Which of them is the patient's NHS number is the
   * use case's decision (`recordNhsNumber`), never the adapter's.
   */
  readonly nhsNumberValues: readonly string[];
  readonly studies: readonly StudySummary[];
}

/** Why a PACS call failed. */
export type PacsErrorReason = 'unreachable' | 'timed-out' | 'rejected' | 'not-found' | 'unknown-site' | 'protocol';

/** A PACS call that failed, with a reason the conversation can put into words. */
export class PacsError extends AppError<PacsErrorReason> {
  override readonly name = 'PacsError';
  constructor(
    reason: PacsErrorReason,
    message: string,
    readonly site: SiteId | null = null,
  ) {
    super(reason, message);
  }
}

/** The state of one retrieval job on the PACS. */
export type PacsJobState = 'pending' | 'running' | 'succeeded' | 'failed' | 'unknown';

/** What the PACS says about one retrieval job. */
export interface PacsJobStatus {
  readonly state: PacsJobState;
  /** For 'failed': why, in the port's terms. */
  readonly reason?: PacsErrorReason;
}

/**
 * What asking the PACS to cancel a retrieval job found: it stopped ('cancelled'); it was asked, but a
 * transfer under way cannot be interrupted and may still finish ('stopping'); it had already ended
 * ('finished': it succeeded, 'failed'); or the PACS does not know the job ('unknown').
 */
export type PacsCancelOutcome = 'cancelled' | 'stopping' | 'finished' | 'failed' | 'unknown';

/** What a site answered for a patient. */
export interface RemoteStudies {
  /** The patient's studies there, newest first: answers that carry the NHS number asked for. */
  readonly studies: readonly StudySummary[];
  /** Answers left out because they carried no NHS number at all (a peer matching loosely). */
  readonly withoutNhsNumber: number;
}

/** UH Bristol's PACS and its peer-to-peer links. */
export interface PacsPort {
  /** The peer-to-peer sites this PACS is configured to reach. */
  sites(): readonly SiteId[];
  /** Resolves when UH Bristol's PACS (its REST gateway) answers; rejects with PacsError (unreachable, timed-out, rejected) otherwise. */
  ping(): Promise<void>;
  /** Patients on the local PACS matching the search (an NHS number or surname + forename + DOB). */
  findLocalPatients(search: PatientSearch): Promise<LocalPatientRecord[]>;
  /**
   * The patient's studies at a remote site, matched by NHS number (C-FIND, study level).
   * Rejects with PacsError: unreachable, timed-out (after `timeoutMs`), rejected, unknown-site.
   */
  queryRemoteStudies(site: SiteId, nhsNumber: string, timeoutMs: number): Promise<RemoteStudies>;
  /** Starts an asynchronous C-MOVE of one study from the site into the local PACS; resolves with the job id. */
  startRetrieval(site: SiteId, nhsNumber: string, studyInstanceUid: string): Promise<string>;
  /**
   * Asks the PACS to cancel a retrieval job, and says what came of it (PacsCancelOutcome). Rejects
   * with PacsError only when the PACS could not be asked (unreachable, timed-out, rejected).
   */
  cancelRetrieval(jobId: string): Promise<PacsCancelOutcome>;
  /** The states of many retrieval jobs in one request; a job the PACS no longer knows is 'unknown'. */
  retrievalStates(jobIds: readonly string[]): Promise<ReadonlyMap<string, PacsJobStatus>>;
  /**
   * How many instances of each study the local PACS holds, for many studies in a fixed, small number
   * of requests (a poll cycle checks every study that finished in it); a study it lacks counts 0.
   */
  localInstanceCounts(studyInstanceUids: readonly string[]): Promise<ReadonlyMap<string, number>>;
}
