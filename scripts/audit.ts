/**
 * Prints the audit trail as CSV: `npm run --silent audit -- --since 2026-11-01 > audit.csv`.
 * Reads the same DATABASE_URL as the bot.
 */
import { auditCsv } from '../src/audit/audit-csv';
import { runCommand, withConfiguredStore } from './command';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const at = args.indexOf('--since');
  const since = at >= 0 ? args[at + 1] : undefined;
  if (!since || !/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(since) || Number.isNaN(Date.parse(since))) {
    process.stderr.write('Usage: npm run --silent audit -- --since YYYY-MM-DD (or an ISO instant)\n');
    return 2;
  }
  const from = since.length === 10 ? `${since}T00:00:00.000Z` : new Date(since).toISOString();
  return withConfiguredStore(async (store) => {
    process.stdout.write(auditCsv(await store.auditSince(from)));
    return 0;
  });
}

runCommand('audit', main);
