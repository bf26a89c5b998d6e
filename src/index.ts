/**
 * Composition root: reads the configuration, builds the bot, starts listening, and shuts down
 * gracefully on SIGTERM/SIGINT. A bad configuration or guide file stops the start with one line.
 */
import { createApplication } from './application';
import { loadConfig, redactSecrets } from './config/config';
import { createLogger } from './logging/logger';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    process.stderr.write(`Refusing to start: ${redactSecrets((error as Error).message)}\n`);
    process.exit(1);
  }
  const logger = createLogger(config.logLevel);
  let app;
  try {
    app = await createApplication(config, { logger, clock: () => new Date() });
    await app.listen();
  } catch (error) {
    process.stderr.write(`Refusing to start: ${redactSecrets((error as Error).message)}\n`);
    process.exit(1);
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting-down', { signal });
    // Give in-flight turns up to 10 s to finish, then go anyway.
    const force = setTimeout(() => process.exit(0), 10_000);
    force.unref();
    void app.close().then(() => {
      logger.info('stopped', {});
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

void main();
