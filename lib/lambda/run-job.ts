import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import type { AppContext } from '../app-context';
import { sweep, type SweepSummary } from '../engine/sweep';
import { addSweepMetrics } from './metrics';

const SAFETY_MARGIN_MS = 10_000;

const triggerEvent = z.object({ job_id: z.uuid(), scheduled_for: z.iso.datetime() });

/**
 * EventBridge Scheduler's target for precise and one-off jobs: runs that job for that slot through
 * the engine's own claim, so if the sweep already ran the slot this is a no-op (and vice versa).
 */
export function runJob(app: AppContext) {
  return async (event: unknown, context: Context): Promise<SweepSummary | { ignored: string }> => {
    const parsed = z.safeParse(triggerEvent, event);
    if (!parsed.success) {
      // Retrying cannot fix a malformed payload; say so and stop.
      app.log.error('run-job ignored an event that is not {job_id, scheduled_for}');
      return { ignored: 'malformed event' };
    }
    const summary = await sweep(app, {
      concurrency: 1,
      only: { jobId: parsed.data.job_id, slot: new Date(parsed.data.scheduled_for) },
      deadline: new Date(Date.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS),
    });
    // Precise runs count towards the same job metrics and failure alarm as swept ones.
    addSweepMetrics(summary, { sweep: false });
    app.log.info('exact-time trigger', { ...parsed.data, executed: summary.executed });
    return summary;
  };
}
