import middy from '@middy/core';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { app, log, runRetentionDays } from '../lib/lambda/app';
import { addSweepMetrics, metrics } from '../lib/lambda/metrics';
import { sweep, type SweepSummary } from '../lib/engine/sweep';
import { withFields } from '../lib/engine/execute';
import { pruneAfterSweep } from '../lib/engine/retention';

// Time kept back from the invocation's deadline so the summary is written before Lambda stops us.
const SAFETY_MARGIN_MS = 10_000;

/**
 * The EventBridge rule's target: one sweep with the invocation's remaining time as its budget,
 * then run retention (lib/engine/retention.ts) until the same deadline.
 * Safe to be delivered twice or to overlap another invocation: claims never overlap. A sweep that
 * fails throws, so Lambda counts an error and the alarm sees it.
 */
export const handler = middy<ScheduledEvent, SweepSummary, Error, Context>().handler(
  async (event, context) => {
    const deadline = new Date(Date.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS);
    try {
      const summary = await sweep(
        { ...app, log: withFields(log, { request_id: context.awsRequestId }) },
        { concurrency: app.settings.sweepConcurrency, deadline },
      );
      addSweepMetrics(summary, { sweep: true });
      // In the time left, within the same budget: history older than RUN_RETENTION_DAYS.
      await pruneAfterSweep({ sql: app.sql, log }, { retentionDays: runRetentionDays, deadline });
      log.info('scheduled sweep', { event_id: event.id, event_time: event.time });
      return summary;
    } finally {
      metrics.publishStoredMetrics();
    }
  },
);
