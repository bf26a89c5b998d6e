/**
 * The retrieval state machine, and which state owes the requester a notification: pure rules that
 * every store applies (SQLite, PostgreSQL and the in-memory fake), so that they cannot drift apart.
 */
import { StoreError, type NotificationKind, type Retrieval, type RetrievalState, type StorePort } from '../ports/store-port';

/** The optional changes a transition may carry (the fifth argument of StorePort.transition). */
export type TransitionChanges = NonNullable<Parameters<StorePort['transition']>[4]>;

export const allStates: readonly RetrievalState[] = ['requested', 'retrieving', 'stored', 'failed', 'cancelled'];

/** The states a retrieval may be in while it blocks a second retrieval of the same study. */
export const activeStates: readonly RetrievalState[] = ['requested', 'retrieving'];

/** True for the five retrieval states (for values that come from outside the type system). */
export function isRetrievalState(value: unknown): value is RetrievalState {
  return typeof value === 'string' && (allStates as readonly string[]).includes(value);
}

/**
 * Where a retrieval may go from `state`. 'failed' -> 'requested' is the clinician's "try again"; a
 * retrieval not yet ended may be cancelled, and a cancelled one goes nowhere (a new search starts anew).
 */
export function nextStates(state: RetrievalState): readonly RetrievalState[] {
  switch (state) {
    case 'requested':
      return ['retrieving', 'failed', 'cancelled'];
    case 'retrieving':
      return ['stored', 'failed', 'cancelled'];
    case 'stored':
    case 'cancelled':
      return [];
    case 'failed':
      return ['requested'];
  }
}

/**
 * Throws StoreError('invalid') unless every state in `from` may move to `to`: a caller asking for
 * an impossible move has a bug, which should surface whatever state the retrieval happens to be in.
 */
export function checkMove(from: readonly RetrievalState[], to: RetrievalState): void {
  if (!isRetrievalState(to)) throw new StoreError('invalid', 'unknown target state');
  if (from.length === 0) throw new StoreError('invalid', `a move to ${to} needs at least one state to move from`);
  for (const state of from) {
    if (!isRetrievalState(state)) throw new StoreError('invalid', 'unknown source state');
    if (!nextStates(state).includes(to)) throw new StoreError('invalid', `a retrieval cannot move from ${state} to ${to}`);
  }
}

/**
 * The retrieval after a move to `to` at `at`. Going back to 'requested' (a retry) clears the old
 * PACS job and failure, which belong to the attempt that failed; other fields change only when given.
 */
export function applyTransition(current: Retrieval, to: RetrievalState, at: string, changes: TransitionChanges): Retrieval {
  const retry = to === 'requested';
  return {
    ...current,
    state: to,
    updatedAt: at,
    pacsJobId: changes.pacsJobId ?? (retry ? null : current.pacsJobId),
    failureReason: changes.failureReason ?? (retry ? null : current.failureReason),
    cardActivityId: changes.cardActivityId ?? current.cardActivityId,
  };
}

/**
 * The notification a move to `to` owes the requester, if any: only the two endings the clinician did
 * not choose are announced (a cancel is answered in the turn that asked for it).
 */
export function notificationKindFor(to: RetrievalState): NotificationKind | null {
  switch (to) {
    case 'stored':
    case 'failed':
      return to;
    case 'requested':
    case 'retrieving':
    case 'cancelled':
      return null;
  }
}
