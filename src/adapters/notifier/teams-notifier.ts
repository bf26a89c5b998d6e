/**
 * The Teams notifier: every message the bot posts (a turn's replies, later answers, card updates,
 * proactive notifications) through botbuilder's CloudAdapter and the Bot Connector service, with the
 * retry, throttling and pacing rules Teams asks bots to follow.
 *
 * Three botbuilder behaviours shape this file (botbuilder 4.23):
 * - An error thrown inside `continueConversationAsync`'s logic never reaches the caller:
 *   `BotAdapter.runMiddleware` catches it and hands it to `onTurnError`, and ours (http-server.ts)
 *   logs it and posts "Sorry, something went wrong" into the chat, then resolves. So the logic here
 *   never throws: it captures the error, and the outcome is read after the call resolves. Errors
 *   raised before the logic runs (creating the connector) do reject the call, and are caught too.
 * - The connector client's HTTP pipeline (@azure/core-rest-pipeline) has its own retry policy:
 *   up to 3 retries of 429/5xx/network errors with real timers. That would multiply our attempts
 *   and hide them from the injected clock, so it is removed from the per-turn client first.
 * - In a continuation turn `TurnContext` sets `replyToId` to the made-up continuation activity's id,
 *   which makes the adapter POST a reply to that id; a notification is a new message instead.
 *
 * Retrying a send after an ambiguous failure (a 504, a connection reset after the request went out)
 * can post the message twice: Teams has no idempotency key for new messages. Updates are idempotent.
 */
import {
  ActivityEventNames,
  ActivityTypes,
  MessageFactory,
  type Activity,
  type CloudAdapter,
  type ConversationReference,
  type ResourceResponse,
  type TurnContext,
} from 'botbuilder';
import type { Logger } from '../../logging/logger';
import { askGuard, type AttemptGuard, type NotifierPort, type Reply, type SendOutcome } from '../../ports/notifier-port';
import { withDeadline } from '../../support/deadline';
import { AppError } from '../../domain/app-error';
import { createConversationPacer, type ConversationPacer } from './conversation-pacer';
import { backoffDelayMs, classifySendFailure, type FailureClass, type PermanentReason } from './send-failures';

/** How the Teams notifier is built; everything but the adapter, app id and logger has a default. */
export interface TeamsNotifierOptions {
  readonly adapter: CloudAdapter;
  /** The bot's Microsoft app id ('' in development mode). */
  readonly appId: string;
  readonly logger: Logger;
  /** Requests per send, reply or update before a transient failure is handed back as 'retry' (default 4). */
  readonly maxAttempts?: number;
  /** The backoff ceiling of the first retry; it doubles each attempt (default 500 ms). */
  readonly baseDelayMs?: number;
  /** The longest wait between attempts (default 30 s); a longer Retry-After is handed back to the caller. */
  readonly maxDelayMs?: number;
  /** Uniform in [0, 1), for jitter (default Math.random). */
  readonly random?: () => number;
  /** Waits `ms` (default setTimeout); tests pass a fake that advances their clock. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Epoch milliseconds (default Date.now), for pacing and Retry-After dates. */
  readonly now?: () => number;
  /** Most messages posted into one conversation in any one second (default 7, Teams' per-conversation limit). */
  readonly perConversationPerSecond?: number;
  /** How long one request to the Bot Connector may take before it counts as a transient failure (default 15 s). */
  readonly attemptTimeoutMs?: number;
}

/** Why the notifier's options were refused. */
export type NotifierErrorReason = 'invalid-options';

/** The notifier could not be built as asked. */
export class NotifierError extends AppError<NotifierErrorReason> {
  override readonly name = 'NotifierError';
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The connector client's pipeline, where the runtime has one (a private field of botbuilder's ServiceClientContext). */
type PipelineLike = { removePolicy(options: { name?: string; phase?: string }): unknown[] };

/** Removes the HTTP pipeline's own retry policy from this turn's connector client; false when there is none to find. */
function withoutPipelineRetries(connector: unknown): boolean {
  const pipeline = (connector as { client?: { pipeline?: { removePolicy?: unknown } } } | null | undefined)?.client?.pipeline;
  if (!pipeline || typeof pipeline.removePolicy !== 'function') return false;
  // The client is created for this one continuation (ConnectorFactoryImpl.create), so nothing else shares it.
  (pipeline as PipelineLike).removePolicy({ name: 'defaultRetryPolicy', phase: 'Retry' });
  return true;
}

function toActivity(message: Reply): Partial<Activity> {
  const activity = message.card ? MessageFactory.attachment(message.card, message.text) : MessageFactory.text(message.text ?? '');
  // Teams raises an activity-feed alert for a bot message only when asked in its channelData.
  if (message.alert) activity.channelData = { notification: { alert: true } };
  return activity;
}

/** What a request that succeeded returned: the message's id and, when the connector exposes it, the HTTP status. */
type Delivered = { readonly activityId: string | null; readonly status: number | null };

type AttemptResult = ({ readonly ok: true } & Delivered) | { readonly ok: false; readonly error: unknown };

/** The HTTP status of a connector result (its `_response`, typed on the connector's response models); null when absent. */
function successStatus(response: unknown): number | null {
  const status = (response as { _response?: { status?: unknown } } | undefined)?._response?.status;
  return typeof status === 'number' ? status : null;
}

type Operation = 'send' | 'reply' | 'typing' | 'update';

/** The notifier's settings, defaults applied and checked, and its per-process state. */
interface Settings {
  readonly adapter: CloudAdapter;
  readonly appId: string;
  readonly logger: Logger;
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly random: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
  readonly attemptTimeoutMs: number;
  readonly pacer: ConversationPacer;
  /** Set once the pipeline-retries warning has been logged (it is logged once per notifier). */
  warnedPipeline: boolean;
}

/** Applies the defaults and checks the options; throws NotifierError for options out of range. */
function settingsOf(options: TeamsNotifierOptions): Settings {
  const maxAttempts = options.maxAttempts ?? 4;
  const baseDelayMs = options.baseDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const perSecond = options.perConversationPerSecond ?? 7;
  const sleep = options.sleep ?? realSleep;
  const now = options.now ?? Date.now;
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 15_000;
  if (!(attemptTimeoutMs > 0)) throw new NotifierError('invalid-options', 'attemptTimeoutMs must be more than 0');
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
    throw new NotifierError('invalid-options', 'maxAttempts must be a whole number of at least 1');
  if (!(baseDelayMs >= 0) || !(maxDelayMs >= baseDelayMs))
    throw new NotifierError('invalid-options', 'delays must satisfy 0 <= baseDelayMs <= maxDelayMs');
  if (!Number.isInteger(perSecond) || perSecond < 1)
    throw new NotifierError('invalid-options', 'perConversationPerSecond must be a whole number of at least 1');
  return {
    adapter: options.adapter,
    appId: options.appId,
    logger: options.logger,
    maxAttempts,
    baseDelayMs,
    maxDelayMs,
    random: options.random ?? Math.random,
    sleep,
    now,
    attemptTimeoutMs,
    pacer: createConversationPacer({ perSecond, now, sleep }),
    warnedPipeline: false,
  };
}

/** One request, through a continuation turn; never throws. */
async function attemptOnce(
  settings: Settings,
  reference: Partial<ConversationReference>,
  run: (context: TurnContext) => Promise<Delivered>,
): Promise<AttemptResult> {
  const { adapter, logger } = settings;
  // Filled in by the logic: the adapter swallows what the logic throws (see the file comment).
  const captured: { ran: boolean; failed: boolean; error: unknown; delivered: Delivered } = {
    ran: false,
    failed: false,
    error: null,
    delivered: { activityId: null, status: null },
  };
  try {
    // A connector that never answers must not hold the outbox (and the poll behind it) for ever.
    await withDeadline(
      adapter.continueConversationAsync(settings.appId, reference, async (context) => {
        captured.ran = true;
        try {
          const connector: unknown = context.turnState.get(adapter.ConnectorClientKey);
          if (!withoutPipelineRetries(connector) && !settings.warnedPipeline) {
            settings.warnedPipeline = true;
            logger.warn('notify-pipeline-retries-kept', {
              detail: 'could not remove the connector pipeline retry policy; attempts may take longer',
            });
          }
          captured.delivered = await run(context);
        } catch (error) {
          captured.failed = true;
          captured.error = error;
        }
      }),
      settings.attemptTimeoutMs,
      'the Bot Connector',
    );
  } catch (error) {
    // Raised before the logic ran (connector or credentials), so onTurnError never saw it.
    captured.failed = true;
    captured.error = error;
  }
  if (captured.failed) return { ok: false, error: captured.error };
  // A middleware that ends the turn early would otherwise pass for a delivery.
  if (!captured.ran) return { ok: false, error: new Error('the adapter did not run the continuation') };
  return { ok: true, ...captured.delivered };
}

/**
 * One request through a live turn's own context (its connector client already made): for a turn's
 * replies, typing indicator and card update, so a reply does not cost a continuation turn. Never throws.
 */
async function attemptInTurn(
  settings: Settings,
  turn: TurnContext,
  run: (context: TurnContext) => Promise<Delivered>,
): Promise<AttemptResult> {
  try {
    withoutPipelineRetries(turn.turnState.get(settings.adapter.ConnectorClientKey));
    const delivered = await withDeadline(run(turn), settings.attemptTimeoutMs, 'the Bot Connector');
    return { ok: true, ...delivered };
  } catch (error) {
    return { ok: false, error };
  }
}

/** True for a continuation turn (a made-up activity), where replyToId must be set or removed by hand. */
function isContinuation(context: TurnContext): boolean {
  return (
    context.activity.type === (ActivityTypes.Event as string) &&
    context.activity.name === (ActivityEventNames.ContinueConversation as string)
  );
}

/** Where a delivery stands, for its log lines. */
type Attempt = { readonly operation: Operation; readonly conversation: string; readonly attempt: number };

/**
 * After a failed attempt: the outcome to hand back (permanent, or transient with no attempt left or a
 * wait too long to hold the caller), or how long to wait before the next attempt.
 */
function afterFailure(settings: Settings, at: Attempt, failure: FailureClass): SendOutcome | { readonly waitMs: number } {
  const { logger, maxAttempts, maxDelayMs, baseDelayMs, random } = settings;
  switch (failure.kind) {
    case 'permanent':
      logger.warn('notify-attempt', { ...at, status: failure.status, outcome: 'permanent', reason: failure.reason });
      return { kind: 'permanent', reason: failure.reason };
    case 'transient': {
      const retryAfterMs = failure.retryAfterMs ?? 0;
      // Waiting longer than maxDelayMs in-process would hold the caller (and its lease): hand the wait back.
      if (at.attempt >= maxAttempts || retryAfterMs > maxDelayMs) {
        const afterMs = Math.max(retryAfterMs, Math.min(maxDelayMs, baseDelayMs * 2 ** at.attempt));
        logger.warn('notify-attempt', { ...at, status: failure.status, outcome: 'retry-later', reason: failure.reason, waitMs: afterMs });
        return { kind: 'retry', afterMs, reason: failure.reason };
      }
      const waitMs = Math.min(maxDelayMs, Math.max(retryAfterMs, backoffDelayMs(at.attempt, { baseDelayMs, maxDelayMs, random })));
      logger.warn('notify-attempt', { ...at, status: failure.status, outcome: 'retrying', reason: failure.reason, waitMs });
      return { waitMs };
    }
  }
}

/** Sends with pacing and in-process retries until sent, permanent, or out of attempts. */
async function deliver(
  settings: Settings,
  operation: Operation,
  reference: Partial<ConversationReference>,
  message: Reply | null,
  run: (context: TurnContext) => Promise<Delivered>,
  activityId: string | null,
  guard?: AttemptGuard,
  turn?: TurnContext,
): Promise<SendOutcome> {
  const { logger } = settings;
  const conversation = reference.conversation?.id ?? null;
  const refuse = (reason: PermanentReason): SendOutcome => {
    logger.warn('notify-attempt', { operation, conversation, attempt: 0, status: null, outcome: 'permanent', reason });
    return { kind: 'permanent', reason };
  };
  if (!conversation || !reference.serviceUrl) return refuse('invalid-reference');
  if ((operation === 'reply' || operation === 'update') && !activityId) return refuse('invalid-reference');
  // A typing indicator (null) carries nothing; a message must carry text or a card.
  if (message !== null && !message.text && !message.card) return refuse('empty-message');

  for (let attempt = 1; ; attempt += 1) {
    await settings.pacer.acquire(conversation);
    // The fence: asked after every wait, just before the request, so a lease lost meanwhile sends nothing.
    const withdrawn = await askGuard(guard);
    if (withdrawn) {
      logger.warn('notify-attempt', { operation, conversation, attempt, status: null, outcome: 'withdrawn', reason: withdrawn });
      return { kind: 'withdrawn', reason: withdrawn };
    }
    const result = turn ? await attemptInTurn(settings, turn, run) : await attemptOnce(settings, reference, run);
    if (result.ok) {
      logger.info('notify-attempt', { operation, conversation, attempt, status: result.status, outcome: 'sent' });
      return { kind: 'sent', activityId: result.activityId };
    }
    const next = afterFailure(settings, { operation, conversation, attempt }, classifySendFailure(result.error, settings.now()));
    if ('kind' in next) return next;
    await settings.sleep(next.waitMs);
  }
}

/** Posts `message` as a new message (`replyToId` null) or as the answer to the activity `replyToId`. */
function post(message: Reply, replyToId: string | null): (context: TurnContext) => Promise<Delivered> {
  return async (context) => {
    // In a continuation turn TurnContext sets replyToId to a made-up activity's id (see the file comment);
    // in the live turn it already answers the turn's activity.
    if (isContinuation(context) || context.activity.id !== replyToId) {
      context.onSendActivities((_context, activities, next) => {
        for (const activity of activities) {
          if (replyToId === null) delete activity.replyToId;
          else activity.replyToId = replyToId;
        }
        return next();
      });
    }
    const response = await context.sendActivity(toActivity(message));
    return { activityId: response?.id || null, status: successStatus(response) };
  };
}

/** Posts Teams' typing indicator (a typing activity: no message, nothing to update later). */
async function typingIndicator(context: TurnContext): Promise<Delivered> {
  if (isContinuation(context)) {
    context.onSendActivities((_context, activities, next) => {
      for (const activity of activities) delete activity.replyToId;
      return next();
    });
  }
  const response = await context.sendActivity({ type: ActivityTypes.Typing });
  return { activityId: null, status: successStatus(response) };
}

/** Replaces the activity `activityId` with `message`. */
function replace(message: Reply, activityId: string): (context: TurnContext) => Promise<Delivered> {
  return async (context) => {
    if (isContinuation(context)) {
      context.onUpdateActivity((_context, activity, next) => {
        delete activity.replyToId;
        return next();
      });
    }
    // CloudAdapterBase.updateActivity returns a bare { id }, so there is no status to report.
    const response = (await context.updateActivity({ ...toActivity(message), id: activityId })) as ResourceResponse | undefined;
    return { activityId: response?.id || activityId, status: null };
  };
}

/** The notifier's operations, through continuation turns or, when given, a live turn's own context. */
function operations(settings: Settings, turn?: TurnContext): NotifierPort {
  return {
    send(reference, message, guard) {
      return deliver(settings, 'send', reference, message, post(message, null), null, guard, turn);
    },
    reply(reference, replyToId, message) {
      // A reply without the activity it answers would go out as a new message: refused, as an update without an id is.
      return deliver(settings, 'reply', reference, message, post(message, replyToId || null), replyToId, undefined, turn);
    },
    typing(reference) {
      return deliver(settings, 'typing', reference, null, typingIndicator, null, undefined, turn);
    },
    update(reference, activityId, message) {
      return deliver(settings, 'update', reference, message, replace(message, activityId), activityId, undefined, turn);
    },
    // Pacing, retries and classification are the same settings (one pacer) whichever way a message goes.
    forTurn: (live) => operations(settings, live),
  };
}

/** Builds the Teams notifier. Throws NotifierError for options out of range. */
export function createTeamsNotifier(options: TeamsNotifierOptions): NotifierPort {
  return operations(settingsOf(options));
}
