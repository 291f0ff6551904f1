import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  MAX_DELIVERIES,
  QUEUED_LEASE_SECONDS,
  WORKER_TIMEOUT_SECONDS,
} from '../lib/engine/run-queue';
import type { CronFunctions } from './functions';
import { acknowledge } from './nag';

// Run messages a worker invocation takes at once (SendMessageBatch's maximum as well).
const WORKER_BATCH_SIZE = 10;

/**
 * The fan-out: an SQS queue of run messages (sent by run-now and by a dispatching sweep), the
 * worker function `run-queued-jobs` reading it with at most `maxConcurrency` instances and partial
 * batch responses, and a dead-letter queue for messages that failed MAX_DELIVERIES deliveries.
 * Every time follows from the longest job (lib/engine/run-queue.ts): the worker's timeout is the
 * longest job plus a margin, a message stays hidden for one worker timeout while it is worked on,
 * and the queue keeps it no longer than its run's queued lease.
 */
export class RunWorkers extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly function: NodejsFunction;

  constructor(
    scope: Construct,
    id: string,
    props: { functions: CronFunctions; maxConcurrency: number },
  ) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    acknowledge(
      this.deadLetterQueue,
      'AwsSolutions-SQS3',
      'This queue is the dead-letter queue of the run queue.',
    );
    this.queue = new sqs.Queue(this, 'Runs', {
      visibilityTimeout: Duration.seconds(WORKER_TIMEOUT_SECONDS),
      retentionPeriod: Duration.seconds(QUEUED_LEASE_SECONDS),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_DELIVERIES },
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.function = props.functions.create('run-queued-jobs', {
      description: 'Runs dispatched and run-now jobs from the run queue (the worker function)',
      timeout: Duration.seconds(WORKER_TIMEOUT_SECONDS),
      memorySize: 512,
      rights: [],
    });
    this.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: WORKER_BATCH_SIZE,
        maxConcurrency: props.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
  }

  /** Lets a function send run messages, and tells it where (RUN_QUEUE_URL). */
  grantSend(fn: NodejsFunction): void {
    this.queue.grantSendMessages(fn);
    fn.addEnvironment('RUN_QUEUE_URL', this.queue.queueUrl);
  }

  /** The queue's depth metrics, for alarms: dead letters, and how long the oldest run waits. */
  metrics(period: Duration): { deadLetters: cloudwatch.IMetric; oldestAge: cloudwatch.IMetric } {
    return {
      deadLetters: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period,
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      oldestAge: this.queue.metricApproximateAgeOfOldestMessage({
        period,
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
    };
  }
}
