import { completeAdoption, prepareAdoption, type AdoptionReport } from './adoption';
import { DEFAULT_APP_ROLE, executorTables, syncAppRole, type AppRoleReport } from './app-role';
import type { Sql } from './db';
import { createAppRegistry } from './executors/app-registry';
import type { ExecutorRegistry } from './executors/registry';
import { migrations } from './migrations/index';

// Any constant works; it only has to be the same in every process that migrates this database.
const MIGRATION_LOCK = 7_345_210_981;

export interface MigrateOptions {
  /** Executors adoption checks the earlier system's jobs against; the built-ins by default. */
  registry?: ExecutorRegistry;
  /** Do everything, report it, and roll it all back. */
  dryRun?: boolean;
  now?: Date;
  /**
   * The role the app connects as (lib/app-role.ts): created if missing and allowed, its grants
   * made exact. Default `crm_cron_app`; null leaves roles alone (the app connects as the owner).
   */
  appRole?: string | null;
}

export interface MigrateReport {
  /** Migration ids applied (with dryRun: that would be applied). */
  applied: number[];
  /** What adopting the earlier system's cron_job changed (adopt false: there was none). */
  adoption: AdoptionReport;
  /** The app role: created or not, the tables it was granted, what was skipped and why. */
  app_role: AppRoleReport;
  dry_run: boolean;
}

class DryRunRollback extends Error {
  constructor(readonly report: MigrateReport) {
    super('dry run: rolled back');
  }
}

/**
 * Applies the pending migrations in one transaction under an advisory lock, so two processes
 * starting at the same moment apply each migration exactly once: the second waits for the first
 * and then finds nothing to do. Returns the ids it applied.
 */
export async function migrate(sql: Sql, options: MigrateOptions = {}): Promise<number[]> {
  return (await migrateWithReport(sql, options)).applied;
}

/**
 * migrate(), reporting what it did, including the adoption of an earlier system's `cron_job`
 * (lib/adoption.ts) in the same transaction. With `dryRun` the transaction is rolled back after
 * everything ran, so the report lists exactly what a real run changes.
 */
export async function migrateWithReport(
  sql: Sql,
  options: MigrateOptions = {},
): Promise<MigrateReport> {
  const registry = options.registry ?? createAppRegistry();
  const now = options.now ?? new Date();
  const dryRun = options.dryRun ?? false;
  try {
    return await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK})`;
      const adoption = await prepareAdoption(tx, registry, now);
      await tx`
        create table if not exists cron_migrations (
          id integer primary key,
          name text not null,
          applied_at timestamptz not null default now()
        )`;
      const rows = await tx<{ id: number }[]>`select id from cron_migrations`;
      const applied = new Set(rows.map((row) => row.id));
      const pending = migrations.filter((migration) => !applied.has(migration.id));
      for (const migration of pending) {
        await tx.unsafe(migration.sql);
        await tx`insert into cron_migrations ${tx({ id: migration.id, name: migration.name })}`;
      }
      if (adoption) await completeAdoption(tx, adoption);
      // Every time, not only with new migrations: CRM tables may have appeared since.
      const appRole = await syncAppRole(tx, {
        role: options.appRole === undefined ? DEFAULT_APP_ROLE : options.appRole,
        executorTables: executorTables(registry),
      });
      const report: MigrateReport = {
        applied: pending.map((migration) => migration.id),
        adoption: adoption?.report ?? { adopt: false, jobs: [], deactivated: [] },
        app_role: appRole,
        dry_run: dryRun,
      };
      if (dryRun) throw new DryRunRollback(report);
      return report;
    });
  } catch (error) {
    if (error instanceof DryRunRollback) return error.report;
    throw error;
  }
}
