/**
 * The HTTP face of the bot: POST /api/messages (Bot Framework protocol, through botbuilder's
 * CloudAdapter), GET /healthz (alive), GET /readyz (the database answers: can serve turns) and
 * GET /readyz?pacs=1 (the PACS side too: UH Bristol's PACS and the retrieval poll loop).
 *
 * Every inbound request is authenticated here, before the adapter runs the turn, so that each
 * failure gets its own answer: a missing, forged or expired token is 401, and a token issuer whose
 * metadata cannot be fetched is 503 (fail closed, with the reason logged), never a 500 or a turn.
 */
import { randomUUID } from 'node:crypto';
import {
  ActivityHandler,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  type Activity,
  type InvokeResponse,
  type TurnContext,
} from 'botbuilder';
import { AuthenticationError, type AuthenticateRequestResult } from 'botframework-connector';
import restify from 'restify';
import type { Config } from '../config/config';
import { withRequest, type Logger } from '../logging/logger';
import { withDeadline } from '../support/deadline';
import { reasonOf } from '../domain/app-error';

/** Largest request body accepted; a Teams activity is a few KB. */
export const maxBodyBytes = 256 * 1024;

/**
 * What every route with a body takes: JSON and nothing else (415), no larger than maxBodyBytes (413),
 * both checked before a byte is parsed. No multipart (nothing is written to disk) and no URL-encoded
 * forms: a web page can post those cross-origin without asking, but not application/json.
 */
export function jsonBody(): restify.RequestHandler[] {
  const requireJson: restify.RequestHandler = (req, res, next) => {
    const type = (req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') {
      res.send(415, { error: 'The body must be application/json.' });
      return next(false);
    }
    const length = Number(req.header('content-length') ?? '0');
    if (Number.isFinite(length) && length > maxBodyBytes) {
      res.send(413, { error: `The body must be at most ${maxBodyBytes} bytes.` });
      return next(false);
    }
    return next();
  };
  return [
    requireJson,
    restify.plugins.bodyReader({ maxBodySize: maxBodyBytes }),
    ...restify.plugins.jsonBodyParser({ mapParams: false, bodyReader: true }),
  ];
}

/** CloudAdapter with authentication as a step of its own, so its failures are answered apart from the turn's. */
export class BotAdapter extends CloudAdapter {
  /** Checks the request's Bot Framework token (anonymous in development mode); rejects when it is not valid. */
  authenticate(activity: Activity, authHeader: string): Promise<AuthenticateRequestResult> {
    return this.botFrameworkAuthentication.authenticateRequest(activity, authHeader);
  }

  /** Runs the turn of an authenticated request; resolves with the invoke response, if any. */
  runAuthenticated(
    auth: AuthenticateRequestResult,
    activity: Activity,
    logic: (context: TurnContext) => Promise<void>,
  ): Promise<InvokeResponse | undefined> {
    return this.processActivity(auth, activity, logic);
  }
}

/** Socket-level failures: the token issuer could not be reached. */
const unreachableCodes: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * Why a request's authentication failed: 503 when the token issuer's metadata could not be loaded
 * (botbuilder's AuthenticationError with a 5xx status, or a network failure reaching the issuer),
 * else 401: a missing, malformed, forged or expired token. Either way the request is refused.
 */
export function authenticationFailure(error: unknown): { readonly status: 401 | 503; readonly reason: string } {
  const shape = (typeof error === 'object' && error !== null ? error : {}) as { statusCode?: unknown; code?: unknown; name?: unknown };
  const message = error instanceof Error ? error.message.slice(0, 160) : 'unknown';
  const metadataFailed = error instanceof AuthenticationError && typeof shape.statusCode === 'number' && shape.statusCode >= 500;
  const unreachable = shape.name === 'FetchError' || (typeof shape.code === 'string' && unreachableCodes.has(shape.code));
  return { status: metadataFailed || unreachable ? 503 : 401, reason: message };
}

/** The timestamp fields of an activity as Dates, as botbuilder's own request parsing leaves them. */
function fixActivity(body: Record<string, unknown>): Activity {
  const activity = body as unknown as Activity & Record<string, unknown>;
  for (const [field, raw] of [
    ['timestamp', 'rawTimestamp'],
    ['expiration', 'rawExpiration'],
    ['localTimestamp', 'rawLocalTimestamp'],
  ] as const) {
    const value = activity[field] as unknown;
    if (typeof value === 'string') {
      activity[raw] = value;
      (activity as Record<string, unknown>)[field] = new Date(value);
    }
  }
  return activity;
}

/** A caller's request id when it is a plain token, else a fresh one (a header must not smuggle text into the logs). */
function requestIdOf(req: restify.Request): string {
  const given = req.header('x-request-id');
  return typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
}

/** The adapter that authenticates inbound requests and signs replies (none in development mode). */
export function createAdapter(config: Config, logger: Logger): BotAdapter {
  const { appId, password, type, tenantId } = config.microsoftApp;
  const auth = new ConfigurationBotFrameworkAuthentication({
    MicrosoftAppId: appId,
    MicrosoftAppPassword: password,
    // With no app id (development) botbuilder wants no app type: it then skips authentication.
    MicrosoftAppType: appId ? type : undefined,
    MicrosoftAppTenantId: appId ? tenantId : undefined,
  });
  const adapter = new BotAdapter(auth);
  // The bot logs and apologises for its own failed turns (TeamsBot.run), through the notifier like every
  // message it posts; what reaches here failed outside it (the adapter's own middleware), and is logged.
  adapter.onTurnError = (context: TurnContext, error: unknown): Promise<void> => {
    // The error's class, reason and where it was thrown: never its message (it may quote input) or the activity's text.
    const err = error instanceof Error ? error : new Error('non-error thrown');
    logger.error('turn-error', {
      error: err.name,
      reason: reasonOf(err),
      at: err.stack?.split('\n')[1]?.trim() ?? null,
      activityType: context.activity.type,
    });
    return Promise.resolve();
  };
  return adapter;
}

/** What /healthz reports. */
export interface HealthInfo {
  readonly version: string;
  readonly guide: { readonly title: string; readonly version: string; readonly reviewDate: string; readonly reviewOverdue: boolean };
  /** How far ahead the proclaimed bank holidays are listed; `endingSoon` when less than a year. */
  readonly bankHolidays?: { readonly listedUntil: string; readonly endingSoon: boolean };
}

/** A dependency /readyz checks: resolves when reachable, rejects (with a `reason`) when not. */
export type ReadinessCheck = () => Promise<void>;

/** How long /readyz waits for each dependency. */
const readinessTimeoutMs = 3000;

async function check(probe: ReadinessCheck): Promise<{ readonly ok: boolean; readonly reason: string | null }> {
  try {
    await withDeadline(probe(), readinessTimeoutMs, 'a readiness check');
    return { ok: true, reason: null };
  } catch (error) {
    return { ok: false, reason: reasonOf(error) ?? (error instanceof Error ? error.name : 'unknown') };
  }
}

/**
 * What /readyz checks. `serving` decides readiness (a cloud health probe takes the instance out when it
 * fails), so it holds only what every turn needs: the database. `pacsSide` (the PACS, the poll loop) is
 * reported on `/readyz?pacs=1` for monitoring: a PACS outage must not take out instances that can still
 * answer every guide question.
 */
export interface Readiness {
  readonly serving: Readonly<Record<string, ReadinessCheck>>;
  readonly pacsSide: Readonly<Record<string, ReadinessCheck>>;
}

/** Builds the restify server (not yet listening). */
export function createServer(
  adapter: BotAdapter,
  bot: ActivityHandler,
  health: () => HealthInfo,
  logger: Logger,
  readiness: Readiness = { serving: {}, pacsSide: {} },
): restify.Server {
  const server = restify.createServer({ name: 'image-sharing-assistant', handleUncaughtExceptions: false });
  server.post('/api/messages', ...jsonBody(), async (req: restify.Request, res: restify.Response) => {
    const requestId = requestIdOf(req);
    res.header('x-request-id', requestId);
    // Every log line written while this request is handled (the turn included) carries its id.
    await withRequest(requestId, async () => {
      const body = req.body as unknown;
      if (typeof body !== 'object' || body === null || Array.isArray(body) || typeof (body as { type?: unknown }).type !== 'string') {
        res.send(400, { error: 'The body must be a Bot Framework activity (a JSON object with a "type").' });
        return;
      }
      const activity = fixActivity(body as Record<string, unknown>);
      let auth: AuthenticateRequestResult;
      try {
        auth = await adapter.authenticate(activity, req.header('authorization') ?? '');
      } catch (error) {
        const failure = authenticationFailure(error);
        logger.warn(failure.status === 401 ? 'request-unauthenticated' : 'authentication-unavailable', {
          status: failure.status,
          reason: failure.reason,
        });
        if (failure.status === 503) res.header('retry-after', '5');
        res.send(failure.status, { error: failure.status === 401 ? 'unauthorized' : 'authentication is unavailable; try again shortly' });
        return;
      }
      try {
        const invoke = await adapter.runAuthenticated(auth, activity, (context) => bot.run(context));
        if (invoke?.body === undefined) res.send(invoke?.status ?? 200);
        else res.send(invoke.status, invoke.body);
      } catch (error) {
        logger.error('request-failed', { error: error instanceof Error ? error.name : 'unknown' });
        if (!res.headersSent) res.send(500, { error: 'internal error' });
      }
    });
  });

  server.get('/healthz', async (_req, res) => {
    res.send(200, { status: 'ok', ...health() });
    return Promise.resolve();
  });

  server.get('/readyz', async (req, res) => {
    const withPacs = new URL(req.url ?? '/', 'http://localhost').searchParams.get('pacs') === '1';
    const probes = { ...readiness.serving, ...(withPacs ? readiness.pacsSide : {}) };
    const names = Object.keys(probes);
    const results = await Promise.all(names.map((name) => check(probes[name]!)));
    const checks = Object.fromEntries(names.map((name, i) => [name, results[i]!]));
    const ready = results.every((r) => r.ok);
    if (!ready) logger.warn('not-ready', Object.fromEntries(names.map((name, i) => [name, results[i]!.reason ?? 'ok'])));
    res.send(ready ? 200 : 503, { status: ready ? 'ready' : 'not-ready', checks });
  });

  return server;
}
