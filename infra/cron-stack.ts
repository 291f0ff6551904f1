import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { CronAlarms } from './alarms';
import { AlertDelivery } from './alerts';
import { CronApi } from './api';
import type { CronConfig } from './config';
import { ConsoleSignIn, ConsoleSite } from './console';
import { CronDatabase } from './database';
import { CronFunctions } from './functions';
import { Migrations } from './migrations';
import { Network } from './network';
import { Scheduling } from './scheduling';
import { Sweep } from './sweep';
import { RunWorkers } from './workers';

export interface CronStackProps extends StackProps {
  config: CronConfig;
  /** The entry file of a function, by name. */
  entry: (name: string) => string;
}

/**
 * The whole scheduled-jobs system: network, database and proxy, functions, the sweep schedule,
 * exact-time triggers, API, alarms.
 */
export class CronStack extends Stack {
  readonly network: Network;
  readonly database: CronDatabase;
  readonly scheduling: Scheduling;
  readonly functions: CronFunctions;
  readonly sweep: Sweep;
  readonly workers: RunWorkers;
  readonly api: CronApi;
  readonly migrations: Migrations;
  readonly alarms: CronAlarms;
  /** Alert delivery, when `-c alerts=true`. */
  readonly alerts: AlertDelivery | undefined;
  /** The operator console in AWS, when `-c console=true`. */
  readonly console: { signIn: ConsoleSignIn; site: ConsoleSite } | undefined;

  constructor(scope: Construct, id: string, props: CronStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.network = new Network(this, 'Network', config);
    this.database = new CronDatabase(this, 'Database', config, this.network);
    this.scheduling = new Scheduling(this, 'Scheduling');
    this.functions = new CronFunctions(this, 'Functions', {
      config,
      network: this.network,
      database: this.database,
      scheduling: this.scheduling,
      entry: props.entry,
    });
    this.migrations = new Migrations(
      this,
      'Migrations',
      this.functions,
      [...this.database.ready, ...this.network.endpoints],
      this.database,
    );
    this.sweep = new Sweep(this, 'Sweep', {
      functions: this.functions,
      deadLetterQueue: this.scheduling.deadLetterQueue,
      intervalMinutes: config.sweepIntervalMinutes,
      reservedConcurrency: config.sweepReservedConcurrency,
    });
    // The first sweep must find the tables.
    this.sweep.rule.node.addDependency(this.migrations.trigger);
    this.workers = new RunWorkers(this, 'Workers', {
      functions: this.functions,
      maxConcurrency: config.workerMaxConcurrency,
    });
    this.workers.grantSend(this.sweep.function);
    this.sweep.function.addEnvironment('DISPATCH', config.dispatch);
    const runJob = this.functions.create('run-job', {
      description: 'Runs one precise or one-off job at its slot (EventBridge Scheduler target)',
      functionName: this.scheduling.runJobFunctionName,
      timeout: Duration.minutes(15),
      deadLetterQueue: this.scheduling.deadLetterQueue,
      rights: ['manage-schedules'],
      // A burst of precise jobs at one minute waits for these instances (Lambda queues the
      // throttled events) instead of taking every proxy connection; the sweep runs what is
      // still due at its next tick, and a late run-job for a slot already run is a no-op.
      reservedConcurrency: config.runJobReservedConcurrency,
      // A function error here is a failed claim (the database was unreachable): retried twice,
      // as Lambda's default, but events older than an hour are dropped to the dead-letter
      // queue rather than kept 6 hours; by then the sweep has run the slot.
      asyncRetries: { retryAttempts: 2, maxEventAge: Duration.hours(1) },
    });
    this.scheduling.bindRunJob(runJob);
    const signIn = config.console
      ? new ConsoleSignIn(this, 'ConsoleSignIn', { config, entry: props.entry })
      : undefined;
    this.api = new CronApi(this, 'Api', config, this.functions, signIn);
    // Run-now queues its run for the worker function; it never runs it in the API function.
    this.workers.grantSend(this.functions.byName.get('run-job-now')!);
    this.console = signIn
      ? { signIn, site: new ConsoleSite(this, 'Console', { api: this.api.api, signIn }) }
      : undefined;
    this.alerts = config.alerts
      ? new AlertDelivery(this, 'Alerts', {
          functions: this.functions,
          network: this.network,
          linkBaseUrl: this.api.stage.url.replace(/\/$/, ''),
        })
      : undefined;
    this.alarms = new CronAlarms(this, 'Alarms', {
      sweep: this.sweep,
      runJob,
      workers: this.workers,
      api: this.api.api,
      database: this.database,
      intervalMinutes: config.sweepIntervalMinutes,
      email: config.alarmEmail,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.stage.url });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });
    new CfnOutput(this, 'DatabaseEndpoint', { value: this.database.endpointAddress });
    if (this.database.proxy) {
      new CfnOutput(this, 'ProxyEndpoint', { value: this.database.proxy.endpoint });
    }
    // What an operator reaches for first: where the logs are, the dead letters, the migrate function.
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.scheduling.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'SweepLogGroup', { value: this.sweep.function.logGroup.logGroupName });
    new CfnOutput(this, 'RunJobLogGroup', { value: runJob.logGroup.logGroupName });
    new CfnOutput(this, 'WorkerLogGroup', {
      value: this.workers.function.logGroup.logGroupName,
    });
    new CfnOutput(this, 'RunQueueDeadLetterQueueUrl', {
      value: this.workers.deadLetterQueue.queueUrl,
    });
    new CfnOutput(this, 'MigrateLogGroup', {
      value: this.migrations.function.logGroup.logGroupName,
    });
    new CfnOutput(this, 'MigrateFunctionName', {
      // What to invoke for a dry run: the launcher where there is one (lean profile).
      value: (this.migrations.launcher ?? this.migrations.function).functionName,
    });
    if (this.alerts) {
      new CfnOutput(this, 'AlertEmailTopicArn', { value: this.alerts.emailTopic.topicArn });
      new CfnOutput(this, 'AlertDeliveryLogGroup', {
        value: this.alerts.function.logGroup.logGroupName,
      });
    }
    if (this.console) {
      new CfnOutput(this, 'ConsoleUrl', {
        value: `https://${this.console.site.distribution.distributionDomainName}/`,
      });
      new CfnOutput(this, 'ConsoleUserPoolId', { value: this.console.signIn.userPool.userPoolId });
    }
  }
}
