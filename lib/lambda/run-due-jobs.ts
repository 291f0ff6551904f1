import type { Context, ScheduledEvent } from 'aws-lambda';
import type { AppContext } from '../app-context';
import type { DispatchOptions } from '../engine/dispatch-policy';
import { pruneAfterSweep } from '../engine/retention';
import { sweep, type SweepSummary } from '../engine/sweep';
import { addSweepMetrics } from './metrics';

// Time kept back from the invocation's deadline so the summary is written before Lambda stops us.
const SAFETY_MARGIN_MS = 10_000;

/**
 * The EventBridge rule's target: one sweep with the invocation's remaining time as its budget
 * (handing to the worker queue what `dispatch` says), then run retention until the same deadline.
 * Safe to be delivered twice or to overlap another invocation: claims never overlap. A sweep that
 * fails throws, so Lambda counts an error and the alarm sees it.
 */
export function runDueJobs(
  app: AppContext,
  options: { runRetentionDays: number; dispatch: DispatchOptions | undefined },
) {
  return async (event: ScheduledEvent, context: Context): Promise<SweepSummary> => {
    const deadline = new Date(Date.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS);
    const summary = await sweep(app, {
      concurrency: app.settings.sweepConcurrency,
      deadline,
      dispatch: options.dispatch,
    });
    addSweepMetrics(summary, { sweep: true });
    // In the time left, within the same budget: history older than RUN_RETENTION_DAYS.
    await pruneAfterSweep(app, { retentionDays: options.runRetentionDays, deadline });
    app.log.info('scheduled sweep', { event_id: event.id, event_time: event.time });
    return summary;
  };
}
