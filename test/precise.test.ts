import { SYSTEM_CALLER } from '../lib/identity/caller';
import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { AppContext } from '../lib/app-context';
import { createSchedulerTriggers, scheduleName } from '../lib/aws/scheduler-triggers';
import { connect } from '../lib/db';
import { createJob, deleteJob, getJob, updateJob } from '../lib/jobs/service';
import { createLocalApp } from '../lib/local/app';
import { startLocalServer } from '../lib/local/server';
import { silentLog } from '../lib/logger';
import { sweep } from '../lib/engine/sweep';
import { createTestDatabase } from './helpers/database';
import { testRegistry } from './helpers/jobs';

const { sql, url } = await createTestDatabase();
const scheduler = mockClient(SchedulerClient);
const config = {
  groupName: 'crm-cron',
  targetArn: 'arn:aws:lambda:eu-west-1:123456789012:function:run-job',
  roleArn: 'arn:aws:iam::123456789012:role/scheduler-invoke-run-job',
  deadLetterQueueArn: 'arn:aws:sqs:eu-west-1:123456789012:run-job-dlq',
};
const app: AppContext = {
  sql,
  registry: testRegistry,
  log: silentLog,
  triggers: createSchedulerTriggers(new SchedulerClient({ region: 'eu-west-1' }), config),
  settings: { sweepIntervalSeconds: 300, sweepConcurrency: 4 },
};

const expectedInput = (jobId: string, local: string, timezone: string, slot: string) => ({
  Name: scheduleName(jobId),
  GroupName: 'crm-cron',
  ScheduleExpression: `at(${local})`,
  ScheduleExpressionTimezone: timezone,
  FlexibleTimeWindow: { Mode: 'OFF' },
  ActionAfterCompletion: 'DELETE',
  Target: {
    Arn: config.targetArn,
    RoleArn: config.roleArn,
    Input: JSON.stringify({ job_id: jobId, scheduled_for: slot }),
    RetryPolicy: { MaximumRetryAttempts: 5, MaximumEventAgeInSeconds: 900 },
    DeadLetterConfig: { Arn: config.deadLetterQueueArn },
  },
});

beforeEach(async () => {
  scheduler.reset();
  scheduler.onAnyCommand().resolves({});
  await sql`truncate cron_job cascade`;
});
afterAll(() => scheduler.restore());

describe('exact-time triggers through EventBridge Scheduler', () => {
  const now = new Date('2026-11-28T10:07:30Z');

  it('arms a precise job on create, re-arms on schedule change, disarms on deactivate and delete', async () => {
    const { job } = await createJob(
      app,
      SYSTEM_CALLER,
      {
        name: 'report',
        schedule: 'cron:0 9 * * *',
        function_name: 'noop',
        timezone: 'Europe/Berlin',
        precise: true,
      },
      now,
    );
    expect(scheduler.commandCalls(CreateScheduleCommand).map((call) => call.args[0].input)).toEqual(
      [expectedInput(job.id, '2026-11-29T09:00:00', 'Europe/Berlin', '2026-11-29T08:00:00.000Z')],
    );

    scheduler.reset();
    scheduler
      .on(CreateScheduleCommand)
      .rejects(new ConflictException({ message: 'exists', Message: 'exists', $metadata: {} }));
    scheduler.on(UpdateScheduleCommand).resolves({});
    await updateJob(
      app,
      SYSTEM_CALLER,
      job.id,
      { schedule: 'cron:30 7 * * *', timezone: 'America/New_York' },
      now,
    );
    expect(scheduler.commandCalls(UpdateScheduleCommand).map((call) => call.args[0].input)).toEqual(
      [
        expectedInput(
          job.id,
          '2026-11-28T07:30:00',
          'America/New_York',
          '2026-11-28T12:30:00.000Z',
        ),
      ],
    );

    scheduler.reset();
    scheduler.onAnyCommand().resolves({});
    await updateJob(app, SYSTEM_CALLER, job.id, { is_active: false }, now);
    expect(scheduler.commandCalls(DeleteScheduleCommand).map((call) => call.args[0].input)).toEqual(
      [{ Name: scheduleName(job.id), GroupName: 'crm-cron' }],
    );

    scheduler.reset();
    scheduler.onAnyCommand().resolves({});
    await deleteJob(app, SYSTEM_CALLER, job.id);
    expect(scheduler.commandCalls(DeleteScheduleCommand).map((call) => call.args[0].input)).toEqual(
      [{ Name: scheduleName(job.id), GroupName: 'crm-cron' }],
    );
  });

  it('leaves non-precise jobs without a trigger', async () => {
    await createJob(
      app,
      SYSTEM_CALLER,
      { name: 'plain', schedule: 'hourly', function_name: 'noop' },
      now,
    );
    expect(scheduler.calls()).toHaveLength(0);
  });

  it('re-arms for the next slot when a run completes, and disarms a one-off job after its run', async () => {
    const { job: precise } = await createJob(
      app,
      SYSTEM_CALLER,
      { name: 'every quarter', schedule: 'every_15_minutes', function_name: 'noop', precise: true },
      now,
    );
    const { job: once } = await createJob(
      app,
      SYSTEM_CALLER,
      {
        name: 'once',
        schedule: 'at:2026-12-01T09:00:00',
        function_name: 'noop',
        timezone: 'Europe/Berlin',
      },
      now,
    );
    scheduler.reset();
    scheduler.onAnyCommand().resolves({});
    const slot = new Date('2026-11-28T10:15:00Z');
    const summary = await sweep(app, { only: { jobId: precise.id, slot }, now: () => slot });
    expect(summary).toMatchObject({ executed: 1, succeeded: 1 });
    expect(scheduler.commandCalls(CreateScheduleCommand).map((call) => call.args[0].input)).toEqual(
      [expectedInput(precise.id, '2026-11-28T10:30:00', 'UTC', '2026-11-28T10:30:00.000Z')],
    );

    scheduler.reset();
    scheduler.onAnyCommand().resolves({});
    const onceSlot = new Date('2026-12-01T08:00:00Z');
    expect(
      await sweep(app, { only: { jobId: once.id, slot: onceSlot }, now: () => onceSlot }),
    ).toMatchObject({
      executed: 1,
    });
    expect(await getJob(app, SYSTEM_CALLER, once.id)).toMatchObject({
      is_active: false,
      next_run: null,
    });
    expect(scheduler.commandCalls(DeleteScheduleCommand).map((call) => call.args[0].input)).toEqual(
      [{ Name: scheduleName(once.id), GroupName: 'crm-cron' }],
    );
    expect(scheduler.commandCalls(CreateScheduleCommand)).toHaveLength(0);
  });

  it('keeps the database write when Scheduler fails, and the next sweep repairs the trigger', async () => {
    scheduler.reset();
    scheduler.onAnyCommand().rejects(new Error('Scheduler is down'));
    const { job } = await createJob(
      app,
      SYSTEM_CALLER,
      { name: 'report', schedule: 'cron:0 9 * * *', function_name: 'noop', precise: true },
      now,
    );
    expect(await getJob(app, SYSTEM_CALLER, job.id)).toMatchObject({
      name: 'report',
      precise: true,
    });
    expect(scheduler.commandCalls(CreateScheduleCommand)).toHaveLength(1);

    scheduler.reset();
    scheduler.onAnyCommand().resolves({});
    const summary = await sweep(app, { now: () => now });
    expect(summary.triggers).toEqual({ armed: 1, disarmed: 0, failed: 0 });
    expect(scheduler.commandCalls(CreateScheduleCommand).map((call) => call.args[0].input)).toEqual(
      [expectedInput(job.id, '2026-11-29T09:00:00', 'UTC', '2026-11-29T09:00:00.000Z')],
    );
    scheduler.reset();
    scheduler.onAnyCommand().resolves({});
    expect((await sweep(app, { now: () => now })).triggers).toEqual({
      armed: 0,
      disarmed: 0,
      failed: 0,
    });
  });

  it('gives one run when run-job and a sweep take the same slot at the same moment', async () => {
    for (let round = 0; round < 10; round += 1) {
      await sql`truncate cron_job cascade`;
      const slot = new Date(Date.now() - 1000);
      const [job] = await sql<{ id: string }[]>`
        insert into cron_job (name, schedule, function_name, precise, next_run)
        values ('race', 'every_minute', 'noop', true, ${slot}) returning id`;
      const other = connect(url, { max: 2 });
      try {
        await Promise.all([
          sweep({ ...app, triggers: undefined }, {}),
          sweep({ ...app, sql: other, triggers: undefined }, { only: { jobId: job!.id, slot } }),
        ]);
      } finally {
        await other.end();
      }
      const runs = await sql`select status from cron_job_run where job_id = ${job!.id}`;
      expect(runs.map((run) => run.status)).toEqual(['success']);
    }
  });
});

describe('exact-time triggers on the local stack', () => {
  it('starts a precise job within 1 s of its slot and runs an at: job once, then deactivates it', async () => {
    const local = await createLocalApp({
      sql,
      registry: testRegistry,
      log: silentLog,
      sweepIntervalSeconds: 300,
    });
    const server = await startLocalServer({
      app: local,
      log: silentLog,
      host: '127.0.0.1',
      port: 0,
    });
    try {
      const slot = new Date(Math.ceil((Date.now() + 3000) / 1000) * 1000);
      const post = (body: object) =>
        fetch(`${server.url}/api/cron/jobs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }).then((response) => response.json() as Promise<{ id: string }>);
      const precise = await post({
        name: 'precise',
        schedule: `cron:${slot.getUTCSeconds()} ${slot.getUTCMinutes()} ${slot.getUTCHours()} * * *`,
        function_name: 'noop',
        precise: true,
      });
      const once = await post({
        name: 'once',
        schedule: `at:${slot.toISOString().slice(0, 19)}`,
        function_name: 'noop',
      });
      await new Promise((resolve) => setTimeout(resolve, slot.getTime() - Date.now() + 1500));
      const runs = await sql<
        { job_id: string; scheduled_for: Date; started_at: Date; status: string }[]
      >`
        select job_id, scheduled_for, started_at, status from cron_job_run`;
      for (const id of [precise.id, once.id]) {
        const own = runs.filter((run) => run.job_id === id);
        expect(own).toHaveLength(1);
        expect(own[0]!.status).toBe('success');
        expect(own[0]!.scheduled_for).toEqual(slot);
        expect(Math.abs(own[0]!.started_at.getTime() - slot.getTime())).toBeLessThan(1000);
      }
      const [after] = await sql`select is_active, next_run from cron_job where id = ${once.id}`;
      expect(after).toEqual({ is_active: false, next_run: null });
    } finally {
      local.close();
      await server.close();
    }
  });
});
