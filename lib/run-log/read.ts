import type { AppContext } from '../app-context';
import { NotFoundError } from '../errors';
import type { Caller } from '../identity/caller';
import { findScopedJob, isUuid } from '../jobs/scope';
import { RUN_LOG_PAGE_LINES, type RunLogLevel } from './limits';

export interface RunLogLine {
  seq: number;
  at: Date;
  level: RunLogLevel;
  message: string;
  fields: Record<string, unknown> | null;
}

export interface RunLogPage {
  run_id: string;
  /** The run's status when this page was read. */
  status: string;
  lines: RunLogLine[];
  /** Pass as `after` to read on; the `after` given when no line follows. */
  next_after: number;
  /** True when the run has finished and no line follows this page: the log is whole. */
  complete: boolean;
}

/**
 * The lines one run logged after `after`, oldest first, at most RUN_LOG_PAGE_LINES. The run is
 * looked up through its job, so whoever may not see the job cannot see its runs' logs either.
 * The run's status is read before its lines: the engine writes a run's lines before its outcome
 * (RunRecorder's beforeWrite), so a run read as finished has every line already stored and
 * `complete` can be trusted.
 */
export async function readRunLog(
  ctx: AppContext,
  caller: Caller,
  jobId: string,
  runId: string,
  after: number,
): Promise<RunLogPage> {
  await findScopedJob(ctx.sql, caller, jobId, ['id']);
  const [run] = isUuid(runId)
    ? await ctx.sql<{ status: string }[]>`
        select status from cron_job_run where id = ${runId} and job_id = ${jobId}`
    : [];
  if (!run) throw new NotFoundError(`job ${jobId} has no run with id ${JSON.stringify(runId)}`);
  const rows = await ctx.sql<RunLogLine[]>`
    select seq, at, level, message, fields from cron_job_run_log
    where run_id = ${runId} and seq > ${after}
    order by seq
    limit ${RUN_LOG_PAGE_LINES + 1}`;
  const lines = rows.slice(0, RUN_LOG_PAGE_LINES);
  return {
    run_id: runId,
    status: run.status,
    lines,
    next_after: lines.at(-1)?.seq ?? after,
    complete: run.status !== 'running' && rows.length <= RUN_LOG_PAGE_LINES,
  };
}
