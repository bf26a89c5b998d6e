/**
 * Finding a patient's images: the patient positively identified on UH Bristol's PACS (never a guess
 * between records or NHS numbers), then their studies at every peer-to-peer site in parallel, each
 * site bounded by its timeout; every search audited.
 */
import { recordNhsNumber } from '../domain/patients/nhs-number';
import { DeadlineError, withDeadline } from '../support/deadline';
import { auditEvent } from './audit-events';
import {
  PacsError,
  type LocalPatientRecord,
  type PacsErrorReason,
  type PacsPort,
  type PatientSearch,
  type SiteId,
  type StudySummary,
} from '../ports/pacs-port';
import type { Requester, Retrieval } from '../ports/store-port';
import { lastRetrievals } from './retrieval-history';
import type { RetrievalDeps } from './retrieval-deps';

/** What a site said when its image sharing status was refreshed. */
export type SiteLink = 'linked' | 'no-match' | 'unreachable' | 'timed-out' | 'rejected';

/** One site's refresh result. */
export interface SiteStatus {
  readonly site: SiteId;
  readonly link: SiteLink;
  /** Answers the site gave without any NHS number, left out (they cannot be positively identified). */
  readonly withoutNhsNumber: number;
}

/** Where a remote study is, as the Image Sharing Status icons say it. */
export type StudyLocation = 'remote' | 'downloading' | 'stored';

/** A study at another site, with where it is now. */
export interface RemoteStudy extends StudySummary {
  readonly site: SiteId;
  readonly location: StudyLocation;
}

/** The outcome of a patient search. */
export type SearchOutcome =
  | { readonly kind: 'not-registered' }
  | { readonly kind: 'several-matches'; readonly count: number }
  | { readonly kind: 'no-nhs-number'; readonly patient: LocalPatientRecord }
  | { readonly kind: 'nhs-number-conflict' }
  | {
      readonly kind: 'found';
      readonly patient: LocalPatientRecord;
      readonly sites: readonly SiteStatus[];
      readonly studies: readonly RemoteStudy[];
      /** Each study's last retrieval into UH Bristol's PACS, by anyone, by StudyInstanceUID. */
      readonly history: ReadonlyMap<string, Retrieval>;
    };

function linkOf(reason: PacsErrorReason): SiteLink {
  switch (reason) {
    case 'timed-out':
      return 'timed-out';
    case 'rejected':
      return 'rejected';
    case 'unreachable':
    case 'not-found':
    case 'unknown-site':
    case 'protocol':
      return 'unreachable';
  }
}

/** Refreshes the image sharing status at one site, never taking much longer than its timeout. */
async function refreshSite(
  pacs: PacsPort,
  site: SiteId,
  nhsNumber: string,
  timeoutMs: number,
): Promise<{ status: SiteStatus; studies: readonly StudySummary[] }> {
  try {
    // A guard in case an adapter ignores its own timeout: a dead site must never hold back the others.
    const { studies, withoutNhsNumber } = await withDeadline(
      pacs.queryRemoteStudies(site, nhsNumber, timeoutMs),
      timeoutMs + 2000,
      `the ${site} PACS`,
    );
    return { status: { site, link: studies.length > 0 ? 'linked' : 'no-match', withoutNhsNumber }, studies };
  } catch (error) {
    const reason = error instanceof PacsError ? error.reason : error instanceof DeadlineError ? 'timed-out' : 'protocol';
    return { status: { site, link: linkOf(reason), withoutNhsNumber: 0 }, studies: [] };
  }
}

/** Optional parts of a search. */
export interface SearchOptions {
  /** Called as each site answers (or fails), in the order they answer: for progress shown while the others are asked. */
  readonly onSite?: (status: SiteStatus) => void;
  /** The sites to ask (default: every configured site), e.g. one site searched again. */
  readonly sites?: readonly SiteId[];
}

/** Finds the patient on UH Bristol's PACS, then their studies at every configured site (or those asked) in parallel. */
export async function findPatientImages(
  search: PatientSearch,
  requester: Requester,
  deps: RetrievalDeps,
  now: Date,
  options: SearchOptions = {},
): Promise<SearchOutcome> {
  const { pacs, store } = deps;
  const searchedNhs = search.kind === 'nhs-number' ? search.nhsNumber : null;
  const matches = await pacs.findLocalPatients(search);
  if (matches.length === 0) {
    await store.appendAudit(auditEvent(requester, now, { action: 'patient-search', nhsNumber: searchedNhs, outcome: 'not-registered' }));
    return { kind: 'not-registered' };
  }
  if (matches.length > 1) {
    // Never guess between patients: ask for the NHS number instead.
    await store.appendAudit(
      auditEvent(requester, now, {
        action: 'patient-search',
        nhsNumber: searchedNhs,
        outcome: `several-matches: ${matches.length}`,
      }),
    );
    return { kind: 'several-matches', count: matches.length };
  }
  const found = matches[0]!;
  // Positive identification: the NHS number used is the one searched (or the one valid NHS number the
  // record holds), never a hospital number that happens to have ten digits.
  const held = recordNhsNumber(found.nhsNumberValues, searchedNhs);
  switch (held.kind) {
    case 'conflict':
      await store.appendAudit(
        auditEvent(requester, now, {
          action: 'patient-search',
          nhsNumber: searchedNhs,
          outcome: `nhs-number-conflict: ${held.distinct}`,
        }),
      );
      return { kind: 'nhs-number-conflict' };
    case 'none':
      await store.appendAudit(auditEvent(requester, now, { action: 'patient-search', outcome: 'no-nhs-number' }));
      return { kind: 'no-nhs-number', patient: found };
    case 'identified':
      break;
  }
  const nhsNumber = held.nhsNumber;
  const patient: LocalPatientRecord = { ...found, identity: { ...found.identity, nhsNumber } };

  const asked = options.sites ? pacs.sites().filter((site) => options.sites!.includes(site)) : pacs.sites();
  const refreshed = await Promise.all(
    asked.map(async (site) => {
      const result = await refreshSite(pacs, site, nhsNumber, deps.queryTimeoutMs);
      options.onSite?.(result.status);
      return result;
    }),
  );
  const active = await store.activeRetrievals();
  const localUids = new Set(patient.studies.map((s) => s.studyInstanceUid));
  const studies: RemoteStudy[] = [];
  for (const { status, studies: found } of refreshed) {
    for (const study of found) {
      const downloading = active.some((r) => r.site === status.site && r.study.studyInstanceUid === study.studyInstanceUid);
      const location: StudyLocation = localUids.has(study.studyInstanceUid) ? 'stored' : downloading ? 'downloading' : 'remote';
      studies.push({ ...study, site: status.site, location });
    }
  }
  studies.sort((a, b) => (b.date ?? '').localeCompare(a.date ?? ''));
  const sites = refreshed.map((r) => r.status);
  await store.appendAudit(
    auditEvent(requester, now, {
      action: 'patient-search',
      nhsNumber,
      studies: studies.map((s) => s.studyInstanceUid),
      outcome: `found: ${sites.map(siteOutcome).join(' ')}`,
    }),
  );
  const history = await lastRetrievals(store, [...localUids, ...studies.map((s) => s.studyInstanceUid)]);
  return { kind: 'found', patient, sites, studies, history };
}

/** One site's part of a search's audit outcome: "exeter=linked", "plymouth=linked(2 without NHS number)". */
function siteOutcome(s: SiteStatus): string {
  return `${s.site}=${s.link}${s.withoutNhsNumber > 0 ? `(${s.withoutNhsNumber} without NHS number)` : ''}`;
}

/** How many peer-to-peer sites a search asks. */
export function sitesSearched(deps: Pick<RetrievalDeps, 'pacs'>): number {
  return deps.pacs.sites().length;
}
