/**
 * What every step of the retrieval conversation shares: its dependencies, who is asking, and the
 * checks that turn a use case's refusal into words (patient data only in 1:1 chats and for allowed
 * users; a signed card only for the user and chat it was made for).
 */
import type { CardRenderer } from '../cards/card-renderer';
import type { Guide } from '../domain/guide/guide';
import type { TurnClaim } from '../ports/store-port';
import type { AccessRules } from '../retrieval/access';
import { admitToPatientData, checkCardHolder, type GateCaller, type SearchLimiter } from '../retrieval/gatekeeper';
import type { RetrievalDeps } from '../retrieval/retrieval-deps';
import { accessRefusalWords, cardProblemWords } from './retrieval-words';
import type { Signer } from './signed-data';
import type { Turn } from './turn';

/** Everything the retrieval conversation needs. */
export interface RetrievalConversationDeps extends RetrievalDeps {
  readonly guide: Guide;
  readonly cards: CardRenderer;
  readonly signer: Signer;
  readonly access: AccessRules;
  readonly zone: string;
  /** The per-user patient search limit (PATIENT_SEARCHES_PER_MINUTE); over it, searches are refused and audited. */
  readonly searches: SearchLimiter;
  /** True for the demo backend: every card says the data is synthetic. */
  readonly demo: boolean;
  /** VIEWER_URL_TEMPLATE (checked at start): an "Open images" button on stored studies; null = none. */
  readonly viewerUrlTemplate: string | null;
}

/** Who is asking, and where. */
export interface TurnCaller extends GateCaller {
  /** The card whose button was pressed (Teams' replyToId), if any. */
  readonly pressedActivityId?: string | null;
  /** This turn's claim on its activity, marked done with what the turn records (null: none). */
  readonly turnClaim?: TurnClaim | null;
}

/** A turn that says one thing. */
export function say(text: string): Turn {
  return { replies: [{ text }] };
}

/** True for a turn (a refusal) rather than the value a check let through. */
export function isTurn(value: unknown): value is Turn {
  return typeof value === 'object' && value !== null && 'replies' in value;
}

/** Refuses patient data outside 1:1 chats and to callers not allowed; null when the caller may go on. */
export async function guard(caller: TurnCaller, deps: RetrievalConversationDeps, now: Date): Promise<Turn | null> {
  const refusal = await admitToPatientData(caller, deps.access, deps.store, now);
  return refusal === null ? null : say(accessRefusalWords[refusal]);
}

/**
 * Checks a signed card payload against the caller. A forged or tampered card, or one offered to
 * somebody else or in another chat, is refused and audited; an expired one is only refused.
 */
export async function checkCard<T extends { readonly user: string; readonly conversation: string }>(
  payload: T | null,
  caller: TurnCaller,
  deps: RetrievalConversationDeps,
  now: Date,
  expires: string | null,
): Promise<T | Turn> {
  const problem = await checkCardHolder(payload, caller, deps.store, now, expires);
  return problem === null ? payload! : say(cardProblemWords[problem]);
}
