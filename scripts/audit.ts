/**
 * Prints the audit trail as CSV: `npm run --silent audit -- --since 2026-11-01 > audit.csv`.
 * Reads the same DATABASE_URL as the bot.
 */
import { openStore } from '../src/adapters/store/open-store';
import { auditCsv } from '../src/audit/audit-csv';
import { loadConfig } from '../src/config/config';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const at = args.indexOf('--since');
  const since = at >= 0 ? args[at + 1] : undefined;
  if (!since || !/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(since) || Number.isNaN(Date.parse(since))) {
    process.stderr.write('Usage: npm run --silent audit -- --since YYYY-MM-DD (or an ISO instant)\n');
    return 2;
  }
  const config = loadConfig();
  const store = openStore(config.databaseUrl);
  try {
    await store.migrate();
    const from = since.length === 10 ? `${since}T00:00:00.000Z` : new Date(since).toISOString();
    process.stdout.write(auditCsv(await store.auditSince(from)));
    return 0;
  } finally {
    await store.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`audit failed: ${error instanceof Error ? error.message : 'unknown error'}\n`);
    process.exit(1);
  },
);
