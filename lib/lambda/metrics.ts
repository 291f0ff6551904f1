import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SweepSummary } from '../engine/sweep';

/** CloudWatch metrics (EMF) the stack's alarms read; one set per sweep or exact-time run. */
export const metrics = new Metrics({ namespace: 'CrmCron', serviceName: 'crm-cron' });

/** Runs that finished here: the same names whether a sweep, run-job or a worker ran them. */
export function addRunMetrics(counts: { succeeded: number; failed: number; timed_out: number }) {
  metrics.addMetric('JobsRun', MetricUnit.Count, counts.succeeded + counts.failed);
  metrics.addMetric('JobsSucceeded', MetricUnit.Count, counts.succeeded);
  metrics.addMetric('JobsFailed', MetricUnit.Count, counts.failed - counts.timed_out);
  metrics.addMetric('JobsTimedOut', MetricUnit.Count, counts.timed_out);
}

export function addSweepMetrics(summary: SweepSummary, options: { sweep: boolean }) {
  if (options.sweep) metrics.addMetric('SweepSucceeded', MetricUnit.Count, 1);
  addRunMetrics(summary);
  metrics.addMetric('JobsDispatched', MetricUnit.Count, summary.dispatched);
  metrics.addMetric('JobsSkipped', MetricUnit.Count, summary.skipped);
  metrics.addMetric('JobsLost', MetricUnit.Count, summary.lost);
  metrics.addMetric('SweepDurationMs', MetricUnit.Milliseconds, summary.duration_ms);
  metrics.addMetric('SweepLagMs', MetricUnit.Milliseconds, summary.max_lag_ms);
  if (summary.triggers) {
    metrics.addMetric('TriggerSyncFailures', MetricUnit.Count, summary.triggers.failed);
  }
}
