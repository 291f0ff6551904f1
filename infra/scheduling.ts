import { ArnFormat, Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import { acknowledge, wildcardResourceFinding } from './nag';

/**
 * What scheduled invocations share: the dead-letter queue (sweep rule, sweep function, exact-time
 * schedules, `run-job`) and, for precise and one-off jobs, an EventBridge Scheduler group whose
 * one-time schedules invoke `run-job` through a role that may do nothing else. The functions
 * create those schedules at run time (see lib/aws/scheduler-triggers.ts).
 */
export class Scheduling extends Construct {
  readonly deadLetterQueue: sqs.Queue;
  readonly group: scheduler.ScheduleGroup;
  readonly role: iam.Role;
  /** Fixed up front: every function's environment names it, `run-job`'s own included. */
  readonly runJobFunctionName: string;
  /** The environment every function gets, so any of them can arm or disarm a job's trigger. */
  readonly environment: Record<string, string>;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const stack = Stack.of(this);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.group = new scheduler.ScheduleGroup(this, 'Group', {
      scheduleGroupName: Names.uniqueResourceName(this, { maxLength: 64, separator: '-' }),
      // Schedules are derived state: the next sweep re-arms every precise job.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'SchedulerRole', {
      description: 'EventBridge Scheduler: invoke run-job, dead-letter what it cannot deliver',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    });
    this.deadLetterQueue.grantSendMessages(this.role);
    this.runJobFunctionName = `${Names.uniqueResourceName(this, { maxLength: 56, separator: '-' })}-run-job`;
    this.environment = {
      SCHEDULER_GROUP_NAME: this.group.scheduleGroupName,
      RUN_JOB_FUNCTION_ARN: stack.formatArn({
        service: 'lambda',
        resource: 'function',
        resourceName: this.runJobFunctionName,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
      SCHEDULER_ROLE_ARN: this.role.roleArn,
      SCHEDULER_DLQ_ARN: this.deadLetterQueue.queueArn,
    };
  }

  /** Lets a function create, replace and delete schedules in the group, handing them the role. */
  grantManageSchedules(grantee: iam.IGrantable & IConstruct): void {
    const schedules = Stack.of(this).formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${this.group.scheduleGroupName}/*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'scheduler:CreateSchedule',
          'scheduler:UpdateSchedule',
          'scheduler:DeleteSchedule',
        ],
        resources: [schedules],
      }),
    );
    this.role.grantPassRole(grantee.grantPrincipal);
    acknowledge(
      grantee,
      wildcardResourceFinding(this, schedules),
      "Schedules are created at run time, one per precise job; the wildcard covers only this stack's schedule group.",
    );
  }

  /** The role may invoke `run-job` (unqualified, as Scheduler calls it) and nothing else. */
  bindRunJob(runJob: IFunction): void {
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [runJob.functionArn],
      }),
    );
  }
}
