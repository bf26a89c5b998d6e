/**
 * What the retrieval cards carry, signed (signed-data.ts): the offer of a patient's studies (to pick,
 * then to confirm) and the "Try again" token, each bound to the user and chat it was made for.
 */
import { type PatientIdentity, type SiteId, type StudySummary } from '../ports/pacs-port';

/** The most studies offered on one card (Teams cards must stay under 28 KB). */
export const maxPickable = 20;

/** How long offered studies may be picked and confirmed. */
export const offerLifetimeMinutes = 30;

export interface OfferedStudy {
  readonly site: SiteId;
  readonly study: StudySummary;
}

/** Signed into a failure notice's "Try again" button: which retrieval, for whom, in which chat. */
export interface RetryToken {
  readonly v: 2;
  readonly kind: 'retry';
  readonly retrievalId: string;
  readonly user: string;
  readonly conversation: string;
}

/** Signed into a "Cancel download" button: which retrieval, for whom, in which chat (and the page of "my retrievals" it is on). */
export interface CancelDownloadToken {
  readonly v: 2;
  readonly kind: 'cancel-download';
  readonly retrievalId: string;
  readonly user: string;
  readonly conversation: string;
  readonly page?: number;
}

/** Signed into a "Search <site> again" button: which patient, which site, for whom, in which chat, until when. */
export interface SiteSearchToken {
  readonly v: 2;
  readonly kind: 'search-site';
  readonly nhsNumber: string;
  readonly site: SiteId;
  readonly expires: string;
  readonly user: string;
  readonly conversation: string;
}

/** Signed into a studies or confirmation card: exactly what was offered, to whom, in which chat, until when. */
export interface Offer {
  readonly v: 2;
  readonly kind: 'pick' | 'confirm';
  readonly nhsNumber: string;
  readonly identity: PatientIdentity;
  readonly studies: readonly OfferedStudy[];
  readonly expires: string;
  readonly user: string;
  readonly conversation: string;
  /** A confirmation card's own id, so that once cancelled it cannot be confirmed (cards made before it lack one). */
  readonly id?: string;
}
