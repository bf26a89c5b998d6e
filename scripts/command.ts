/**
 * What the bot's command-line tools (`npm run migrate`, `npm run audit`) share: the configured store,
 * opened, brought up to date and closed; and one way to end, with the command's exit code or one
 * line naming what failed (secrets blanked out, as at the bot's own start).
 */
import { openStore } from '../src/adapters/store/open-store';
import { loadConfig, redactSecrets, type Config } from '../src/config/config';
import type { MigrationReport, StorePort } from '../src/ports/store-port';

/** Runs `work` on the store the settings name, after migrating it; always closes the store. */
export async function withConfiguredStore<T>(
  work: (store: StorePort, config: Config, migration: MigrationReport) => Promise<T>,
): Promise<T> {
  const config = loadConfig();
  const store = openStore(config.databaseUrl);
  try {
    return await work(store, config, await store.migrate());
  } finally {
    await store.close();
  }
}

/** Runs a command's `main` and exits with its code; a failure exits 1 with "<name> failed: <reason>". */
export function runCommand(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${name} failed: ${redactSecrets(error instanceof Error ? error.message : 'unknown error')}\n`);
      process.exit(1);
    },
  );
}
