import { jsonb, type Sql } from '../db';
import type { Log } from '../logger';
import type { SweepSummary } from '../engine/sweep';

/**
 * Keeps the summary of the sweep that finished last, for the system panel. One row, overwritten:
 * concurrent sweeps each write theirs and the later one stays. Best effort: a failure is logged
 * and never fails the sweep.
 */
export async function recordLastSweep(sql: Sql, log: Log, summary: SweepSummary): Promise<void> {
  // The per-job results are the sweep caller's; the panel keeps the counts.
  const counts = { ...summary, results: undefined };
  try {
    await sql`
      insert into cron_sweep_state (id, finished_at, summary)
      values (true, now(), ${jsonb(sql, counts)})
      on conflict (id) do update set finished_at = excluded.finished_at, summary = excluded.summary`;
  } catch (error) {
    log.warn('could not record the sweep summary', { error: (error as Error).message });
  }
}
