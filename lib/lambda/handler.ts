import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy, { type MiddyfiedHandler } from '@middy/core';
import type { Context } from 'aws-lambda';

/** The Powertools instances a function reports through, built once per cold start. */
export interface LambdaTools {
  logger: Logger;
  metrics: Metrics;
}

/** Counted once for every invocation that throws, whatever metrics it had added before. */
export const INVOCATION_FAILED_METRIC = 'InvocationFailed';

/**
 * Every function that is not an API route (`run-due-jobs`, `run-job`, the SQS worker) is this
 * middy handler around its own few lines:
 * - injectLambdaContext: the request id, function name and cold start in every log line the
 *   invocation writes (the engine's included: it logs through the same logger), keys added by
 *   one invocation reset before the next;
 * - logMetrics: the metrics added during the invocation are flushed when it ends, on every path:
 *   a result, a thrown error (then with INVOCATION_FAILED_METRIC added), a failed run.
 * The error still propagates, so Lambda counts it and retries or dead-letters as configured.
 */
export function createLambdaHandler<TEvent, TResult>(
  tools: LambdaTools,
  handler: (event: TEvent, context: Context) => Promise<TResult>,
): MiddyfiedHandler<TEvent, TResult, Error, Context> {
  return (
    middy<TEvent, TResult, Error, Context>()
      .use(injectLambdaContext(tools.logger, { resetKeys: true }))
      .use(logMetrics(tools.metrics))
      // After and onError middlewares run in reverse order: this one before logMetrics flushes.
      .use({
        onError: async (request) => {
          tools.metrics.addMetric(INVOCATION_FAILED_METRIC, MetricUnit.Count, 1);
          tools.logger.error('invocation failed', { error: request.error?.message });
        },
      })
      .handler(handler)
  );
}
