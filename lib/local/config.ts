import * as z from 'zod';
import { parseLocalTokens, type LocalTokens } from '../identity/local-tokens';
import { DEFAULT_RUN_RETENTION_DAYS } from '../engine/retention';
import { logLevels } from '../logger';

const integer = (min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min).max(max))
    .optional()
    .transform((value) => value ?? fallback);

const localEnvironment = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// connection string')
    .optional(),
  PORT: integer(0, 65535, 3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  TICK_INTERVAL_SECONDS: integer(0, 86_400, 300),
  RUN_RETENTION_DAYS: integer(1, 36_500, DEFAULT_RUN_RETENTION_DAYS),
  CRON_API_TOKEN: z.string().optional(),
  CRON_API_TOKENS: z.string().optional(),
  LOG_LEVEL: z.enum(logLevels).default('info'),
  WORKERS: integer(0, 64, 0),
});

export type LocalConfig = {
  databaseUrl: string | undefined;
  port: number;
  host: string;
  tickIntervalSeconds: number;
  runRetentionDays: number;
  /** CRON_API_TOKENS and CRON_API_TOKEN; empty: the local server is open. */
  tokens: LocalTokens;
  logLevel: (typeof logLevels)[number];
  /** Worker processes fed by the local run queue; 0: the sweep runs jobs itself. */
  workers: number;
};

/** Reads the local stack's environment (contract section 2) once; throws naming each bad variable. */
export function parseLocalConfig(env: NodeJS.ProcessEnv): LocalConfig {
  const blankless = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = localEnvironment.safeParse(blankless);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`);
    throw new Error(`invalid environment: ${problems.join('; ')}`);
  }
  const value = parsed.data;
  let tokens: LocalTokens;
  try {
    tokens = parseLocalTokens(value.CRON_API_TOKENS, value.CRON_API_TOKEN);
  } catch (error) {
    throw new Error(`invalid environment: ${(error as Error).message}`, { cause: error });
  }
  return {
    databaseUrl: value.DATABASE_URL,
    port: value.PORT,
    host: value.HOST,
    tickIntervalSeconds: value.TICK_INTERVAL_SECONDS,
    runRetentionDays: value.RUN_RETENTION_DAYS,
    tokens,
    logLevel: value.LOG_LEVEL,
    workers: value.WORKERS,
  };
}

/** The connection string with its password hidden, for printing. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparseable)';
  }
}
