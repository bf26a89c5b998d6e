/**
 * Assembles the bot from its parts for a given configuration. `src/index.ts` (the composition
 * root) calls it with the real environment; tests call it with their own logger and clock.
 */
import fs from 'node:fs';
import path from 'node:path';
import type restify from 'restify';
import { loadGuideFile } from './adapters/guide-file';
import { loadCardRenderer } from './cards/card-renderer';
import { projectRoot, type Config } from './config/config';
import { isReviewOverdue, monthYear, type Guide } from './domain/guide/guide';
import { buildKnowledge } from './domain/questions/answer-question';
import type { Logger } from './logging/logger';
import { createAdapter, createServer } from './teams/http-server';
import { TeamsBot } from './teams/teams-bot';

/** A built bot, ready to listen. */
export interface Application {
  readonly guide: Guide;
  readonly server: restify.Server;
  /** Starts listening; resolves with the bound port (useful with PORT=0). */
  listen(): Promise<number>;
  /** Stops accepting requests and lets in-flight ones finish. */
  close(): Promise<void>;
}

/** What the application takes from outside besides its configuration. */
export interface ApplicationDeps {
  readonly logger: Logger;
  /** Used only when an activity carries no timestamp, and for start-up checks. */
  readonly clock: () => Date;
}

/** Builds the bot; throws ConfigError, GuideError or CardError when something is wrong at start. */
export function createApplication(config: Config, deps: ApplicationDeps): Application {
  const { logger, clock } = deps;
  const guide = loadGuideFile(config.guideFile);
  const cards = loadCardRenderer(path.join(projectRoot, 'cards'));
  const { version } = JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string };

  if (isReviewOverdue(guide, clock())) {
    logger.warn('guide-review-overdue', {
      guide: guide.document.title,
      version: guide.document.version,
      reviewDate: monthYear(guide.document.reviewDate),
    });
  }
  if (config.mode === 'development' && !config.microsoftApp.appId) {
    logger.warn('development-mode', {
      detail: 'MicrosoftAppId is empty: requests are NOT authenticated and replies are unsigned. Use only for local testing (Bot Framework Emulator).',
    });
  }

  const adapter = createAdapter(config, logger);
  const knowledge = buildKnowledge(guide, config.timeZone);
  const bot = new TeamsBot({ guide, knowledge, cards, zone: config.timeZone }, logger, clock);
  const health = () => ({
    version,
    guide: {
      title: guide.document.title,
      version: guide.document.version,
      reviewDate: guide.document.reviewDate,
      reviewOverdue: isReviewOverdue(guide, clock()),
    },
  });
  const server = createServer(adapter, bot, health, logger);

  return {
    guide,
    server,
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          const port = (server.address()).port;
          logger.info('listening', { host: config.host, port, mode: config.mode });
          resolve(port);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // Idle keep-alive sockets would otherwise hold close() open.
        server.server.closeIdleConnections();
      }),
  };
}
