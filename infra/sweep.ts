import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { CronFunctions } from './functions';

/**
 * The scheduled sweep: an EventBridge rule invokes `run-due-jobs` every interval. Events the
 * rule cannot deliver and invocations that still fail after Lambda's retries land in the shared
 * dead-letter queue.
 *
 * A failed sweep is retried once by Lambda (about a minute later) while its event is younger than
 * one interval; after that the next tick supersedes it. A retried or duplicated sweep is harmless:
 * claims take due rows with SKIP LOCKED and insert the run under a unique (job, slot), so no job
 * runs twice for a slot. Reserved concurrency caps overlapping sweeps (each holds up to 2 proxy
 * connections); a sweep throttled by it is retried by Lambda within the same event age.
 */
export class Sweep extends Construct {
  readonly function: NodejsFunction;
  readonly deadLetterQueue: sqs.IQueue;
  readonly rule: events.Rule;

  constructor(
    scope: Construct,
    id: string,
    props: {
      functions: CronFunctions;
      deadLetterQueue: sqs.IQueue;
      intervalMinutes: number;
      reservedConcurrency: number;
    },
  ) {
    super(scope, id);
    const { functions, intervalMinutes } = props;
    this.deadLetterQueue = props.deadLetterQueue;
    this.function = functions.create('run-due-jobs', {
      description: 'Runs every due cron job (the scheduled sweep)',
      // The longest job may take 840 s; the margin lets the sweep record the timeout.
      timeout: Duration.minutes(15),
      memorySize: 512,
      deadLetterQueue: this.deadLetterQueue,
      reservedConcurrency: props.reservedConcurrency,
      asyncRetries: { retryAttempts: 1, maxEventAge: Duration.minutes(intervalMinutes) },
      rights: ['manage-schedules'],
    });
    this.rule = new events.Rule(this, 'Schedule', {
      description: 'Starts the cron sweep',
      schedule: events.Schedule.rate(Duration.minutes(intervalMinutes)),
      targets: [
        new targets.LambdaFunction(this.function, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 3,
          // The next tick supersedes an event older than one interval.
          maxEventAge: Duration.minutes(intervalMinutes),
        }),
      ],
    });
  }
}
