import type * as z from 'zod/mini';
import type { Sql } from '../db';
import type { Log } from '../logger';
import '../zod-messages';

/** What an executor sees of the world: nothing of HTTP, Lambda or the engine's tables. */
export interface ExecutorContext<Config> {
  sql: Sql;
  config: Config;
  /** The job's tenant; null for a global job. Executors confine their work to it when set. */
  tenantId: string | null;
  /** Which attempt at its slot this run is: 1, then 2, 3, … for retries (the job's `retry`). */
  attempt: number;
  /** Aborted when the run reaches its timeout_seconds; long work should check it. */
  signal: AbortSignal;
  log: Log;
  /**
   * The job's signing secret (table `cron_job_secret`), read when asked for; null when the job has
   * none. Executors use it and never log or return it.
   */
  secret(): Promise<string | null>;
}

/**
 * A config schema, written with `zod` or with `zod/mini` (the built-ins use mini: a third of
 * zod's size in every Lambda bundle). It is only used through zod/mini's functions (`z.safeParse`,
 * `z.toJSONSchema`), which take either kind.
 */
export type ConfigSchema = z.core.$ZodType;

export interface ExecutorDefinition<Schema extends ConfigSchema = ConfigSchema> {
  name: string;
  description: string;
  /** Validates a job's metadata config and fills its defaults. Engine-owned keys are stripped first. */
  configSchema: Schema;
  /**
   * CRM tables the executor works on with its default config. A default job whose tables are
   * missing is seeded inactive, and health lists them, so a new database stays quiet.
   */
  requiresTables?: readonly string[];
  /** The job service gives each job of this executor a signing secret (generated unless given). */
  needsSecret?: boolean;
  /** Returns a JSON-serializable result, stored on the run. */
  run(context: ExecutorContext<z.output<Schema>>): Promise<unknown>;
}

/** Keeps each executor's config type tied to its schema at the definition site. */
export function defineExecutor<Schema extends ConfigSchema>(
  definition: ExecutorDefinition<Schema>,
): ExecutorDefinition<Schema> {
  return definition;
}
