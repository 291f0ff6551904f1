import type { Sql, TransactionSql } from '../db';
import { ForbiddenError, NotFoundError } from '../errors';
import type { Caller } from '../identity/caller';
import { isUuid, tenantScope } from '../jobs/scope';

/**
 * Alert destinations and rules are scoped like jobs (lib/jobs/scope.ts): a tenant caller sees and
 * changes its own tenant's only; another tenant's or a global one is a 404, worded the same
 * whether it exists or not. Admins see everything and may create global ones (tenant_id null).
 */
export async function findScoped<Row extends object>(
  sql: Sql | TransactionSql,
  caller: Caller,
  table: 'cron_alert_destination' | 'cron_alert_rule',
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<Row> {
  const what = table === 'cron_alert_destination' ? 'destination' : 'rule';
  if (!isUuid(id)) throw new NotFoundError(`no ${what} with id ${JSON.stringify(id)}`);
  const [row] = await sql<Row[]>`
    select * from ${sql(table)} where id = ${id} ${tenantScope(sql, caller)}
    ${options.forUpdate ? sql`for update` : sql``}`;
  if (!row) throw new NotFoundError(`no ${what} with id ${JSON.stringify(id)}`);
  return row;
}

/**
 * The tenant a new destination or rule belongs to: a tenant caller's own (naming any other, or
 * null for global, is a 403); an admin's choice, global when unset (`fallback` first).
 */
export function ownerTenant(
  caller: Caller,
  requested: string | null | undefined,
  fallback: string | null = null,
): string | null {
  if (caller.admin) return requested === undefined ? fallback : requested;
  if (requested !== undefined && requested !== caller.tenant_id) {
    throw new ForbiddenError(
      `tenant_id: a tenant caller creates alerts in its own tenant (${JSON.stringify(caller.tenant_id)}) only`,
    );
  }
  return caller.tenant_id;
}
