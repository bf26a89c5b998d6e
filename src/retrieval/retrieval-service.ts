/**
 * The retrieval use cases: find a patient's images at the other Insignia sites, start retrievals
 * into UH Bristol's PACS, and follow them until they end. Each takes its ports and the instant;
 * every search, confirmation and outcome is audited.
 */
import { DateTime } from 'luxon';
import { recordNhsNumber } from '../domain/patients/nhs-number';
import { DeadlineError, withDeadline } from '../support/deadline';
import { auditEvent } from './audit-events';
import {
  PacsError,
  type LocalPatientRecord,
  type PacsErrorReason,
  type PacsJobStatus,
  type PacsPort,
  type PatientSearch,
  type SiteId,
  type StudySummary,
} from '../ports/pacs-port';
import type { AuditEvent, ConfirmationEntry, Requester, Retrieval, StorePort, TurnClaim } from '../ports/store-port';

/** Days a pulled study stays on UH Bristol's PACS (the guide: "Imaging will remain available locally for 30 days"). */
export const retentionDays = 30;

/** What the use cases need. */
export interface RetrievalDeps {
  readonly pacs: PacsPort;
  readonly store: StorePort;
  /** Per-site C-FIND timeout. */
  readonly queryTimeoutMs: number;
  /** A retrieval still not finished after this long is failed (issue: configurable, 30 minutes). */
  readonly jobTimeoutMs?: number;
}

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

/** Finds the patient on UH Bristol's PACS, then their studies at every configured site in parallel. */
export async function findPatientImages(
  search: PatientSearch,
  requester: Requester,
  deps: RetrievalDeps,
  now: Date,
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

  const refreshed = await Promise.all(pacs.sites().map((site) => refreshSite(pacs, site, nhsNumber, deps.queryTimeoutMs)));
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
  return { kind: 'found', patient, sites, studies };
}

/** One site's part of a search's audit outcome: "exeter=linked", "plymouth=linked(2 without NHS number)". */
function siteOutcome(s: SiteStatus): string {
  return `${s.site}=${s.link}${s.withoutNhsNumber > 0 ? `(${s.withoutNhsNumber} without NHS number)` : ''}`;
}

/** A study the clinician picked to retrieve. */
export interface StudyPick {
  readonly site: SiteId;
  readonly study: StudySummary;
}

/** What happened to one pick. */
export type PickOutcome =
  | { readonly kind: 'started'; readonly retrieval: Retrieval }
  | { readonly kind: 'already-downloading'; readonly retrieval: Retrieval }
  | { readonly kind: 'already-local' }
  | { readonly kind: 'failed'; readonly reason: PacsErrorReason; readonly where: 'local' | 'site' };

/** The date the local copy is kept until (30 days, per the guide). */
export function keptUntil(now: Date): Date {
  return DateTime.fromJSDate(now, { zone: 'utc' }).plus({ days: retentionDays }).toJSDate();
}

/** Whether UH Bristol's PACS holds the whole study (`count` instances of it): then there is nothing to retrieve. */
export function heldWhole(study: StudySummary, count: number): boolean {
  return count > 0 && count >= (study.instanceCount ?? 1);
}

/** A confirmed pick, recorded: a new retrieval to start, the one already in flight for that study, or none (already local). */
export type RecordedPick =
  | { readonly pick: StudyPick; readonly retrieval: Retrieval; readonly created: boolean }
  | { readonly pick: StudyPick; readonly retrieval: null; readonly created: false };

/** Optional parts of a confirmation. */
export interface ConfirmationOptions {
  /** The status card to update in place as the retrievals end. */
  readonly cardActivityId?: string | null;
  /** Picks UH Bristol's PACS already holds whole: nothing is recorded for them but the audit line. */
  readonly alreadyLocal?: (pick: StudyPick) => boolean;
  /** The turn's claim on its activity, marked done with the confirmation. */
  readonly activity?: TurnClaim | null;
}

/**
 * Records a confirmation durably, before the clinician is answered, as one unit: one 'requested'
 * retrieval per pick not already in flight (the store refuses a second active retrieval of a
 * study), each audited, and the turn's activity marked done, so a crash leaves all of it or none
 * (a re-delivery of the press is then handled afresh). Nothing is asked of the PACS here;
 * `startRecorded` (after the answer) or, after a crash, the poll starts them.
 */
export async function recordConfirmation(
  nhsNumber: string,
  picks: readonly StudyPick[],
  requester: Requester,
  deps: RetrievalDeps,
  now: Date,
  newId: () => string,
  options: ConfirmationOptions = {},
): Promise<RecordedPick[]> {
  const alreadyLocal = options.alreadyLocal ?? (() => false);
  const confirmed = (pick: StudyPick, outcome: string): AuditEvent =>
    auditEvent(requester, now, {
      action: 'retrieval-confirmed',
      nhsNumber,
      site: pick.site,
      studies: [pick.study.studyInstanceUid],
      outcome,
    });
  const entries: ConfirmationEntry[] = picks.map((pick) =>
    alreadyLocal(pick)
      ? { retrieval: null, audit: confirmed(pick, 'already-local') }
      : {
          retrieval: {
            id: newId(),
            requester,
            site: pick.site,
            nhsNumber,
            study: pick.study,
            createdAt: now.toISOString(),
            keptUntil: keptUntil(now).toISOString(),
            cardActivityId: options.cardActivityId ?? null,
          },
          audit: { created: confirmed(pick, 'confirmed'), existing: confirmed(pick, 'already-downloading') },
        },
  );
  const results = await deps.store.recordConfirmation({ entries, activity: options.activity ?? null });
  return picks.map((pick, i): RecordedPick => {
    const result = results[i];
    return result ? { pick, retrieval: result.retrieval, created: result.created } : { pick, retrieval: null, created: false };
  });
}

/**
 * Starts recorded retrievals ('requested' -> 'retrieving' with the PACS job id), checking first, in
 * one request, which studies UH Bristol's PACS already holds whole: those are settled as stored at
 * once. A retrieval the PACS will not start (UH Bristol's PACS or the site failing) is failed with
 * the reason, so the outbox tells the clinician and offers "Try again". A retrieval that another
 * process moved on meanwhile is left alone. Returns each retrieval's outcome by id.
 */
export async function startRecorded(retrievals: readonly Retrieval[], deps: RetrievalDeps, now: Date): Promise<Map<string, PickOutcome>> {
  const { pacs, store } = deps;
  const at = now.toISOString();
  const outcomes = new Map<string, PickOutcome>();
  const fail = async (retrieval: Retrieval, reason: PacsErrorReason, where: 'local' | 'site', detail: string): Promise<void> => {
    const failed = await store.transition(retrieval.id, ['requested'], 'failed', at, { failureReason: reason, detail });
    if (failed)
      await store.appendAudit(
        auditEvent(retrieval.requester, now, {
          action: 'retrieval-outcome',
          nhsNumber: retrieval.nhsNumber,
          site: retrieval.site,
          studies: [retrieval.study.studyInstanceUid],
          outcome: `failed: ${reason}`,
        }),
      );
    outcomes.set(retrieval.id, { kind: 'failed', reason, where });
  };
  let local: ReadonlyMap<string, number>;
  try {
    local = retrievals.length > 0 ? await pacs.localInstanceCounts(retrievals.map((r) => r.study.studyInstanceUid)) : new Map();
  } catch (error) {
    const reason = error instanceof PacsError ? error.reason : 'protocol';
    for (const retrieval of retrievals)
      await fail(retrieval, reason, 'local', "UH Bristol's PACS did not answer before the retrieval could start");
    return outcomes;
  }
  for (const retrieval of retrievals) {
    const uid = retrieval.study.studyInstanceUid;
    const count = local.get(uid) ?? 0;
    if (heldWhole(retrieval.study, count)) {
      // Already whole on UH Bristol's PACS: nothing to move; recorded as stored so the record is complete.
      const moving = await store.transition(retrieval.id, ['requested'], 'retrieving', at, { detail: 'already on the local PACS' });
      const stored = moving
        ? await store.transition(retrieval.id, ['retrieving'], 'stored', at, { detail: `${count} instances already on the local PACS` })
        : null;
      if (stored)
        await store.appendAudit(
          auditEvent(retrieval.requester, now, {
            action: 'retrieval-outcome',
            nhsNumber: retrieval.nhsNumber,
            site: retrieval.site,
            studies: [uid],
            outcome: 'already-local',
          }),
        );
      outcomes.set(retrieval.id, { kind: 'already-local' });
      continue;
    }
    try {
      const jobId = await pacs.startRetrieval(retrieval.site, retrieval.nhsNumber, uid);
      const started = await store.transition(retrieval.id, ['requested'], 'retrieving', at, { pacsJobId: jobId });
      outcomes.set(retrieval.id, { kind: 'started', retrieval: started ?? retrieval });
    } catch (error) {
      if (!(error instanceof PacsError)) throw error;
      await fail(retrieval, error.reason, error.site === null ? 'local' : 'site', 'the PACS did not start the retrieval');
    }
  }
  return outcomes;
}

/** Records and starts the retrievals the clinician confirmed (both steps at once; the bot splits them around its answer). */
export async function confirmRetrievals(
  nhsNumber: string,
  picks: readonly StudyPick[],
  requester: Requester,
  deps: RetrievalDeps,
  now: Date,
  newId: () => string,
  cardActivityId: string | null = null,
): Promise<Array<{ readonly pick: StudyPick; readonly outcome: PickOutcome }>> {
  const recorded = await recordConfirmation(nhsNumber, picks, requester, deps, now, newId, { cardActivityId });
  const started = await startRecorded(toStart(recorded), deps, now);
  return recorded.map((r) => ({ pick: r.pick, outcome: outcomeOf(r, started) }));
}

/** The new retrievals among recorded picks: the ones to start. */
export function toStart(recorded: readonly RecordedPick[]): Retrieval[] {
  return recorded.flatMap((r) => (r.created && r.retrieval ? [r.retrieval] : []));
}

/** What became of one recorded pick, given what starting the new ones did. */
export function outcomeOf(recorded: RecordedPick, started: ReadonlyMap<string, PickOutcome>): PickOutcome {
  if (recorded.retrieval === null) return { kind: 'already-local' };
  if (!recorded.created) return { kind: 'already-downloading', retrieval: recorded.retrieval };
  return started.get(recorded.retrieval.id) ?? { kind: 'started', retrieval: recorded.retrieval };
}

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
      await store.appendAudit({
        at,
        action: 'retrieval-outcome',
        teamsUserId: next.requester.teamsUserId,
        entraObjectId: next.requester.entraObjectId,
        displayName: next.requester.displayName,
        nhsNumber: next.nhsNumber,
        site: next.site,
        studies: [next.study.studyInstanceUid],
        outcome: next.state === 'stored' ? 'stored' : `failed: ${next.failureReason ?? 'unknown'}`,
      });
      settled.push({ retrieval: next });
    }
  }
  return settled;
}

/** What starting a recorded "Try again" did. */
export type RetryOutcome =
  { readonly kind: 'started'; readonly retrieval: Retrieval } | { readonly kind: 'failed'; readonly reason: PacsErrorReason };

/** What "Try again" found before anything was started. */
export type RetryRequest =
  { readonly kind: 'requested'; readonly retrieval: Retrieval } | { readonly kind: 'not-failed' } | { readonly kind: 'gone' };

/**
 * Records a "Try again" (failed -> requested), audited like a confirmation, before the clinician is
 * answered: once they see "Trying again", a crash cannot lose it (the poll starts a stalled
 * 'requested' retrieval).
 */
export async function requestRetry(retrievalId: string, requester: Requester, deps: RetrievalDeps, now: Date): Promise<RetryRequest> {
  const { store } = deps;
  // A retrieval the store no longer holds (a card from before a clean-up) cannot be tried again.
  if (!(await store.getRetrieval(retrievalId))) return { kind: 'gone' };
  const requested = await store.transition(retrievalId, ['failed'], 'requested', now.toISOString(), { detail: 'try again' });
  if (!requested) return { kind: 'not-failed' };
  await store.appendAudit(
    auditEvent(requester, now, {
      action: 'retrieval-confirmed',
      nhsNumber: requested.nhsNumber,
      site: requested.site,
      studies: [requested.study.studyInstanceUid],
      outcome: 'try-again',
    }),
  );
  return { kind: 'requested', retrieval: requested };
}

/** Starts a retrieval "Try again" recorded (requested -> retrieving); a PACS that will not start it fails it again. */
export async function startRetry(requested: Retrieval, requester: Requester, deps: RetrievalDeps, now: Date): Promise<RetryOutcome> {
  const { pacs, store } = deps;
  const at = now.toISOString();
  const uid = requested.study.studyInstanceUid;
  try {
    const jobId = await pacs.startRetrieval(requested.site, requested.nhsNumber, uid);
    const started = await store.transition(requested.id, ['requested'], 'retrieving', at, { pacsJobId: jobId });
    return { kind: 'started', retrieval: started ?? requested };
  } catch (error) {
    const reason = error instanceof PacsError ? error.reason : 'protocol';
    await store.transition(requested.id, ['requested'], 'failed', at, {
      failureReason: reason,
      detail: 'the PACS did not start the retrieval',
    });
    await store.appendAudit(
      auditEvent(requester, now, {
        action: 'retrieval-outcome',
        nhsNumber: requested.nhsNumber,
        site: requested.site,
        studies: [uid],
        outcome: `failed: ${reason}`,
      }),
    );
    return { kind: 'failed', reason };
  }
}

/** How many peer-to-peer sites a search asks. */
export function sitesSearched(deps: Pick<RetrievalDeps, 'pacs'>): number {
  return deps.pacs.sites().length;
}

/** UH Bristol's local instance counts of `uids`, or null when its PACS fails or takes longer than `ms`. */
export function localCountsWithin(
  deps: Pick<RetrievalDeps, 'pacs'>,
  uids: readonly string[],
  ms: number,
): Promise<ReadonlyMap<string, number> | null> {
  return withDeadline(deps.pacs.localInstanceCounts(uids), ms, "UH Bristol's PACS").catch(() => null);
}
