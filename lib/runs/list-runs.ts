import type { AppContext } from '../app-context';
import { decodePageCursor, encodePageCursor, withoutCursor } from '../page-cursor';
import type { Caller } from '../identity/caller';
import { tenantScope } from '../jobs/scope';
import type { RunRow } from '../jobs/service';

export interface ListAllRunsQuery {
  status?: string | undefined;
  /** Runs started at or after this instant... */
  from?: Date | undefined;
  /** ...and before this one. */
  to?: Date | undefined;
  tenant_id?: string | undefined;
  function_name?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

export interface RunWithJob extends RunRow {
  job_name: string;
  tenant_id: string | null;
  function_name: string;
}

/**
 * Runs across jobs, newest first (started_at, then id), filtered and paged by a cursor. Scoped
 * like the jobs: a tenant caller sees its own tenant's runs only, whatever `tenant_id` says (the
 * filter can only narrow). Served by the index on (started_at, id), read backwards.
 */
export async function listAllRuns(
  ctx: AppContext,
  caller: Caller,
  query: ListAllRunsQuery,
): Promise<{ runs: RunWithJob[]; next_cursor: string | null }> {
  const { sql } = ctx;
  const after = query.cursor === undefined ? undefined : decodePageCursor(query.cursor);
  const rows = await sql<(RunWithJob & { cursor_us: string })[]>`
    select r.id, r.job_id, r.scheduled_for, r.trigger, r.status, r.attempt, r.started_at,
      r.finished_at, r.duration_ms, r.result, r.error, r.triggered_by, r.missed_count,
      r.missed_last,
      j.name as job_name, j.tenant_id, j.function_name,
      (extract(epoch from r.started_at) * 1000000)::bigint::text as cursor_us
    from cron_job_run r join cron_job j on j.id = r.job_id
    where true ${tenantScope(sql, caller, 'j.tenant_id')}
      ${query.status === undefined ? sql`` : sql`and r.status = ${query.status}`}
      ${query.from === undefined ? sql`` : sql`and r.started_at >= ${query.from}`}
      ${query.to === undefined ? sql`` : sql`and r.started_at < ${query.to}`}
      ${query.tenant_id === undefined ? sql`` : sql`and j.tenant_id = ${query.tenant_id}`}
      ${query.function_name === undefined ? sql`` : sql`and j.function_name = ${query.function_name}`}
      ${
        after === undefined
          ? sql``
          : sql`and (r.started_at, r.id) < (timestamptz 'epoch' + ${after.us}::bigint * interval '1 microsecond', ${after.id}::uuid)`
      }
    order by r.started_at desc, r.id desc
    limit ${query.limit + 1}`;
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    runs: withoutCursor(page),
    next_cursor:
      rows.length > query.limit && last ? encodePageCursor(last.cursor_us, last.id) : null,
  };
}
