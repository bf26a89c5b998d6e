/**
 * What a failed request to the Bot Connector means for retrying it (transient or permanent, and
 * why), how long Teams asked us to wait (Retry-After), and how long to back off between attempts.
 */

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
