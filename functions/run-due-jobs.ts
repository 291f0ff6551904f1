import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { app, log } from '../lib/lambda/app';
import { sweep, type SweepSummary } from '../lib/sweep';

// Time kept back from the invocation's deadline so the summary is written before Lambda stops us.
const SAFETY_MARGIN_MS = 10_000;

const metrics = new Metrics({ namespace: 'CrmCron', serviceName: 'crm-cron' });

/**
 * The EventBridge rule's target: one sweep with the invocation's remaining time as its budget.
 * Safe to be delivered twice or to overlap another invocation: claims never overlap. A sweep that
 * fails throws, so Lambda counts an error and the alarm sees it.
 */
export const handler = middy<ScheduledEvent, SweepSummary, Error, Context>().handler(
  async (event, context) => {
    const deadline = new Date(Date.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS);
    try {
      const summary = await sweep(app, { concurrency: app.settings.sweepConcurrency, deadline });
      publish(summary);
      log.info('scheduled sweep', { event_id: event.id, event_time: event.time });
      return summary;
    } finally {
      metrics.publishStoredMetrics();
    }
  },
);

function publish(summary: SweepSummary) {
  metrics.addMetric('SweepSucceeded', MetricUnit.Count, 1);
  metrics.addMetric('JobsRun', MetricUnit.Count, summary.executed);
  metrics.addMetric('JobsSucceeded', MetricUnit.Count, summary.succeeded);
  metrics.addMetric('JobsFailed', MetricUnit.Count, summary.failed - summary.timed_out);
  metrics.addMetric('JobsTimedOut', MetricUnit.Count, summary.timed_out);
  metrics.addMetric('JobsSkipped', MetricUnit.Count, summary.skipped);
  metrics.addMetric('JobsLost', MetricUnit.Count, summary.lost);
  metrics.addMetric('SweepDurationMs', MetricUnit.Milliseconds, summary.duration_ms);
  metrics.addMetric('SweepLagMs', MetricUnit.Milliseconds, summary.max_lag_ms);
}
