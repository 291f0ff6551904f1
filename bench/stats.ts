import type { Sql } from '../lib/db';

export interface StatementStat {
  query: string;
  calls: number;
  /** Execution plus planning time, milliseconds, summed over calls. */
  total_ms: number;
}

/** Forgets every statement pg_stat_statements has counted so far. */
export async function resetStatements(sql: Sql): Promise<void> {
  await sql`select pg_stat_statements_reset()`;
}

/**
 * What pg_stat_statements counted in this database since the last reset, by statement, leaving
 * out the benchmark's own bookkeeping (the reset, this read, CPU and WAL readings).
 */
export async function readStatements(sql: Sql): Promise<StatementStat[]> {
  return sql<StatementStat[]>`
    select regexp_replace(query, '[[:space:]]+', ' ', 'g') as query, calls::int as calls,
      (total_exec_time + total_plan_time)::float8 as total_ms
    from pg_stat_statements s
    join pg_database d on d.oid = s.dbid
    where d.datname = current_database() and query not like '%pg_stat_statements%'
      and query not like '%pg_stat_activity%' and query not like '%pg_stat_wal%'
    order by total_exec_time + total_plan_time desc`;
}

/** A short, recognisable name for one of the engine's statements. */
export function statementLabel(query: string): string {
  const q = query.toLowerCase();
  if (q.startsWith('begin')) return 'begin';
  if (q.startsWith('commit')) return 'commit';
  if (q.includes('from cron_job j where j.is_active and j.next_run <=')) return 'claim: select due';
  if (q.startsWith('with c as')) return 'insertSlotRuns';
  if (q.startsWith('with o as ( update cron_job_run')) return 'markLostRuns';
  if (q.startsWith('select from cron_job_run where status')) return 'markLostRuns: probe';
  if (q.startsWith('with outcome as')) return 'finishRuns';
  if (q.startsWith('update cron_job_run set deadline')) return 'renewLeases';
  if (q.includes('delete from cron_job_run')) return 'releaseRuns';
  return query.slice(0, 60);
}

/** pg_stat_statements since the last reset, summed per engine statement. */
export async function statementBreakdown(
  sql: Sql,
): Promise<{ label: string; calls: number; ms: number }[]> {
  const byLabel = new Map<string, { calls: number; ms: number }>();
  for (const stat of await readStatements(sql)) {
    const label = statementLabel(stat.query);
    const entry = byLabel.get(label) ?? { calls: 0, ms: 0 };
    entry.calls += stat.calls;
    entry.ms += stat.total_ms;
    byLabel.set(label, entry);
  }
  return [...byLabel].map(([label, entry]) => ({ label, ...entry }));
}
