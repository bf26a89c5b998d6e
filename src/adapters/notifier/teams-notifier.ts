/**
 * The Teams notifier: proactive messages through botbuilder's CloudAdapter and the Bot Connector
 * service, with the retry, throttling and pacing rules Teams asks bots to follow.
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
  MessageFactory,
  type Activity,
  type CloudAdapter,
  type ConversationReference,
  type ResourceResponse,
  type TurnContext,
} from 'botbuilder';
import type { Logger } from '../../logging/logger';
import { askGuard, type AttemptGuard, type NotifierPort, type OutgoingMessage, type SendOutcome } from '../../ports/notifier-port';
import { withDeadline } from '../../support/deadline';
import { AppError } from '../../domain/app-error';

/** How the Teams notifier is built; everything but the adapter, app id and logger has a default. */
export interface TeamsNotifierOptions {
  readonly adapter: CloudAdapter;
  /** The bot's Microsoft app id ('' in development mode). */
  readonly appId: string;
  readonly logger: Logger;
  /** Requests per send or update before a transient failure is handed back as 'retry' (default 4). */
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

/** Failures worth retrying: the channel is busy or briefly unreachable. */
export type TransientReason =
  | 'throttled'
  | 'precondition-failed'
  | 'request-timeout'
  | 'server-error'
  | 'bad-gateway'
  | 'service-unavailable'
  | 'gateway-timeout'
  | 'network'
  | 'unknown';

/** Failures that retrying will not fix. */
export type PermanentReason =
  | 'bad-request'
  | 'unauthorized'
  | 'forbidden'
  | 'not-in-roster'
  | 'blocked-by-user'
  | 'bot-disabled'
  | 'not-found'
  | 'too-large'
  | 'rejected'
  | 'invalid-reference'
  | 'empty-message';

/** What a failed request means for retrying it. */
export type FailureClass =
  | { readonly kind: 'transient'; readonly reason: TransientReason; readonly status: number | null; readonly retryAfterMs: number | null }
  | { readonly kind: 'permanent'; readonly reason: PermanentReason; readonly status: number | null };

/** Socket-level failures (Node error codes) that a later attempt may get past. */
const networkCodes: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'ECONNABORTED',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'REQUEST_SEND_ERROR',
]);

/** Teams' error codes on a 403, as the connector's JSON body (`error.code`) names them. */
const forbiddenCodes: Readonly<Record<string, PermanentReason>> = {
  BotNotInConversationRoster: 'not-in-roster',
  ConversationBlockedByUser: 'blocked-by-user',
  BotDisabledByAdmin: 'bot-disabled',
};

type ErrorShape = {
  readonly statusCode?: unknown;
  readonly status?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly cause?: { readonly code?: unknown };
  readonly response?: { readonly status?: unknown; readonly headers?: unknown };
};

function shapeOf(error: unknown): ErrorShape {
  return typeof error === 'object' && error !== null ? error : {};
}

/** The HTTP status of a failed call: RestError's `statusCode`, else its response's `status`. */
function statusOf(error: ErrorShape): number | null {
  for (const candidate of [error.statusCode, error.response?.status, error.status]) {
    if (typeof candidate === 'number' && Number.isInteger(candidate) && candidate >= 100) return candidate;
  }
  return null;
}

/** A response header: from core-rest-pipeline's HttpHeaders (`get`), or a plain object. */
function headerOf(error: ErrorShape, name: string): string | null {
  const headers = error.response?.headers;
  if (typeof headers !== 'object' || headers === null) return null;
  const get = (headers as { get?: unknown }).get;
  if (typeof get === 'function') {
    const value: unknown = (get as (this: unknown, key: string) => unknown).call(headers, name);
    return typeof value === 'string' ? value : null;
  }
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (key.toLowerCase() !== name) continue;
    if (typeof value === 'string') return value;
    if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  }
  return null;
}

/** A Retry-After header in ms from `nowMs`: delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | null {
  const raw = value?.trim();
  if (!raw) return null;
  if (/^\d+(\.\d+)?$/.test(raw)) return Math.round(Number(raw) * 1000);
  // An HTTP date names its day and month; Date.parse alone would read '-5' as a year.
  if (!/[a-z]/i.test(raw)) return null;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

function transient(reason: TransientReason, status: number | null, retryAfterMs: number | null = null): FailureClass {
  return { kind: 'transient', reason, status, retryAfterMs };
}

function permanent(reason: PermanentReason, status: number | null): FailureClass {
  return { kind: 'permanent', reason, status };
}

/**
 * What a failure thrown by the connector means. botbuilder's connector throws
 * @azure/core-rest-pipeline's RestError: `statusCode`, `code` (Teams' `error.code` from the body,
 * or a Node socket code such as ECONNRESET when there was no response) and `response.headers`.
 * An error with neither a status nor a known code is treated as transient, so a notification is
 * handed back for a later try rather than dropped.
 */
export function classifySendFailure(error: unknown, nowMs: number): FailureClass {
  const shape = shapeOf(error);
  const status = statusOf(shape);
  const code = typeof shape.code === 'string' ? shape.code : typeof shape.cause?.code === 'string' ? shape.cause.code : null;
  if (status === null) {
    const hungUp = typeof shape.message === 'string' && shape.message.toLowerCase().includes('socket hang up');
    return transient(code !== null && networkCodes.has(code) ? 'network' : hungUp ? 'network' : 'unknown', null);
  }
  const retryAfterMs = parseRetryAfter(headerOf(shape, 'retry-after'), nowMs);
  switch (status) {
    case 429:
      return transient('throttled', status, retryAfterMs);
    case 412:
      return transient('precondition-failed', status, retryAfterMs);
    case 408:
      return transient('request-timeout', status, retryAfterMs);
    case 500:
      return transient('server-error', status, retryAfterMs);
    case 502:
      return transient('bad-gateway', status, retryAfterMs);
    case 503:
      return transient('service-unavailable', status, retryAfterMs);
    case 504:
      return transient('gateway-timeout', status, retryAfterMs);
    case 400:
      return permanent('bad-request', status);
    case 401:
      return permanent('unauthorized', status);
    case 403:
      return permanent((code !== null ? forbiddenCodes[code] : undefined) ?? 'forbidden', status);
    case 404:
      return permanent('not-found', status);
    case 413:
      return permanent('too-large', status);
    default:
      return status >= 500 ? transient('server-error', status, retryAfterMs) : permanent('rejected', status);
  }
}

/** The wait before retry number `attempt` (1 = after the first failure): "full jitter", uniform in [0, min(max, base * 2^(attempt-1))). */
export function backoffDelayMs(
  attempt: number,
  options: { readonly baseDelayMs: number; readonly maxDelayMs: number; readonly random: () => number },
): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  // A random() that returns 1 (or garbage) must not push the wait past the ceiling.
  const r = Math.min(Math.max(options.random(), 0), 1 - Number.EPSILON);
  return Math.floor(r * ceiling);
}

/** Holds sends back so that no conversation gets more than a set number of messages in any second. */
export interface ConversationPacer {
  /** Resolves when a message may be posted into the conversation; the ms it waited. */
  acquire(conversationId: string): Promise<number>;
}

/**
 * A sliding-window pacer keyed by conversation id. Each caller reserves its slot before waiting, so
 * concurrent sends to one conversation queue up in order and other conversations never wait for them.
 */
export function createConversationPacer(options: {
  readonly perSecond: number;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}): ConversationPacer {
  const windowMs = 1000;
  const { perSecond, now, sleep } = options;
  /** Reserved send instants per conversation, ascending; only those still inside a window are kept. */
  const reserved = new Map<string, number[]>();

  const forget = (at: number): void => {
    for (const [id, slots] of reserved) {
      const live = slots.filter((slot) => slot > at - windowMs);
      if (live.length === 0) reserved.delete(id);
      else if (live.length !== slots.length) reserved.set(id, live);
    }
  };

  return {
    async acquire(conversationId) {
      const at = now();
      forget(at);
      const slots = reserved.get(conversationId) ?? [];
      // The slot `perSecond` back from the end must be a full window before this one.
      const earlier = slots.length >= perSecond ? slots[slots.length - perSecond] : undefined;
      const slot = earlier === undefined ? at : Math.max(at, earlier + windowMs);
      slots.push(slot);
      reserved.set(conversationId, slots);
      const waitMs = slot - at;
      if (waitMs > 0) await sleep(waitMs);
      return waitMs;
    },
  };
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

function toActivity(message: OutgoingMessage): Partial<Activity> {
  return message.card ? MessageFactory.attachment(message.card, message.text) : MessageFactory.text(message.text ?? '');
}

/** What a request that succeeded returned: the message's id and, when the connector exposes it, the HTTP status. */
type Delivered = { readonly activityId: string | null; readonly status: number | null };

type AttemptResult = ({ readonly ok: true } & Delivered) | { readonly ok: false; readonly error: unknown };

/** The HTTP status of a connector result (its `_response`, typed on the connector's response models); null when absent. */
function successStatus(response: unknown): number | null {
  const status = (response as { _response?: { status?: unknown } } | undefined)?._response?.status;
  return typeof status === 'number' ? status : null;
}

type Operation = 'send' | 'update';

/** Builds the Teams notifier. Throws NotifierError for options out of range. */
export function createTeamsNotifier(options: TeamsNotifierOptions): NotifierPort {
  const { adapter, appId, logger } = options;
  const maxAttempts = options.maxAttempts ?? 4;
  const baseDelayMs = options.baseDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const perSecond = options.perConversationPerSecond ?? 7;
  const random = options.random ?? Math.random;
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

  const pacer = createConversationPacer({ perSecond, now, sleep });
  let warnedPipeline = false;

  /** One request, through a continuation turn; never throws. */
  async function attemptOnce(
    reference: Partial<ConversationReference>,
    run: (context: TurnContext) => Promise<Delivered>,
  ): Promise<AttemptResult> {
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
        adapter.continueConversationAsync(appId, reference, async (context) => {
          captured.ran = true;
          try {
            const connector: unknown = context.turnState.get(adapter.ConnectorClientKey);
            if (!withoutPipelineRetries(connector) && !warnedPipeline) {
              warnedPipeline = true;
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
        attemptTimeoutMs,
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

  /** Sends with pacing and in-process retries until sent, permanent, or out of attempts. */
  async function deliver(
    operation: Operation,
    reference: Partial<ConversationReference>,
    message: OutgoingMessage,
    run: (context: TurnContext) => Promise<Delivered>,
    activityId: string | null,
    guard?: AttemptGuard,
  ): Promise<SendOutcome> {
    const conversation = reference.conversation?.id ?? null;
    const refuse = (reason: PermanentReason): SendOutcome => {
      logger.warn('notify-attempt', { operation, conversation, attempt: 0, status: null, outcome: 'permanent', reason });
      return { kind: 'permanent', reason };
    };
    if (!conversation || !reference.serviceUrl) return refuse('invalid-reference');
    if (operation === 'update' && !activityId) return refuse('invalid-reference');
    if (!message.text && !message.card) return refuse('empty-message');

    for (let attempt = 1; ; attempt += 1) {
      await pacer.acquire(conversation);
      // The fence: asked after every wait, just before the request, so a lease lost meanwhile sends nothing.
      const withdrawn = await askGuard(guard);
      if (withdrawn) {
        logger.warn('notify-attempt', { operation, conversation, attempt, status: null, outcome: 'withdrawn', reason: withdrawn });
        return { kind: 'withdrawn', reason: withdrawn };
      }
      const result = await attemptOnce(reference, run);
      if (result.ok) {
        logger.info('notify-attempt', { operation, conversation, attempt, status: result.status, outcome: 'sent' });
        return { kind: 'sent', activityId: result.activityId };
      }
      const failure = classifySendFailure(result.error, now());
      switch (failure.kind) {
        case 'permanent':
          logger.warn('notify-attempt', {
            operation,
            conversation,
            attempt,
            status: failure.status,
            outcome: 'permanent',
            reason: failure.reason,
          });
          return { kind: 'permanent', reason: failure.reason };
        case 'transient': {
          const retryAfterMs = failure.retryAfterMs ?? 0;
          // Waiting longer than maxDelayMs in-process would hold the caller (and its lease): hand the wait back.
          if (attempt >= maxAttempts || retryAfterMs > maxDelayMs) {
            const afterMs = Math.max(retryAfterMs, Math.min(maxDelayMs, baseDelayMs * 2 ** attempt));
            logger.warn('notify-attempt', {
              operation,
              conversation,
              attempt,
              status: failure.status,
              outcome: 'retry-later',
              reason: failure.reason,
              waitMs: afterMs,
            });
            return { kind: 'retry', afterMs, reason: failure.reason };
          }
          const waitMs = Math.min(maxDelayMs, Math.max(retryAfterMs, backoffDelayMs(attempt, { baseDelayMs, maxDelayMs, random })));
          logger.warn('notify-attempt', {
            operation,
            conversation,
            attempt,
            status: failure.status,
            outcome: 'retrying',
            reason: failure.reason,
            waitMs,
          });
          await sleep(waitMs);
          break;
        }
      }
    }
  }

  return {
    send(reference, message, guard) {
      return deliver(
        'send',
        reference,
        message,
        async (context) => {
          // A new message, not a reply to the continuation's made-up activity id (see the file comment).
          context.onSendActivities((_context, activities, next) => {
            for (const activity of activities) delete activity.replyToId;
            return next();
          });
          const response = await context.sendActivity(toActivity(message));
          return { activityId: response?.id || null, status: successStatus(response) };
        },
        null,
        guard,
      );
    },
    update(reference, activityId, message) {
      return deliver(
        'update',
        reference,
        message,
        async (context) => {
          context.onUpdateActivity((_context, activity, next) => {
            delete activity.replyToId;
            return next();
          });
          // CloudAdapterBase.updateActivity returns a bare { id }, so there is no status to report.
          const response = (await context.updateActivity({ ...toActivity(message), id: activityId })) as ResourceResponse | undefined;
          return { activityId: response?.id || activityId, status: null };
        },
        activityId,
      );
    },
  };
}
