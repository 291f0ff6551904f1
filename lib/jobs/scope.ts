import type postgres from 'postgres';
import type { Sql, TransactionSql } from '../db';
import { NotFoundError } from '../errors';
import type { Caller } from '../identity/caller';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The SQL condition that confines a query to what the caller may see, to append after a `where`:
 * nothing for an admin; `and <column> = <caller's tenant>` for anyone else. A caller without a
 * tenant and without admin rights matches no row (`= null` is never true), so a mistake scopes to
 * nothing rather than to everything. `column` may be qualified (`j.tenant_id`). For queries over
 * jobs' children (runs, audit entries), join the job or carry its tenant and pass that column.
 */
export function tenantScope(
  sql: Sql | TransactionSql,
  caller: Caller,
  column = 'tenant_id',
): postgres.PendingQuery<postgres.Row[]> {
  return caller.admin ? sql`` : sql`and ${sql(column)} = ${caller.tenant_id}`;
}

/** The 404 for a job the caller cannot see, worded the same whether it exists elsewhere or not. */
export function jobNotFound(id: string): NotFoundError {
  return new NotFoundError(`no job with id ${JSON.stringify(id)}`);
}

/**
 * The one lookup of a job by id that every job route goes through: the job if it exists and the
 * caller may see it, otherwise a NotFoundError (another tenant's job, a global job for a tenant
 * caller, a malformed id, a missing job: all alike, so nothing leaks). `forUpdate` locks the row
 * for the rest of the transaction `sql` belongs to.
 */
export async function findScopedJob<Row extends object>(
  sql: Sql | TransactionSql,
  caller: Caller,
  id: string,
  columns: readonly string[],
  options: { forUpdate?: boolean } = {},
): Promise<Row> {
  if (!UUID.test(id)) throw jobNotFound(id);
  const [job] = await sql<Row[]>`
    select ${sql(columns as string[])} from cron_job
    where id = ${id} ${tenantScope(sql, caller)}
    ${options.forUpdate ? sql`for update` : sql``}`;
  if (!job) throw jobNotFound(id);
  return job;
}

export function isUuid(value: string): boolean {
  return UUID.test(value);
}
