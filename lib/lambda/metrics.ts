import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SweepSummary } from '../engine/sweep';

/** CloudWatch metrics (EMF) the stack's alarms read; one set per sweep or exact-time run. */
export const metrics = new Metrics({ namespace: 'CrmCron', serviceName: 'crm-cron' });

export function addSweepMetrics(summary: SweepSummary, options: { sweep: boolean }) {
  if (options.sweep) metrics.addMetric('SweepSucceeded', MetricUnit.Count, 1);
  metrics.addMetric('JobsRun', MetricUnit.Count, summary.executed);
  metrics.addMetric('JobsSucceeded', MetricUnit.Count, summary.succeeded);
  metrics.addMetric('JobsFailed', MetricUnit.Count, summary.failed - summary.timed_out);
  metrics.addMetric('JobsTimedOut', MetricUnit.Count, summary.timed_out);
  metrics.addMetric('JobsSkipped', MetricUnit.Count, summary.skipped);
  metrics.addMetric('JobsLost', MetricUnit.Count, summary.lost);
  metrics.addMetric('SweepDurationMs', MetricUnit.Milliseconds, summary.duration_ms);
  metrics.addMetric('SweepLagMs', MetricUnit.Milliseconds, summary.max_lag_ms);
  if (summary.triggers) {
    metrics.addMetric('TriggerSyncFailures', MetricUnit.Count, summary.triggers.failed);
  }
}
