import type { Sql } from '../lib/db';
import { LOST_RUN_ERROR } from '../lib/lost-runs';
import { silentLog } from '../lib/logger';
import { sweep } from '../lib/sweep';
import { benchRegistry } from './executors';
import { median } from './report';
import { readStatements, resetStatements, statementLabel } from './stats';

export interface IdleResult {
  sweeps: number;
  /** Median wall time of sweep(), milliseconds. */
  wallMs: number;
  /** Database time per sweep from pg_stat_statements (execution + planning), when available. */
  dbMs?: number;
  breakdown?: { label: string; calls: number; ms: number }[];
}

/** Fails loudly unless the benchmark database has nothing for a sweep to do. */
export async function assertNothingDue(admin: Sql): Promise<void> {
  const [row] = await admin<{ due: number; running: number }[]>`
    select (select count(*)::int from cron_job where is_active and next_run <= now() + interval '5 minutes') as due,
      (select count(*)::int from cron_job_run where status = 'running') as running`;
  if (row!.due > 0 || row!.running > 0) {
    throw new Error(`idle benchmark needs an idle table: ${JSON.stringify(row)}`);
  }
}

/**
 * Runs `count` sweeps over a table where nothing is due (checked), one after another, and
 * measures each one's wall time and, through pg_stat_statements, the database time they cost.
 */
export async function idleSweeps(
  admin: Sql,
  options: { connect: () => Sql; count: number; warmup: number; statStatements: boolean },
): Promise<IdleResult> {
  await assertNothingDue(admin);
  const sql = options.connect();
  const deps = { sql, registry: benchRegistry, log: silentLog };
  const walls: number[] = [];
  try {
    await Promise.all([sql`select 1`, sql`select 1`]);
    for (let i = 0; i < options.warmup; i += 1) await sweep(deps);
    if (options.statStatements) await resetStatements(admin);
    for (let i = 0; i < options.count; i += 1) {
      const started = performance.now();
      const summary = await sweep(deps);
      walls.push(performance.now() - started);
      if (summary.executed + summary.skipped + summary.lost > 0) {
        throw new Error(`an idle sweep did work: ${JSON.stringify(summary)}`);
      }
    }
  } finally {
    await sql.end();
  }
  const result: IdleResult = { sweeps: options.count, wallMs: median(walls) };
  if (options.statStatements) {
    const stats = await readStatements(admin);
    const byLabel = new Map<string, { calls: number; ms: number }>();
    for (const stat of stats) {
      const label = statementLabel(stat.query);
      const entry = byLabel.get(label) ?? { calls: 0, ms: 0 };
      entry.calls += stat.calls;
      entry.ms += stat.total_ms;
      byLabel.set(label, entry);
    }
    result.breakdown = [...byLabel].map(([label, entry]) => ({
      label,
      calls: entry.calls,
      ms: entry.ms / options.count,
    }));
    result.dbMs = result.breakdown.reduce((sum, entry) => sum + entry.ms, 0);
  }
  return result;
}

// The two statements a nothing-due sweep issues, copied from lib/lost-runs.ts (markLostRuns, with
// metadataAfterRun inlined) and lib/claim.ts (claimDueJobs' first select), with the parameters
// sweep() gives them when it has no deadline.
const MARK_LOST_SQL = `
    with o as (
      update cron_job_run
      set status = 'lost', finished_at = $1::timestamptz, error = $2::text, deadline = null,
        duration_ms = greatest(0, round(extract(epoch from ($1::timestamptz - started_at)) * 1000))
      where status = 'running' and deadline < $1::timestamptz
      returning id, job_id, status, error, duration_ms
    ), jobs as (
      update cron_job j set metadata = j.metadata || jsonb_build_object(
    'execution_count', case when jsonb_typeof(j.metadata->'execution_count') = 'number'
      then (j.metadata->>'execution_count')::bigint else 0 end + 1,
    'error_count', case when jsonb_typeof(j.metadata->'error_count') = 'number'
      then (j.metadata->>'error_count')::bigint else 0 end + (o.status <> 'success')::int,
    'last_execution_status', case when o.status = 'success' then 'success' else 'error' end,
    'last_error', case when o.status = 'success' then 'null'::jsonb else to_jsonb(o.error) end,
    'last_duration_ms', o.duration_ms
  )
      from o where j.id = o.job_id
    )
    select job_id, id as run_id from o`;

const CLAIM_SELECT_SQL = `
      select j.id, j.name, j.tenant_id, j.function_name, j.metadata, j.timeout_seconds,
        j.schedule, j.timezone, j.next_run,
        exists (select from cron_job_run r where r.job_id = j.id and r.status = 'running') as busy
      from cron_job j
      where j.is_active and j.next_run <= $1::timestamptz and j.timeout_seconds <= $2::int
      order by j.next_run
      limit $3::int
      for update of j skip locked`;

export interface ExplainResult {
  /** Median over the repetitions of planning + execution time of both statements. */
  totalMs: number;
  statements: {
    label: string;
    planningMs: number;
    executionMs: number;
    sharedHit: number;
    sharedRead: number;
  }[];
}

/** EXPLAIN (ANALYZE, BUFFERS) of both statements, in a transaction that is rolled back. */
export async function explainIdleSweep(admin: Sql, repetitions: number): Promise<ExplainResult> {
  await assertNothingDue(admin);
  const totals: number[] = [];
  let last: ExplainResult['statements'] = [];
  for (let i = 0; i < repetitions; i += 1) {
    const now = new Date().toISOString();
    const statements: ExplainResult['statements'] = [];
    await admin
      .begin(async (tx) => {
        for (const [label, text, params] of [
          ['markLostRuns', MARK_LOST_SQL, [now, LOST_RUN_ERROR]],
          ['claim: select due', CLAIM_SELECT_SQL, [now, 2_147_483_647, 1000]],
        ] as const) {
          const [row] = await tx.unsafe<{ 'QUERY PLAN': ExplainJson[] }[]>(
            `explain (analyze, buffers, format json) ${text}`,
            [...params],
          );
          const plan = row!['QUERY PLAN'][0]!;
          statements.push({
            label,
            planningMs: plan['Planning Time'],
            executionMs: plan['Execution Time'],
            sharedHit: sumBuffers(plan.Plan, 'Shared Hit Blocks'),
            sharedRead: sumBuffers(plan.Plan, 'Shared Read Blocks'),
          });
        }
        throw new Rollback();
      })
      .catch((error: unknown) => {
        if (!(error instanceof Rollback)) throw error;
      });
    totals.push(statements.reduce((sum, s) => sum + s.planningMs + s.executionMs, 0));
    last = statements;
  }
  return { totalMs: median(totals), statements: last };
}

class Rollback extends Error {}

interface ExplainNode {
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: ExplainNode[];
}

interface ExplainJson {
  Plan: ExplainNode;
  'Planning Time': number;
  'Execution Time': number;
}

/** Buffer counts of the top node already include its children's. */
function sumBuffers(node: ExplainNode, key: 'Shared Hit Blocks' | 'Shared Read Blocks'): number {
  return node[key] ?? 0;
}
