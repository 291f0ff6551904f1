import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { Sweep } from './sweep';

const NAMESPACE = 'CrmCron';
const DIMENSIONS = { service: 'crm-cron' };

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
    props: { sweep: Sweep; intervalMinutes: number; email: string | undefined },
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
  }

  private add(id: string, props: cloudwatch.AlarmProps): void {
    const alarm = new cloudwatch.Alarm(this, id, props);
    alarm.addAlarmAction(new SnsAction(this.topic));
    alarm.addOkAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}
