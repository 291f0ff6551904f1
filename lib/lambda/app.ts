import * as z from 'zod/mini';
import '../zod-messages';
import type { AppContext } from '../app-context';
import { parseAppRole } from '../app-role';
import { connectFromEnvironment } from '../aws/database';
import { createSchedulerTriggers, type SchedulerTriggerConfig } from '../aws/scheduler-triggers';
import { DEFAULT_RUN_RETENTION_DAYS } from '../engine/retention';
import { createAppRegistry } from '../executors/app-registry';
import { DEFAULT_JWT_IDENTITY, type JwtIdentityConfig } from '../identity/aws-authorizer';
import { createLogger, logLevels } from '../logger';
import type { DispatchOptions } from '../engine/dispatch-policy';
import type { TriggerPort } from '../engine/triggers';
import type { RunQueue } from '../engine/run-queue';
import { createSqsRunQueue } from '../aws/sqs-run-queue';

const integer = (min: number, max: number) =>
  z.coerce.number().check(z.int(), z.gte(min), z.lte(max));
const nonEmpty = () => z.string().check(z.minLength(1));

// zod/mini rather than zod: this module is in every function's bundle (see lib/zod-messages.ts).
const lambdaEnvironment = z.object({
  LOG_LEVEL: z._default(z.enum(logLevels), 'info'),
  SWEEP_INTERVAL_SECONDS: z._default(integer(60, 86_400), 300),
  SWEEP_CONCURRENCY: z._default(integer(1, 64), 4),
  RUN_RETENTION_DAYS: z._default(integer(1, 36_500), DEFAULT_RUN_RETENTION_DAYS),
  SCHEDULER_GROUP_NAME: z.optional(nonEmpty()),
  RUN_JOB_FUNCTION_ARN: z.optional(nonEmpty()),
  SCHEDULER_ROLE_ARN: z.optional(nonEmpty()),
  SCHEDULER_DLQ_ARN: z.optional(nonEmpty()),
  JWT_TENANT_CLAIM: z._default(nonEmpty(), DEFAULT_JWT_IDENTITY.tenantClaim),
  JWT_ADMIN_SCOPE: z._default(nonEmpty(), DEFAULT_JWT_IDENTITY.adminScope),
  /** The worker function's SQS queue: where run-now (and the dispatching sweep) send runs. */
  RUN_QUEUE_URL: z.optional(z.url()),
  /**
   * When the scheduled sweep hands runs to the worker function: `overflow` (what would not finish
   * within one sweep interval), `always`, or `never` (the sweep runs everything itself).
   */
  DISPATCH: z._default(z.enum(['overflow', 'always', 'never']), 'overflow'),
  DB_APP_ROLE: z.optional(z.string()),
});

const settings = z.parse(lambdaEnvironment, process.env);

/** Run history older than this is removed after each scheduled sweep (contract section 2). */
export const runRetentionDays = settings.RUN_RETENTION_DAYS;

/** The role `migrate` creates and grants (lib/app-role.ts); null: roles are left alone. */
export const appRole = parseAppRole(settings.DB_APP_ROLE);

/** Module-level singletons: built once per cold start and reused by every invocation. */
export const log = createLogger(settings.LOG_LEVEL);

/** How the API functions read a JWT caller (the stack's jwtTenantClaim and jwtAdminScope). */
export const jwtIdentity: JwtIdentityConfig = {
  tenantClaim: settings.JWT_TENANT_CLAIM,
  adminScope: settings.JWT_ADMIN_SCOPE,
};

export const app: AppContext = {
  sql: connectFromEnvironment(process.env, { max: 2 }),
  registry: createAppRegistry(),
  log,
  triggers: schedulerTriggers(),
  runQueue: sqsRunQueue(),
  settings: {
    sweepIntervalSeconds: settings.SWEEP_INTERVAL_SECONDS,
    sweepConcurrency: settings.SWEEP_CONCURRENCY,
  },
};

/**
 * How the scheduled sweep dispatches (DISPATCH): never inline work beyond one sweep interval, so
 * the next tick's jobs do not wait behind this one's. Undefined: the sweep runs everything.
 */
export const sweepDispatch: DispatchOptions | undefined =
  settings.RUN_QUEUE_URL && settings.DISPATCH !== 'never'
    ? {
        queue: app.runQueue!,
        when: settings.DISPATCH,
        inlineSeconds: settings.SWEEP_INTERVAL_SECONDS,
      }
    : undefined;

/**
 * EventBridge Scheduler, where the stack configured it. The SDK client is loaded on first use so
 * functions that never touch a trigger do not pay for it at cold start.
 */
function schedulerTriggers(): TriggerPort | undefined {
  const { SCHEDULER_GROUP_NAME, RUN_JOB_FUNCTION_ARN, SCHEDULER_ROLE_ARN, SCHEDULER_DLQ_ARN } =
    settings;
  if (!SCHEDULER_GROUP_NAME || !RUN_JOB_FUNCTION_ARN || !SCHEDULER_ROLE_ARN || !SCHEDULER_DLQ_ARN) {
    return undefined;
  }
  const config: SchedulerTriggerConfig = {
    groupName: SCHEDULER_GROUP_NAME,
    targetArn: RUN_JOB_FUNCTION_ARN,
    roleArn: SCHEDULER_ROLE_ARN,
    deadLetterQueueArn: SCHEDULER_DLQ_ARN,
  };
  let port: Promise<TriggerPort> | undefined;
  const load = () =>
    (port ??= import('@aws-sdk/client-scheduler').then(({ SchedulerClient }) =>
      createSchedulerTriggers(new SchedulerClient({}), config),
    ));
  return {
    arm: async (request) => (await load()).arm(request),
    disarm: async (jobId) => (await load()).disarm(jobId),
  };
}

/**
 * The worker function's queue. A run never executes in the function that queued it (an API
 * function answers within 29 s and is frozen afterwards), so without RUN_QUEUE_URL queuing fails
 * with a clear error instead. The SQS client is loaded on first use, as the Scheduler one is.
 */
function sqsRunQueue(): RunQueue {
  const queueUrl = settings.RUN_QUEUE_URL;
  if (!queueUrl) {
    return {
      send: () => Promise.reject(new Error('RUN_QUEUE_URL is not set: no worker queue to send to')),
    };
  }
  let queue: Promise<RunQueue> | undefined;
  const load = () =>
    (queue ??= import('@aws-sdk/client-sqs').then(({ SQSClient }) =>
      createSqsRunQueue(new SQSClient({}), queueUrl),
    ));
  return { send: async (runIds) => (await load()).send(runIds) };
}
