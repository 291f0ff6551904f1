import type { Sql } from '../db';
import type { ExecutorRegistry } from './registry';

/**
 * For each executor that works on CRM tables, those of its tables missing from the database's
 * current schema (executors with all their tables are left out). One catalog query.
 */
export async function missingTables(
  sql: Sql,
  registry: ExecutorRegistry,
): Promise<Record<string, string[]>> {
  const needed = registry.list().filter((executor) => executor.requiresTables?.length);
  const wanted = [...new Set(needed.flatMap((executor) => executor.requiresTables ?? []))];
  if (wanted.length === 0) return {};
  const rows = await sql<{ name: string }[]>`
    select table_name as name from information_schema.tables
    where table_schema = current_schema() and table_name in ${sql(wanted)}`;
  const present = new Set(rows.map((row) => row.name));
  const missing: Record<string, string[]> = {};
  for (const executor of needed) {
    const absent = (executor.requiresTables ?? []).filter((table) => !present.has(table));
    if (absent.length > 0) missing[executor.name] = absent;
  }
  return missing;
}
