import type { Sql } from './db';
import { migrations } from './migrations/index';

// Any constant works; it only has to be the same in every process that migrates this database.
const MIGRATION_LOCK = 7_345_210_981;

/**
 * Applies the pending migrations in one transaction under an advisory lock, so two processes
 * starting at the same moment apply each migration exactly once: the second waits for the first
 * and then finds nothing to do. Returns the ids it applied.
 */
export async function migrate(sql: Sql): Promise<number[]> {
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK})`;
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
    return pending.map((migration) => migration.id);
  });
}
