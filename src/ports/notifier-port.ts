/**
 * The notifier port: every message the bot posts into a Teams conversation leaves through it: a
 * turn's answers (replies to the activity), the answers of slow work posted after the turn, cards
 * replaced in place, and proactive messages such as "your studies are on UH Bristol PACS". So retry,
 * pacing and failure classification live in one place. Adapters: Teams (botbuilder's CloudAdapter
 * and the Bot Connector service) and an in-memory fake for tests; one contract suite checks both.
 *
 * A call never throws for a channel failure: it says what happened, so the caller can record a
 * sent message, persist a retry, or give up, in the same place.
 */
import type { Attachment, ConversationReference, TurnContext } from 'botbuilder';

/** What became of one send or update, after any in-process retries. */
export type SendOutcome =
  /** Delivered; `activityId` identifies the message for a later update (null if the channel gave none). */
  | { readonly kind: 'sent'; readonly activityId: string | null }
  /** Transient (throttled, channel down, network): already retried in-process as configured and still failing; try after `afterMs`. */
  | { readonly kind: 'retry'; readonly afterMs: number; readonly reason: string }
  /** Will not succeed by retrying (403 / 404 / 400 / 401: not in roster, blocked, conversation gone, bad request). */
  | { readonly kind: 'permanent'; readonly reason: string }
  /** Not sent: the caller's guard said no (or failed) just before an attempt, e.g. its lease was lost. */
  | { readonly kind: 'withdrawn'; readonly reason: 'guard-refused' | 'guard-failed' };

/**
 * Asked just before each attempt of a send (after any pacing or backoff wait): true lets it go out,
 * false (or a failure) withdraws the send. The outbox renews its lease here (the fence), so a sender
 * that lost its lease while it waited never sends what another sender now owns.
 */
export type AttemptGuard = () => Promise<boolean>;

/** Why a guard withdrew a send. */
export type WithdrawnReason = Extract<SendOutcome, { readonly kind: 'withdrawn' }>['reason'];

/** Asks `guard` (if any) before an attempt: null lets the attempt go out, otherwise why it is withdrawn. Every adapter asks this way. */
export async function askGuard(guard: AttemptGuard | undefined): Promise<WithdrawnReason | null> {
  if (!guard) return null;
  const allowed = await guard().catch(() => null);
  return allowed === true ? null : allowed === false ? 'guard-refused' : 'guard-failed';
}

/** One message the bot posts: text, a card, or a card with fallback text. At least one must be present. */
export interface Reply {
  /** What a phone's notification and lock screen show: never a patient identifier in a proactive message. */
  readonly text?: string;
  readonly card?: Attachment;
  /** Ask Teams for an activity-feed alert (channelData.notification.alert), so the message is not missed. */
  readonly alert?: boolean;
}

/** Posts, answers and updates messages in Teams conversations. */
export interface NotifierPort {
  /** Posts a new message into the conversation of `reference` (a serialized ConversationReference). */
  send(reference: Partial<ConversationReference>, message: Reply, guard?: AttemptGuard): Promise<SendOutcome>;
  /** Posts a message answering the activity `replyToId` (a turn's reply) into the conversation of `reference`. */
  reply(reference: Partial<ConversationReference>, replyToId: string, message: Reply): Promise<SendOutcome>;
  /** Shows Teams' typing indicator in the conversation (slow work under way); posts no message. */
  typing(reference: Partial<ConversationReference>): Promise<SendOutcome>;
  /**
   * The same notifier (same pacing and retries) sending through a live turn's own connection, for that
   * turn's replies; optional (an adapter without one serves the turn as any other send).
   */
  forTurn?(turn: TurnContext): NotifierPort;
  /** Replaces an earlier message (e.g. the status card) in place. */
  update(reference: Partial<ConversationReference>, activityId: string, message: Reply): Promise<SendOutcome>;
}
