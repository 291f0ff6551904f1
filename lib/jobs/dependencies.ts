import type { TransactionSql } from '../db';
import { ConflictError, ValidationError } from '../errors';

// One lock for every write that adds dependency edges, taken before any job row is locked, so
// two writes that would close a cycle between them (A after B, B after A) run one after the
// other and the second sees the first. Such writes are rare; nothing else waits for this lock.
const DEPENDENCY_GRAPH_LOCK = 0x6372_6f6e_6465; // "cronde", within a safe integer

/** Call first in a job write whose schedule is `after:…`, before locking any job row. */
export async function lockDependencyGraph(tx: TransactionSql): Promise<void> {
  await tx`select pg_advisory_xact_lock(${DEPENDENCY_GRAPH_LOCK}::bigint)`;
}

/**
 * Checks the upstream jobs of an `after:` schedule, in the job write's transaction, and marks
 * them as having dependents (so their successes are recorded as dependency events):
 * - each must be a job of the same tenant (a global job: global jobs); a job of another tenant
 *   is reported exactly like a job that does not exist, so nothing leaks across tenants;
 * - a job may not depend on itself, nor on a job that (through its own `after:`) depends on it.
 * Marking locks the upstream rows: a concurrent delete or move of one of them either waits for
 * this write and then finds the dependent (refused), or goes first and this write finds the
 * upstream gone (refused). All refusals are 400s naming `schedule`.
 */
export async function checkDependencies(
  tx: TransactionSql,
  job: { id: string | null; tenant_id: string | null; after: string[] | null },
): Promise<void> {
  const { after } = job;
  if (!after) return;
  if (job.id !== null && after.includes(job.id)) {
    throw new ValidationError([
      { path: 'schedule', message: 'after: a job cannot run after itself (a cycle)' },
    ]);
  }
  const found = await tx<{ id: string }[]>`
    update cron_job set has_dependents = true
    where id = any(${after}::uuid[]) and tenant_id is not distinct from ${job.tenant_id}
    returning id`;
  const missing = after.filter((id) => !found.some((row) => row.id === id));
  if (missing.length > 0) {
    throw new ValidationError([
      {
        path: 'schedule',
        message:
          `after: no job ${missing.join(', ')} in ${job.tenant_id === null ? 'the global jobs' : `tenant ${JSON.stringify(job.tenant_id)}`}` +
          ': a job runs only after jobs of its own tenant',
      },
    ]);
  }
  if (job.id === null) return; // A new job has no dependents yet, so it cannot close a cycle.
  const [cycle] = await tx<{ id: string }[]>`
    with recursive upstream(id) as (
      select unnest(${after}::uuid[])
      union
      select unnest(j.after_job_ids) from cron_job j join upstream u on j.id = u.id
      where j.after_job_ids is not null
    )
    select id from upstream where id = ${job.id} limit 1`;
  if (cycle) {
    throw new ValidationError([
      {
        path: 'schedule',
        message:
          'after: this would make a cycle: one of the named jobs already runs after this job ' +
          '(directly or through other after: jobs)',
      },
    ]);
  }
}

/**
 * Refuses (409) to delete or move a job that other jobs' `after:` schedules name: they would wait
 * for it forever. Call it after the delete or move in the same transaction, whose rollback then
 * undoes it; the dependents are of the job's own tenant, so naming them leaks nothing.
 */
export async function refuseDroppingUpstream(
  tx: TransactionSql,
  id: string,
  action: string,
): Promise<void> {
  const dependents = await tx<{ id: string; name: string }[]>`
    select id, name from cron_job where after_job_ids @> array[${id}::uuid] order by name limit 5`;
  if (dependents.length > 0) {
    throw new ConflictError(
      `cannot ${action}: the after: schedule of ${dependents
        .map((job) => `${JSON.stringify(job.name)} (${job.id})`)
        .join(', ')} names job ${id}; change their schedules first`,
    );
  }
}
