/**
 * The echo bot the real bot is compared with: the bot's own HTTP stack (restify, the same body
 * parser and /api/messages route from src/teams/http-server.ts, botbuilder's CloudAdapter with
 * ConfigurationBotFrameworkAuthentication in development mode) around an ActivityHandler that
 * answers every message with its own text. It replies through the same connector stand-in (the
 * activity's serviceUrl). Listens on 127.0.0.1 only, on a free port it reports over IPC.
 *
 * Given a file (argv[2]) holding a reply message, it answers a message whose text starts with
 * "replay: " with that message instead: the same bytes the real bot sends (its answer card), with
 * none of its work. Comparing the bot with this replay separates the bot's own cost from the cost
 * of sending a 4 KB card through botbuilder.
 */
import fs from 'node:fs';
import { ActivityHandler, MessageFactory, type Activity } from 'botbuilder';
import { parseConfig } from '../../src/config/config';
import { createLogger } from '../../src/logging/logger';
import { createAdapter, createServer } from '../../src/teams/http-server';

const replayFile = process.argv[2];
const replay = replayFile ? (JSON.parse(fs.readFileSync(replayFile, 'utf8')) as Partial<Activity>) : null;

class EchoBot extends ActivityHandler {
  constructor() {
    super();
    this.onMessage(async (context, next) => {
      const text = context.activity.text ?? '';
      // A fresh copy per turn, as the bot renders a fresh card per turn.
      if (replay && text.startsWith('replay: ')) await context.sendActivity(JSON.parse(JSON.stringify(replay)) as Partial<Activity>);
      else await context.sendActivity(MessageFactory.text(`echo: ${text}`));
      await next();
    });
  }
}

const config = parseConfig({ NODE_ENV: 'development', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' });
const logger = createLogger(config.logLevel);
const server = createServer(
  createAdapter(config, logger),
  new EchoBot(),
  () => ({ version: 'echo', guide: { title: 'echo', version: '0', reviewDate: '2000-01', reviewOverdue: false } }),
  logger,
);

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
