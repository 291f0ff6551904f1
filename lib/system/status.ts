import type { AppContext } from '../app-context';

export interface SystemStatus {
  now: Date;
  sweep_interval_seconds: number;
  /** Summary of the sweep that finished last (null before the first), and when it finished. */
  last_sweep: { finished_at: Date; summary: Record<string, unknown> } | null;
  jobs: { total: number; active: number; inactive: number; failing: number };
  runs: { running: number; failed_24h: number; timed_out_24h: number; lost_24h: number };
  /** Active jobs whose next_run has passed, and how far behind the oldest of them is. */
  due: { jobs: number; oldest_next_run: Date | null; lag_seconds: number };
}

/** What the console's system panel shows: how the sweep keeps up, and what failed lately. */
export async function systemStatus(ctx: AppContext): Promise<SystemStatus> {
  const { sql } = ctx;
  const [[sweep], [jobs], [runs], [due]] = await Promise.all([
    sql<{ finished_at: Date; summary: Record<string, unknown> }[]>`
      select finished_at, summary from cron_sweep_state`,
    sql<{ total: number; active: number; failing: number }[]>`
      select count(*)::int as total, count(*) filter (where is_active)::int as active,
        count(*) filter (where metadata->>'last_execution_status' = 'error')::int as failing
      from cron_job`,
    sql<{ running: number; failed_24h: number; timed_out_24h: number; lost_24h: number }[]>`
      select
        (select count(*)::int from cron_job_run where status = 'running') as running,
        count(*) filter (where status = 'error')::int as failed_24h,
        count(*) filter (where status = 'timeout')::int as timed_out_24h,
        count(*) filter (where status = 'lost')::int as lost_24h
      from cron_job_run
      where status in ('error', 'timeout', 'lost') and started_at > now() - interval '24 hours'`,
    sql<{ jobs: number; oldest_next_run: Date | null; now: Date }[]>`
      select count(*)::int as jobs, min(next_run) as oldest_next_run, now() as now
      from cron_job where is_active and next_run <= now()`,
  ]);
  const now = due!.now;
  return {
    now,
    sweep_interval_seconds: ctx.settings.sweepIntervalSeconds,
    last_sweep: sweep ?? null,
    jobs: { ...jobs!, inactive: jobs!.total - jobs!.active },
    runs: runs!,
    due: {
      jobs: due!.jobs,
      oldest_next_run: due!.oldest_next_run,
      lag_seconds: due!.oldest_next_run
        ? Math.max(0, Math.round((now.getTime() - due!.oldest_next_run.getTime()) / 1000))
        : 0,
    },
  };
}
