/**
 * The REST client of the Orthanc adapter: one JSON call at a time, with Basic auth and a timeout, and
 * the mapping of every failure (network, HTTP status, Orthanc's error body, an unexpected reply) to a
 * PacsError. Nothing patient-identifying goes into an error message: only site ids, HTTP and Orthanc status codes.
 */
import { z } from 'zod';
import { PacsError, type PacsErrorReason, type SiteId } from '../../ports/pacs-port';
import { text } from './orthanc-dicom';

/** The reply of a POST that creates something in Orthanc (a query, a job). */
export const created = z.object({ ID: z.string().min(1) });

/** Where a failure happened: null = Orthanc itself (UH Bristol), otherwise the remote site. */
export type Where = SiteId | null;

/** The place a failure happened, in words for an error message. */
export function describeWhere(where: Where): string {
  return where === null ? "UH Bristol's Orthanc gateway" : `the PACS at ${where}`;
}

/** Reads Orthanc's error wording (never put into our messages) to tell DICOM network failures apart. */
export function classifyDetails(text: string): PacsErrorReason {
  if (/connection refused/i.test(text)) return 'unreachable';
  if (/time[d ]?\s?out/i.test(text)) return 'timed-out';
  if (/association rejected|rejected association|peer aborted/i.test(text)) return 'rejected';
  return 'protocol';
}

/** The error message for a failure of kind `reason` at `where`. */
export function networkMessage(reason: PacsErrorReason, where: Where): string {
  switch (reason) {
    case 'unreachable':
      return `${describeWhere(where)} could not be reached`;
    case 'timed-out':
      return `${describeWhere(where)} did not answer in time`;
    case 'rejected':
      return `${describeWhere(where)} refused the connection`;
    case 'not-found':
      return `${describeWhere(where)} does not hold what was asked for`;
    case 'unknown-site':
      return `no PACS link is configured for site ${where ?? '(none)'}`;
    case 'protocol':
      return `${describeWhere(where)} gave an answer that could not be used`;
  }
}

/**
 * One REST call to Orthanc, its reply parsed with `schema`; every failure becomes a PacsError
 * attributed to `where`. Without `signal` the call is aborted after the client's request timeout.
 */
export type OrthancCall = <T>(
  method: 'GET' | 'POST',
  path: string,
  schema: z.ZodType<T, z.ZodTypeDef, unknown>,
  where: Where,
  body?: unknown,
  signal?: AbortSignal,
) => Promise<T>;

/** How to reach Orthanc's REST API. */
export interface OrthancHttpOptions {
  /** Base URL of Orthanc's REST API; trailing slashes are ignored. */
  readonly url: string;
  /** HTTP Basic credentials; an empty username sends none. */
  readonly username: string;
  readonly password: string;
  /** Abort timeout of a call given no signal of its own. */
  readonly requestTimeoutMs: number;
}

/** Creates the function that makes one REST call to Orthanc. */
export function createOrthancCall(options: OrthancHttpOptions): OrthancCall {
  const base = options.url.replace(/\/+$/, '');
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.username !== '') {
    headers.authorization = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
  }

  return async function call<T>(
    method: 'GET' | 'POST',
    path: string,
    schema: z.ZodType<T, z.ZodTypeDef, unknown>,
    where: Where,
    body?: unknown,
    signal: AbortSignal = AbortSignal.timeout(options.requestTimeoutMs),
  ): Promise<T> {
    let status: number;
    let raw: string;
    try {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
      status = response.status;
      raw = await response.text();
    } catch {
      // Our own abort means the far end went quiet; anything else means Orthanc itself is not there.
      if (signal.aborted) {
        throw new PacsError('timed-out', networkMessage('timed-out', where), where);
      }
      throw new PacsError('unreachable', networkMessage('unreachable', null), null);
    }
    if (status < 200 || status > 299) throw httpError(status, raw, path, where);
    return parseReply(status, raw, schema, where);
  };
}

/** A successful reply's body, checked against `schema`. */
function parseReply<T>(status: number, raw: string, schema: z.ZodType<T, z.ZodTypeDef, unknown>, where: Where): T {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    throw new PacsError('protocol', `${describeWhere(null)} sent a reply that is not JSON (HTTP ${status})`, where);
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    throw new PacsError('protocol', `${describeWhere(null)} sent a reply of an unexpected shape (HTTP ${status})`, where);
  }
  return parsed.data;
}

/** The PacsError for a reply with a non-2xx HTTP status. */
function httpError(status: number, raw: string, path: string, where: Where): PacsError {
  if (status === 401 || status === 403) {
    return new PacsError('rejected', `${describeWhere(null)} refused the bot's credentials (HTTP ${status})`, null);
  }
  let details = '';
  let orthancStatus: number | null = null;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed !== null && typeof parsed === 'object') {
      const error = parsed as Record<string, unknown>;
      details = `${text(error, 'Details')} ${text(error, 'Message')}`;
      orthancStatus = typeof error.OrthancStatus === 'number' ? error.OrthancStatus : null;
    }
  } catch {
    // Not Orthanc's JSON error shape: the HTTP status is all we have.
  }
  if (status === 404) {
    // Orthanc does not know the modality the site is configured with: a configuration gap, not a missing study.
    if (where !== null && path.startsWith('/modalities/')) {
      return new PacsError('unknown-site', `${describeWhere(null)} has no DICOM modality for site ${where}`, where);
    }
    return new PacsError('not-found', networkMessage('not-found', where), where);
  }
  const reason = classifyDetails(details);
  const code = orthancStatus === null ? '' : `, Orthanc status ${orthancStatus}`;
  return new PacsError(reason, `${networkMessage(reason, where)} (HTTP ${status}${code})`, where);
}
