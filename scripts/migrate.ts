/**
 * Brings the database's schema up to date and says what it did: `npm run migrate` (after `npm run
 * build`), for a DBA who migrates before a release instead of letting the first instance do it at
 * start. Reads the same settings as the bot (DATABASE_URL) and is refused by the same checks.
 * Migrations are safe to run again, and instances starting together migrate one after another.
 */
import { openStore } from '../src/adapters/store/open-store';
import { loadConfig, redactSecrets } from '../src/config/config';

async function main(): Promise<number> {
  const config = loadConfig();
  const store = openStore(config.databaseUrl);
  try {
    const { applied, version } = await store.migrate();
    const where = config.databaseUrl.startsWith('sqlite:') ? 'SQLite' : 'PostgreSQL';
    const what = applied.length === 0 ? 'already up to date' : `applied migration${applied.length === 1 ? '' : 's'} ${applied.join(', ')}`;
    process.stdout.write(`${where} database schema at version ${version}: ${what}.\n`);
    return 0;
  } finally {
    await store.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`migrate failed: ${redactSecrets(error instanceof Error ? error.message : 'unknown error')}\n`);
    process.exit(1);
  },
);
