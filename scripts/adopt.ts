import { describeAdoption } from '../lib/adoption';
import { connect } from '../lib/db';
import { createAppRegistry } from '../lib/executors/app-registry';
import { migrateWithReport } from '../lib/migrate';

/**
 * `npm run adopt [-- --dry-run] [--json]`: migrates the database at DATABASE_URL, adopting the
 * earlier system's cron_job table if there is one (lib/adoption.ts), and prints what changed.
 * With --dry-run everything runs in a transaction that is rolled back: the same report, no change.
 * Run it as the owner of cron_job (renaming a table needs its owner).
 */
const args = new Set(process.argv.slice(2));
const unknown = [...args].filter((arg) => arg !== '--dry-run' && arg !== '--json');
if (unknown.length > 0 || !process.env.DATABASE_URL) {
  console.error(
    unknown.length > 0
      ? `unknown option ${unknown.join(' ')}`
      : 'set DATABASE_URL to the database to adopt',
  );
  console.error('usage: DATABASE_URL=postgres://… npm run adopt -- [--dry-run] [--json]');
  process.exit(2);
}
const sql = connect(process.env.DATABASE_URL, { max: 1 });
try {
  const report = await migrateWithReport(sql, {
    registry: createAppRegistry(),
    dryRun: args.has('--dry-run'),
  });
  if (args.has('--json')) console.log(JSON.stringify(report, null, 2));
  else {
    console.log(report.dry_run ? 'dry run: nothing was changed; a real run would:' : 'done:');
    for (const line of describeAdoption(report.adoption)) console.log(line);
    console.log(
      `migrations ${report.dry_run ? 'to apply' : 'applied'}: ${report.applied.join(', ') || 'none'}`,
    );
  }
} finally {
  await sql.end({ timeout: 5 });
}
