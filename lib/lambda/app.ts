import * as z from 'zod';
import type { AppContext } from '../app-context';
import { connectFromEnvironment } from '../aws/database';
import { createSchedulerTriggers, type SchedulerTriggerConfig } from '../aws/scheduler-triggers';
import { DEFAULT_RUN_RETENTION_DAYS } from '../engine/retention';
import { createAppRegistry } from '../executors/app-registry';
import { DEFAULT_JWT_IDENTITY, type JwtIdentityConfig } from '../identity/aws-authorizer';
import { createLogger, logLevels } from '../logger';
import type { TriggerPort } from '../engine/triggers';

const lambdaEnvironment = z.object({
  LOG_LEVEL: z.enum(logLevels).default('info'),
  SWEEP_INTERVAL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(300),
  SWEEP_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  RUN_RETENTION_DAYS: z.coerce
    .number()
    .int()
    .min(1)
    .max(36_500)
    .default(DEFAULT_RUN_RETENTION_DAYS),
  SCHEDULER_GROUP_NAME: z.string().min(1).optional(),
  RUN_JOB_FUNCTION_ARN: z.string().min(1).optional(),
  SCHEDULER_ROLE_ARN: z.string().min(1).optional(),
  SCHEDULER_DLQ_ARN: z.string().min(1).optional(),
  JWT_TENANT_CLAIM: z.string().min(1).default(DEFAULT_JWT_IDENTITY.tenantClaim),
  JWT_ADMIN_SCOPE: z.string().min(1).default(DEFAULT_JWT_IDENTITY.adminScope),
});

const settings = lambdaEnvironment.parse(process.env);

/** Run history older than this is removed after each scheduled sweep (contract section 2). */
export const runRetentionDays = settings.RUN_RETENTION_DAYS;

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
  settings: {
    sweepIntervalSeconds: settings.SWEEP_INTERVAL_SECONDS,
    sweepConcurrency: settings.SWEEP_CONCURRENCY,
  },
};

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
