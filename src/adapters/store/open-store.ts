/**
 * Opens the store a configured DATABASE_URL names: the bot, `npm run migrate` and the audit export
 * all open it here, so they can never disagree about where the data is.
 */
import type { StorePort } from '../../ports/store-port';
import { openPostgresStore } from './postgres/postgres-store';
import { openSqliteStore } from './sqlite/sqlite-store';

/** The store at `databaseUrl` ('sqlite:<path>' or postgres://...); `clock` is an embedded database's (its host's). */
export function openStore(databaseUrl: string, options: { readonly clock?: () => Date } = {}): StorePort {
  if (databaseUrl.startsWith('sqlite:')) return openSqliteStore(databaseUrl.slice('sqlite:'.length), options);
  return openPostgresStore(databaseUrl);
}
