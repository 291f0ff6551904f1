import { z } from 'zod';
import type { AppContext } from '../app-context';
import { connectFromEnvironment } from '../aws/database';
import { createBuiltInRegistry } from '../executors/built-ins';
import { createLogger, logLevels } from '../logger';

const lambdaEnvironment = z.object({
  LOG_LEVEL: z.enum(logLevels).default('info'),
  SWEEP_INTERVAL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(300),
  SWEEP_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
});

const settings = lambdaEnvironment.parse(process.env);

/** Module-level singletons: built once per cold start and reused by every invocation. */
export const log = createLogger(settings.LOG_LEVEL);

export const app: AppContext = {
  sql: connectFromEnvironment(process.env, { max: 2 }),
  registry: createBuiltInRegistry(),
  log,
  settings: {
    sweepIntervalSeconds: settings.SWEEP_INTERVAL_SECONDS,
    sweepConcurrency: settings.SWEEP_CONCURRENCY,
  },
};
