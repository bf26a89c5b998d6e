/**
 * The echo bot the real bot is compared with: the bot's own HTTP stack (restify, the same body
 * parser and /api/messages route from src/teams/http-server.ts, botbuilder's CloudAdapter with
 * ConfigurationBotFrameworkAuthentication in development mode) around an ActivityHandler that
 * answers every message with its own text. It replies through the same connector stand-in (the
 * activity's serviceUrl). Listens on 127.0.0.1 only, on a free port it reports over IPC.
 */
import { ActivityHandler, MessageFactory } from 'botbuilder';
import { parseConfig } from '../../src/config/config';
import { createLogger } from '../../src/logging/logger';
import { createAdapter, createServer } from '../../src/teams/http-server';

class EchoBot extends ActivityHandler {
  constructor() {
    super();
    this.onMessage(async (context, next) => {
      await context.sendActivity(MessageFactory.text(`echo: ${context.activity.text ?? ''}`));
      await next();
    });
  }
}

const config = parseConfig({ NODE_ENV: 'development', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' });
const logger = createLogger(config.logLevel);
const server = createServer(createAdapter(config, logger), new EchoBot(), () => ({ version: 'echo', guide: { title: 'echo', version: '0', reviewDate: '2000-01', reviewOverdue: false } }), logger);

server.listen(config.port, config.host, () => {
  const { port } = server.address();
  process.send?.({ event: 'listening', port });
});

const stop = (): void => {
  server.close(() => process.exit(0));
  server.server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
