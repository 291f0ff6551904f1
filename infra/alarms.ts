import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { CronDatabase } from './database';
import type { Sweep } from './sweep';
import type { RunWorkers } from './workers';

const NAMESPACE = 'CrmCron';
const DIMENSIONS = { service: 'crm-cron' };
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/**
 * Database alarm thresholds, sustained for three 5-minute periods. Storage autoscaling adds space
 * when less than 10 % is free, so 2 GiB free for 15 minutes means growth has hit
 * `dbMaxAllocatedStorageGiB` (or the existing instance has none): look at run retention. Connections
 * are compared with what the proxy may open (the instance's max_connections), so the threshold
 * holds for any instance class.
 */
export const databaseThresholds = {
  freeStorageBytes: 2 * GiB,
  connectionsPercentOfMax: 80,
  /** Without the proxy (lean profile) there is no max_connections metric: 80 % of a t4g.micro's. */
  connectionsWithoutProxy: 64,
  cpuPercent: 80,
  freeableMemoryBytes: 128 * MiB,
};

/**
 * Alarms that say the scheduler stopped or jobs fail, all to one encrypted SNS topic (with an
 * email subscription when an address is configured). Each alarm also notifies when it clears.
 */
export class CronAlarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(
    scope: Construct,
    id: string,
    props: {
      sweep: Sweep;
      runJob: IFunction;
      workers: RunWorkers;
      api: apigw.HttpApi;
      database: CronDatabase;
      intervalMinutes: number;
      email: string | undefined;
    },
  ) {
    super(scope, id);
    const key = new kms.Key(this, 'TopicKey', {
      description: 'Encrypts the crm-cron alarm topic',
      enableKeyRotation: true,
    });
    // CloudWatch publishes alarms only to topics whose key it may use.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'crm-cron alarms',
      masterKey: key,
      enforceSSL: true,
    });
    // enforceSSL gives the topic a policy holding only a Deny; without this Allow CloudWatch could
    // not publish, and no alarm would ever reach the subscribers. Only this account's alarms may.
    const stack = Stack.of(this);
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));

    const period = Duration.minutes(props.intervalMinutes);
    const metric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: NAMESPACE,
        metricName,
        dimensionsMap: DIMENSIONS,
        statistic: cloudwatch.Stats.SUM,
        period,
      });
    const { sweep } = props;

    this.add('SweepErrors', {
      alarmDescription:
        'run-due-jobs failed (threw, timed out or crashed). Read its log group for the error.',
      metric: sweep.function.metricErrors({ period, statistic: cloudwatch.Stats.SUM }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.add('DeadLetters', {
      alarmDescription:
        'Scheduled invocations (sweep or precise job) that failed for good are in the dead-letter queue. Inspect, then purge.',
      metric: sweep.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.add('JobFailures', {
      alarmDescription:
        'A job failed, timed out or was lost. See cron_job_run and the job metadata last_error.',
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(lost, 0)',
        usingMetrics: {
          failed: metric('JobsFailed'),
          timedOut: metric('JobsTimedOut'),
          lost: metric('JobsLost'),
        },
        label: 'Jobs failed, timed out or lost',
        period,
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.add('SweepStopped', {
      alarmDescription:
        'No successful sweep for three intervals: the scheduler has stopped. Check the rule, the function and the database.',
      metric: metric('SweepSucceeded'),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 3,
      // No data means no sweep reported success at all.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    this.add('RunJobErrors', {
      alarmDescription:
        'run-job (a precise or one-off job at its slot) failed: usually the database or proxy was unreachable. The sweep runs the slot at its next tick; read the function log group.',
      metric: props.runJob.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const runQueue = props.workers.metrics(Duration.minutes(5));
    this.add('RunQueueDeadLetters', {
      alarmDescription:
        "Run messages the worker function could not pick up after every delivery (the database was unreachable) are in the run queue's dead-letter queue. Their runs are declared lost by a sweep; inspect, then purge.",
      metric: runQueue.deadLetters,
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.add('RunQueueAge', {
      alarmDescription:
        'A dispatched run has waited longer than one sweep interval for a worker: the workers are throttled (workerMaxConcurrency) or failing. Read the worker log group.',
      metric: runQueue.oldestAge,
      threshold: props.intervalMinutes * 60,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.add('ApiServerErrors', {
      alarmDescription:
        'The HTTP API answered 5xx (500 unexpected failure, 503 database unreachable). Find the request id in the route function log groups.',
      metric: props.api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.addDatabaseAlarms(props.database);
  }

  private addDatabaseAlarms(database: CronDatabase): void {
    const rds = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/RDS',
        metricName,
        dimensionsMap: { DBInstanceIdentifier: database.instanceIdentifier },
        statistic,
        period: Duration.minutes(5),
      });
    const sustained = {
      evaluationPeriods: 3,
      // No data: the instance is gone or stopped, which other alarms (sweep) report.
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
    };
    this.add('DatabaseFreeStorageSpace', {
      alarmDescription:
        'Less than 2 GiB of database storage free for 15 minutes: when it runs out PostgreSQL stops taking writes. Check run retention and the largest tables; raise dbMaxAllocatedStorageGiB.',
      metric: rds('FreeStorageSpace', 'Minimum'),
      threshold: databaseThresholds.freeStorageBytes,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      ...sustained,
    });
    const proxy = database.proxy;
    this.add('DatabaseConnections', {
      alarmDescription: proxy
        ? 'The database holds more than 80 % of the connections the proxy may open (max_connections) for 15 minutes. Check who connects (pg_stat_activity) and the reserved concurrency of the functions.'
        : `The database holds more than ${databaseThresholds.connectionsWithoutProxy} connections for 15 minutes (no proxy: each function instance holds up to 2; a t4g.micro allows about 80). Check who connects (pg_stat_activity) and the reserved concurrency of the functions.`,
      metric: proxy
        ? new cloudwatch.MathExpression({
            expression: '100 * connections / allowed',
            usingMetrics: {
              connections: rds('DatabaseConnections', 'Maximum'),
              allowed: new cloudwatch.Metric({
                namespace: 'AWS/RDS',
                metricName: 'MaxDatabaseConnectionsAllowed',
                dimensionsMap: { ProxyName: proxy.dbProxyName },
                statistic: 'Minimum',
                period: Duration.minutes(5),
              }),
            },
            label: 'Database connections, % of max_connections',
            period: Duration.minutes(5),
          })
        : rds('DatabaseConnections', 'Maximum'),
      threshold: proxy
        ? databaseThresholds.connectionsPercentOfMax
        : databaseThresholds.connectionsWithoutProxy,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      ...sustained,
    });
    this.add('DatabaseCpu', {
      alarmDescription:
        'Database CPU above 80 % for 15 minutes. Look at Performance Insights or pg_stat_statements for the statements; a burstable class may have run out of CPU credits.',
      metric: rds('CPUUtilization', 'Average'),
      threshold: databaseThresholds.cpuPercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      ...sustained,
    });
    this.add('DatabaseFreeableMemory', {
      alarmDescription:
        'Less than 128 MiB of database memory free for 15 minutes: PostgreSQL is about to swap. Move to a larger instance class (dbInstanceClass, or -c profile=production).',
      metric: rds('FreeableMemory', 'Minimum'),
      threshold: databaseThresholds.freeableMemoryBytes,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      ...sustained,
    });
  }

  private add(id: string, props: cloudwatch.AlarmProps): void {
    const alarm = new cloudwatch.Alarm(this, id, props);
    alarm.addAlarmAction(new SnsAction(this.topic));
    alarm.addOkAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}
