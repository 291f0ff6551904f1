import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AppContext } from '../../lib/app-context';
import { connect } from '../../lib/db';
import { sweep } from '../../lib/engine/sweep';
import { createLambdaHandler, INVOCATION_FAILED_METRIC } from '../../lib/lambda/handler';
import { metrics as appMetrics } from '../../lib/lambda/metrics';
import { runJob } from '../../lib/lambda/run-job';
import { runQueuedJobs } from '../../lib/lambda/run-queued-jobs';
import { createLogger, silentLog } from '../../lib/logger';
import { createTestDatabase } from '../helpers/database';
import { insertJob, testRegistry } from '../helpers/jobs';

// Powertools writes log lines and EMF metric documents as JSON lines (errors to stderr).
let written: string[] = [];
beforeEach(() => {
  written = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
  }
});
afterEach(() => {
  vi.restoreAllMocks();
});
const lines = () =>
  written
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
const emf = () => lines().filter((line) => '_aws' in line);
const metricNames = (document: Record<string, unknown>) =>
  (
    document._aws as { CloudWatchMetrics: { Metrics: { Name: string }[] }[] }
  ).CloudWatchMetrics[0]!.Metrics.map((metric) => metric.Name);

function lambdaContext(): Context {
  return {
    awsRequestId: randomUUID(),
    functionName: 'crm-cron-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:crm-cron-test',
    memoryLimitInMB: '512',
    logGroupName: '/aws/lambda/crm-cron-test',
    logStreamName: 'stream',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 600_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

describe('the Lambda handler factory', () => {
  const tools = () => ({
    logger: new Logger({ serviceName: 'crm-cron-test' }),
    metrics: new Metrics({ namespace: 'CrmCronTest', serviceName: 'crm-cron-test' }),
  });

  it('puts the Lambda context in every log line and flushes the metrics when it answers', async () => {
    const { logger, metrics } = tools();
    const handler = createLambdaHandler({ logger, metrics }, async () => {
      logger.info('working');
      metrics.addMetric('Worked', MetricUnit.Count, 1);
      return 'done';
    });
    const context = lambdaContext();
    await expect(handler({}, context)).resolves.toBe('done');
    const working = lines().find((line) => line.message === 'working');
    expect(working).toMatchObject({
      function_request_id: context.awsRequestId,
      function_name: 'crm-cron-test',
    });
    expect(emf().map(metricNames)).toEqual([['Worked']]);
  });

  it('flushes the metrics of an invocation that throws, with InvocationFailed, and still throws', async () => {
    const { logger, metrics } = tools();
    const handler = createLambdaHandler({ logger, metrics }, async () => {
      metrics.addMetric('JobsRun', MetricUnit.Count, 1);
      throw new Error('database unreachable');
    });
    const context = lambdaContext();
    await expect(handler({}, context)).rejects.toThrow('database unreachable');
    expect(emf().map(metricNames)).toEqual([['JobsRun', INVOCATION_FAILED_METRIC]]);
    const failed = lines().find((line) => line.message === 'invocation failed');
    expect(failed).toMatchObject({ function_request_id: context.awsRequestId });
  });
});

describe('run-job', () => {
  it('publishes its metrics when its sweep fails (the database is unreachable)', async () => {
    const sql = connect('postgres://nobody@127.0.0.1:9/none', { max: 1 });
    afterAll(() => sql.end({ timeout: 1 }));
    const log = createLogger('error');
    const app: AppContext = {
      sql,
      registry: testRegistry,
      log,
      settings: { sweepIntervalSeconds: 300, sweepConcurrency: 1 },
    };
    const handler = createLambdaHandler(
      { logger: log.powertools, metrics: appMetrics },
      runJob(app),
    );
    await expect(
      handler({ job_id: randomUUID(), scheduled_for: new Date().toISOString() }, lambdaContext()),
    ).rejects.toThrow();
    expect(emf().map(metricNames)).toEqual([[INVOCATION_FAILED_METRIC]]);
  });
});

describe('the worker function', async () => {
  const { sql } = await createTestDatabase();
  const app: AppContext = {
    sql,
    registry: testRegistry,
    log: silentLog,
    settings: { sweepIntervalSeconds: 300, sweepConcurrency: 4 },
  };
  const log = createLogger('error');
  const handler = createLambdaHandler(
    { logger: log.powertools, metrics: appMetrics },
    runQueuedJobs({ ...app, log }),
  );
  const sqsEvent = (bodies: string[]): SQSEvent => ({
    Records: bodies.map((body, index) => ({
      messageId: `message-${index}`,
      receiptHandle: `receipt-${index}`,
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(Date.now()),
        SenderId: 'AROAEXAMPLE',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:crm-cron-runs',
      awsRegion: 'eu-west-1',
    })),
  });

  /** Runs the sweep as a dispatcher, collecting the run ids it queues. */
  async function dispatch(): Promise<string[]> {
    const queued: string[] = [];
    await sweep(app, {
      dispatch: { queue: { send: async (ids) => void queued.push(...ids) }, when: 'always' },
    });
    return queued;
  }

  it('runs each delivered run once, records failures as outcomes, drops what is no run message, and hands back only what it could not pick up', async () => {
    await sql`truncate cron_job cascade`;
    await insertJob(sql, { function_name: 'noop', schedule: 'daily' });
    await insertJob(sql, { function_name: 'fail', schedule: 'daily' });
    const runIds = await dispatch();
    expect(runIds).toHaveLength(2);

    const response = await handler(
      sqsEvent([
        ...runIds.map((run_id) => JSON.stringify({ run_id })),
        // Delivered twice: picked up once.
        JSON.stringify({ run_id: runIds[0] }),
        'not a run message',
        // The pick-up itself fails: this message comes back.
        JSON.stringify({ run_id: 'not-a-uuid' }),
      ]),
      lambdaContext(),
    );
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'message-4' }] });

    const runs = await sql<{ status: string; function_name: string }[]>`
      select r.status, j.function_name from cron_job_run r join cron_job j on j.id = r.job_id
      order by j.function_name`;
    expect(runs).toEqual([
      { status: 'error', function_name: 'fail' },
      { status: 'success', function_name: 'noop' },
    ]);
    const [metricsDocument] = emf();
    expect(metricsDocument).toMatchObject({ JobsRun: 2, JobsSucceeded: 1, JobsFailed: 1 });
  });
});
