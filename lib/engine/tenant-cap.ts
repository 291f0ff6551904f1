import type { Sql, SqlFragment, TransactionSql } from '../db';

/**
 * The optional per-tenant cap on runs in progress: a row in `cron_tenant_limit` (tenant_id,
 * max_concurrent_runs), set by an operator with SQL; no row, no cap. A run is in progress while it
 * is `running`, whether it executes in a sweep, waits in the run queue or runs in a worker. The
 * claim (claim.ts) starts no run that would take its tenant past the cap: the jobs left out are
 * not claimed at all and stay due, unchanged, for a later claim once the tenant's runs have
 * finished. Global jobs (no tenant) are never capped. Manual runs (run-now) are not held back, but
 * they count towards the cap while they run.
 *
 * Cost when no tenant has a cap: the claim's statement reads the (empty) table once, as an init
 * plan, and the fair order joins it; no extra statement, no extra lock.
 */

/**
 * Whether the job row `alias` belongs to a capped tenant: evaluated once per statement (an init
 * plan over the small cap table), then one array probe per row.
 */
export function tenantCappedSql(sql: Sql | TransactionSql, alias: string): SqlFragment {
  return sql`(${sql(alias)}.tenant_id = any(array(select tenant_id from cron_tenant_limit)))`;
}

/**
 * Room left under each capped tenant's cap, as rows (tenant_id, room), for the fair order: a
 * snapshot read without locks, so a claim may still find less room (it decides, under lock).
 */
export function tenantRoomSql(sql: Sql | TransactionSql): SqlFragment {
  return sql`select l.tenant_id, l.max_concurrent_runs - (
      select count(*) from cron_job_run r join cron_job j on j.id = r.job_id
      where r.status = 'running' and j.tenant_id = l.tenant_id)::int as room
    from cron_tenant_limit l`;
}

interface CappableClaim {
  job: { tenant_id: string | null; capped: boolean };
  /** 'running' starts a run; anything else (skipped, queued, all missed) starts none. */
  status: string | null;
}

/**
 * The claims the caps allow, in their order: every claim that starts a run of a capped tenant
 * takes one unit of the room left under its cap, and the claims beyond it are left out (their jobs
 * are not touched by the claim). Claims that start no run are never left out. Called inside the
 * claim's transaction, with the job rows locked.
 *
 * Concurrency: the capped tenants' rows are locked (`for update`, in tenant order, so claims never
 * deadlock on them) before their running runs are counted, by a second statement with a snapshot
 * taken after the lock is granted. So claims racing for one tenant take turns, and each counts the
 * runs of the claims before it (committed when they released the lock): together they never start
 * more than the cap. A claim with no capped tenant among its jobs runs neither statement.
 */
export async function withinTenantCaps<T extends CappableClaim>(
  tx: TransactionSql,
  claims: T[],
): Promise<T[]> {
  const tenants = [
    ...new Set(
      claims.flatMap(({ job, status }) =>
        job.capped && status === 'running' && job.tenant_id !== null ? [job.tenant_id] : [],
      ),
    ),
  ].sort();
  if (tenants.length === 0) return claims;
  await tx`
    select from cron_tenant_limit where tenant_id = any(${tenants}::text[])
    order by tenant_id for update`;
  const rows = await tx<{ tenant_id: string; room: number }[]>`
    select * from (${tenantRoomSql(tx)}) caps where tenant_id = any(${tenants}::text[])`;
  const room = new Map(rows.map((row) => [row.tenant_id, row.room]));
  return claims.filter(({ job, status }) => {
    if (status !== 'running' || job.tenant_id === null) return true;
    const left = room.get(job.tenant_id);
    // The cap was removed since the claim read it: no cap.
    if (left === undefined) return true;
    room.set(job.tenant_id, left - 1);
    return left > 0;
  });
}
