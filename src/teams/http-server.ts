/**
 * The HTTP face of the bot: POST /api/messages (Bot Framework protocol, through botbuilder's
 * CloudAdapter) and GET /healthz.
 */
import {
  ActivityHandler,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  type TurnContext,
} from 'botbuilder';
import restify from 'restify';
import type { Config } from '../config/config';
import type { Logger } from '../logging/logger';

/** Largest request body accepted; a Teams activity is a few KB. */
export const maxBodyBytes = 256 * 1024;

/** The adapter that authenticates inbound requests and signs replies (none in development mode). */
export function createAdapter(config: Config, logger: Logger): CloudAdapter {
  const { appId, password, type, tenantId } = config.microsoftApp;
  const auth = new ConfigurationBotFrameworkAuthentication({
    MicrosoftAppId: appId,
    MicrosoftAppPassword: password,
    // With no app id (development) botbuilder wants no app type: it then skips authentication.
    MicrosoftAppType: appId ? type : undefined,
    MicrosoftAppTenantId: appId ? tenantId : undefined,
  });
  const adapter = new CloudAdapter(auth);
  adapter.onTurnError = async (context: TurnContext, error: unknown) => {
    // The error's class, reason and where it was thrown: never its message (it may quote input) or the activity's text.
    const err = error instanceof Error ? error : new Error('non-error thrown');
    logger.error('turn-error', {
      error: err.name,
      reason: (err as { reason?: unknown }).reason === undefined ? null : String((err as { reason?: unknown }).reason),
      at: err.stack?.split('\n')[1]?.trim() ?? null,
      activityType: context.activity.type,
    });
    try {
      await context.sendActivity('Sorry, something went wrong on my side. Please try again, or type "help" for the menu.');
    } catch (sendError) {
      logger.error('turn-error-reply-failed', { error: sendError instanceof Error ? sendError.name : 'unknown' });
    }
  };
  return adapter;
}

/** What /healthz reports. */
export interface HealthInfo {
  readonly version: string;
  readonly guide: { readonly title: string; readonly version: string; readonly reviewDate: string; readonly reviewOverdue: boolean };
}

/** Builds the restify server (not yet listening). */
export function createServer(adapter: CloudAdapter, bot: ActivityHandler, health: () => HealthInfo, logger: Logger): restify.Server {
  const server = restify.createServer({ name: 'image-sharing-assistant', handleUncaughtExceptions: false });
  server.use(restify.plugins.bodyParser({ maxBodySize: maxBodyBytes, mapParams: false }));

  server.post('/api/messages', async (req, res) => {
    const body = req.body as unknown;
    if (typeof body !== 'object' || body === null || Array.isArray(body) || typeof (body as { type?: unknown }).type !== 'string') {
      res.send(400, { error: 'The body must be a Bot Framework activity (a JSON object with a "type").' });
      return;
    }
    try {
      await adapter.process(req, res, (context) => bot.run(context));
    } catch (error) {
      logger.error('request-failed', { error: error instanceof Error ? error.name : 'unknown' });
      if (!res.headersSent) res.send(500, { error: 'internal error' });
    }
  });

  server.get('/healthz', async (_req, res) => {
    res.send(200, { status: 'ok', ...health() });
    return Promise.resolve();
  });

  return server;
}
