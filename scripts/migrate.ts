/**
 * Brings the database's schema up to date and says what it did: `npm run migrate` (after `npm run
 * build`), for a DBA who migrates before a release instead of letting the first instance do it at
 * start. Reads the same settings as the bot (DATABASE_URL) and is refused by the same checks.
 * Migrations are safe to run again, and instances starting together migrate one after another.
 */
import { runCommand, withConfiguredStore } from './command';

runCommand('migrate', () =>
  withConfiguredStore(async (_store, config, { applied, version }) => {
    const where = config.databaseUrl.startsWith('sqlite:') ? 'SQLite' : 'PostgreSQL';
    const what = applied.length === 0 ? 'already up to date' : `applied migration${applied.length === 1 ? '' : 's'} ${applied.join(', ')}`;
    process.stdout.write(`${where} database schema at version ${version}: ${what}.\n`);
    return Promise.resolve(0);
  }),
);
