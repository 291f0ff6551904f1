import type { CreateScheduleCommandInput, SchedulerClient } from '@aws-sdk/client-scheduler';
import type { TriggerPort, TriggerRequest } from '../engine/triggers';

export interface SchedulerTriggerConfig {
  groupName: string;
  /** The `run-job` function the schedule invokes. */
  targetArn: string;
  /** The role EventBridge Scheduler assumes to invoke it; allowed to invoke only `run-job`. */
  roleArn: string;
  deadLetterQueueArn: string;
}

/** One schedule per job, named from its id, so arming twice replaces rather than duplicates. */
export const scheduleName = (jobId: string) => `crm-cron-job-${jobId}`;

/** `at(...)` wants the wall-clock time in the schedule's time zone, to the second. */
export function localDateTime(instant: Date, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(instant)
      .map((part) => [part.type, part.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`;
}

/**
 * EventBridge Scheduler as the trigger port: a one-time `at()` schedule per job in the stack's
 * group, flexible window off, retried and dead-lettered, deleted by Scheduler once it has fired.
 */
export function createSchedulerTriggers(
  client: SchedulerClient,
  config: SchedulerTriggerConfig,
): TriggerPort {
  const input = (request: TriggerRequest): CreateScheduleCommandInput => ({
    Name: scheduleName(request.job_id),
    GroupName: config.groupName,
    ScheduleExpression: `at(${localDateTime(request.next_run, request.timezone)})`,
    ScheduleExpressionTimezone: request.timezone,
    FlexibleTimeWindow: { Mode: 'OFF' },
    ActionAfterCompletion: 'DELETE',
    Target: {
      Arn: config.targetArn,
      RoleArn: config.roleArn,
      Input: JSON.stringify({
        job_id: request.job_id,
        scheduled_for: request.next_run.toISOString(),
      }),
      RetryPolicy: { MaximumRetryAttempts: 5, MaximumEventAgeInSeconds: 900 },
      DeadLetterConfig: { Arn: config.deadLetterQueueArn },
    },
  });
  // The client comes from the Lambda runtime: loaded when a trigger is first touched, not at cold start.
  const sdk = () => import('@aws-sdk/client-scheduler');
  return {
    async arm(request) {
      const { ConflictException, CreateScheduleCommand, UpdateScheduleCommand } = await sdk();
      try {
        await client.send(new CreateScheduleCommand(input(request)));
      } catch (error) {
        if (!(error instanceof ConflictException)) throw error;
        await client.send(new UpdateScheduleCommand(input(request)));
      }
    },
    async disarm(jobId) {
      const { DeleteScheduleCommand, ResourceNotFoundException } = await sdk();
      try {
        await client.send(
          new DeleteScheduleCommand({ Name: scheduleName(jobId), GroupName: config.groupName }),
        );
      } catch (error) {
        if (!(error instanceof ResourceNotFoundException)) throw error;
      }
    },
  };
}
