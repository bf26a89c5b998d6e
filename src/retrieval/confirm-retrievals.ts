/**
 * Confirming picked studies: which of them UH Bristol's PACS already holds (asked once), the
 * confirmation recorded durably before the clinician is answered, then the new retrievals started
 * at the PACS after the answer. Every step audited.
 */
import { withDeadline } from '../support/deadline';
import { auditEvent } from './audit-events';
import { PacsError, type PacsErrorReason, type SiteId, type StudySummary } from '../ports/pacs-port';
import type { AuditEvent, ConfirmationEntry, Requester, Retrieval, TurnClaim } from '../ports/store-port';
import { wasCancelled, withdrawStartedJob } from './cancel-retrieval';
import { heldWhole, keptUntil, type RetrievalDeps } from './retrieval-deps';

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
  /** Cancelled by the clinician while it was being started (the job started is stopped too). */
  | { readonly kind: 'cancelled' }
  | { readonly kind: 'failed'; readonly reason: PacsErrorReason; readonly where: 'local' | 'site' };

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
  /** The confirmation card's decision claim this turn holds (decideConfirmation), marked done with it. */
  readonly decision?: TurnClaim | null;
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
  const results = await deps.store.recordConfirmation({ entries, activity: options.activity ?? null, decision: options.decision ?? null });
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
export async function startRecorded(
  retrievals: readonly Retrieval[],
  deps: RetrievalDeps,
  now: Date,
  known: ReadonlyMap<string, number> | null = null,
): Promise<Map<string, PickOutcome>> {
  const { pacs, store } = deps;
  const at = now.toISOString();
  const outcomes = new Map<string, PickOutcome>();
  const fail = async (retrieval: Retrieval, reason: PacsErrorReason, where: 'local' | 'site', detail: string): Promise<void> => {
    const failed = await store.transition(retrieval.id, ['requested'], 'failed', at, { failureReason: reason, detail });
    // Cancelled meanwhile: that is its one outcome, not a failure.
    if (!failed && (await wasCancelled(retrieval.id, deps))) {
      outcomes.set(retrieval.id, { kind: 'cancelled' });
      return;
    }
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
    // Counts the confirmation already had are not asked for again.
    local = known ?? (retrievals.length > 0 ? await pacs.localInstanceCounts(retrievals.map((r) => r.study.studyInstanceUid)) : new Map());
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
    // Cancel download is on the status card from the moment of the confirmation: nothing is started for one pressed since.
    if (await wasCancelled(retrieval.id, deps)) {
      outcomes.set(retrieval.id, { kind: 'cancelled' });
      continue;
    }
    try {
      const jobId = await pacs.startRetrieval(retrieval.site, retrieval.nhsNumber, uid);
      const started = await store.transition(retrieval.id, ['requested'], 'retrieving', at, { pacsJobId: jobId });
      const withdrawn = !started && (await withdrawStartedJob(retrieval, jobId, deps, now));
      outcomes.set(retrieval.id, withdrawn ? { kind: 'cancelled' } : { kind: 'started', retrieval: started ?? retrieval });
    } catch (error) {
      if (!(error instanceof PacsError)) throw error;
      await fail(retrieval, error.reason, error.site === null ? 'local' : 'site', 'the PACS did not start the retrieval');
    }
  }
  return outcomes;
}

/**
 * Records and starts the retrievals the clinician confirmed, both steps at once (scripts, tests); a
 * turn uses recordConfirmed and startConfirmed around its answer instead.
 */
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
function toStart(recorded: readonly RecordedPick[]): Retrieval[] {
  return recorded.flatMap((r) => (r.created && r.retrieval ? [r.retrieval] : []));
}

/** What became of one recorded pick, given what starting the new ones did. */
function outcomeOf(recorded: RecordedPick, started: ReadonlyMap<string, PickOutcome>): PickOutcome {
  if (recorded.retrieval === null) return { kind: 'already-local' };
  if (!recorded.created) return { kind: 'already-downloading', retrieval: recorded.retrieval };
  return started.get(recorded.retrieval.id) ?? { kind: 'started', retrieval: recorded.retrieval };
}

/** How long a confirmation waits, in the turn, to learn which studies UH Bristol's PACS already holds. */
export const localCheckMs = 2000;

/** A confirmation recorded in the turn, ready to start after the clinician is answered. */
export interface Confirmed {
  readonly recorded: readonly RecordedPick[];
  /** UH Bristol's instance counts of the picked studies, when its PACS answered in time (null: the start asks again). */
  readonly local: ReadonlyMap<string, number> | null;
}

/** What became of one confirmed pick. */
export interface ConfirmedOutcome {
  readonly pick: StudyPick;
  readonly outcome: PickOutcome;
}

/**
 * A confirmation's first half, in the turn: asks UH Bristol's PACS once (briefly) which picks it
 * already holds whole, then records the confirmation (recordConfirmation). Nothing is started.
 */
export async function recordConfirmed(
  nhsNumber: string,
  picks: readonly StudyPick[],
  requester: Requester,
  deps: RetrievalDeps,
  now: Date,
  options: {
    readonly newId: () => string;
    readonly cardActivityId: string | null;
    readonly activity: TurnClaim | null;
    readonly decision?: TurnClaim | null;
  },
): Promise<Confirmed> {
  // A PACS slow to say is not waited for: the start asks again.
  const local = await localCountsWithin(
    deps,
    picks.map((p) => p.study.studyInstanceUid),
    localCheckMs,
  );
  const recorded = await recordConfirmation(nhsNumber, picks, requester, deps, now, options.newId, {
    cardActivityId: options.cardActivityId,
    alreadyLocal: (p) => heldWhole(p.study, local?.get(p.study.studyInstanceUid) ?? 0),
    activity: options.activity,
    decision: options.decision ?? null,
  });
  return { recorded, local };
}

/** A confirmation's second half, after the answer: starts its new retrievals with the counts already known. */
export async function startConfirmed(confirmed: Confirmed, deps: RetrievalDeps, now: Date): Promise<ConfirmedOutcome[]> {
  const started = await startRecorded(toStart(confirmed.recorded), deps, now, confirmed.local);
  return confirmed.recorded.map((r) => ({ pick: r.pick, outcome: outcomeOf(r, started) }));
}

/** UH Bristol's local instance counts of `uids`, or null when its PACS fails or takes longer than `ms`. */
function localCountsWithin(
  deps: Pick<RetrievalDeps, 'pacs'>,
  uids: readonly string[],
  ms: number,
): Promise<ReadonlyMap<string, number> | null> {
  return withDeadline(deps.pacs.localInstanceCounts(uids), ms, "UH Bristol's PACS").catch(() => null);
}

/** What a confirmation card's two buttons decide, once: the first press of Confirm or Cancel stands. */
export type CardDecision = 'confirmed' | 'cancelled';

/** The store key that holds a confirmation card's decision (in the store's record of things done once; the owner says which). */
function decisionKey(offerId: string): string {
  return `confirmation-decision:${offerId}`;
}

/** The key a card cancelled by an earlier release was marked with (kept as long as the card could be confirmed). */
function earlierCancelledKey(offerId: string): string {
  return `confirmation-cancelled:${offerId}`;
}

/** What a confirmation card offered, as far as its decision and the audit need. */
export interface DecidedOffer {
  readonly id?: string;
  readonly nhsNumber: string;
  readonly studies: readonly StudyPick[];
  /** Until when the card could have been confirmed (the decision is kept that long). */
  readonly expires: string;
}

/** A card's decision, and the claim a Confirm holds until its confirmation is recorded (null otherwise). */
export interface Decided {
  readonly decision: CardDecision;
  /** Marked done in the confirmation's own transaction (recordConfirmed). */
  readonly claim: TurnClaim | null;
}

/**
 * How long a Confirm's decision holds before it is recorded. A Confirm that fails or crashes before
 * recording leaves the card to a Cancel once this has passed (it is never released early: another
 * Confirm of the card may be recording under the same claim); until then a Cancel is told the card
 * was confirmed. Far longer than any recording takes.
 */
const confirmHoldMs = 120_000;

/**
 * Records `wanted` as the decision of the confirmation card `offer`, unless the card was decided
 * already; says which decision stands. One claim in the store decides, whichever instance handles
 * the press, so Confirm on one copy of the card and Cancel on another cannot both win: the loser is
 * told what the winner did. A Cancel's decision is final at once; a Confirm's claim is held until
 * its confirmation is recorded (done in the same transaction), so a Confirm that fails or crashes
 * before that leaves the card to a Cancel once `confirmHoldMs` has passed. A Confirm pressed again
 * while the first is held goes on with the same claim (the store records one retrieval per study,
 * and whichever records first marks the decision done). Cards made before cards had ids have no
 * record: `wanted` stands.
 */
export async function decideConfirmation(offer: DecidedOffer, wanted: CardDecision, deps: RetrievalDeps, now: Date): Promise<Decided> {
  if (!offer.id) return { decision: wanted, claim: null };
  const { store } = deps;
  if (await store.activityFor(earlierCancelledKey(offer.id))) return { decision: 'cancelled', claim: null };
  const key = decisionKey(offer.id);
  const claimMs = confirmHoldMs;
  const keepMs = Math.max(claimMs, Date.parse(offer.expires) - now.getTime() + claimMs);
  const claim = await store.claimActivity({ key, owner: wanted, at: now.toISOString(), claimMs, keepMs });
  switch (claim.outcome) {
    case 'claimed':
      if (wanted === 'confirmed') return { decision: wanted, claim: { key, owner: wanted } };
      await store.finishActivity(key, wanted);
      return { decision: wanted, claim: null };
    case 'held':
      if (claim.owner === 'cancelled') return { decision: 'cancelled', claim: null };
      // Another Confirm holds it: this one marks it done too if it records first (the owner is the decision, not the turn).
      return { decision: 'confirmed', claim: wanted === 'confirmed' ? { key, owner: 'confirmed' } : null };
    case 'done':
      return { decision: (await store.activityFor(key))?.owner === 'cancelled' ? 'cancelled' : 'confirmed', claim: null };
  }
}

/**
 * Cancel on a confirmation card: decides the card cancelled unless it was confirmed first (then
 * nothing changes, and 'confirmed' is returned); a cancel that stands is audited.
 */
export async function cancelConfirmation(offer: DecidedOffer, requester: Requester, deps: RetrievalDeps, now: Date): Promise<CardDecision> {
  const { decision } = await decideConfirmation(offer, 'cancelled', deps, now);
  if (decision === 'confirmed') return decision;
  for (const pick of offer.studies) {
    await deps.store.appendAudit(
      auditEvent(requester, now, {
        action: 'retrieval-cancelled',
        nhsNumber: offer.nhsNumber,
        site: pick.site,
        studies: [pick.study.studyInstanceUid],
        outcome: 'cancelled before confirming',
      }),
    );
  }
  return decision;
}
