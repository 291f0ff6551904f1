import * as z from 'zod/mini';
import postgres from 'postgres';
import type { Sql } from '../db';
import { SchemaDetailError } from '../errors';
import { executorConfig } from './metadata';
import type { ExecutorRegistry } from '../executors/registry';
import type { Log } from '../logger';
import { readJobSecret } from '../job-secrets';
import { trimmedStack } from './failure-log';
import type { RunLogWriter } from '../run-log/writer';

export type FinishedStatus = 'success' | 'error' | 'timeout';

export interface RunnableJob {
  id: string;
  name: string;
  tenant_id: string | null;
  function_name: string;
  metadata: Record<string, unknown>;
  timeout_seconds: number;
  /** 1 for a slot's first run, 2, 3, … for its retries. */
  attempt: number;
}

export interface RunOutcome {
  status: FinishedStatus;
  result: unknown;
  error: string | null;
  duration_ms: number;
  finished_at: Date;
  /** A thrown error's trimmed stack, for the failed-run log line only (never stored or returned). */
  stack?: string | undefined;
  /**
   * The full message when `error` is its public form (runFailureMessage), for the failed-run log
   * line only: it names tables and columns, which tenant callers must not see.
   */
  detail?: string | undefined;
}

export interface ExecuteDeps {
  sql: Sql;
  registry: ExecutorRegistry;
  log: Log;
  /** Where executors' log lines are kept with their runs; absent: they only go to `log`. */
  runLog?: RunLogWriter | undefined;
}

const MAX_ERROR_LENGTH = 2000;
const TIMED_OUT = Symbol('timed out');

/**
 * Runs one job's executor under its timeout and turns whatever happens (a result, a thrown
 * Error, a rejected non-Error, a hang) into an outcome. Never throws. On timeout the signal is
 * aborted and the outcome is recorded at once; an executor that ignores the signal keeps running
 * detached, but nothing waits for it.
 */
export async function executeJob(
  job: RunnableJob,
  deps: ExecuteDeps,
  runId?: string,
): Promise<RunOutcome> {
  const started = performance.now();
  const executor = deps.registry.get(job.function_name);
  if (!executor) {
    return finished(started, 'error', null, `unknown executor "${job.function_name}"`);
  }
  const config = z.safeParse(executor.configSchema, executorConfig(job.metadata));
  if (!config.success) {
    const problems = config.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    return finished(started, 'error', null, `invalid config: ${problems.join('; ')}`);
  }

  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => {
      resolve(TIMED_OUT);
      controller.abort(new Error(`timed out after ${job.timeout_seconds} s`));
    }, job.timeout_seconds * 1000);
  });
  const processLog = withFields(deps.log, {
    job_id: job.id,
    job_name: job.name,
    attempt: job.attempt,
  });
  const log =
    deps.runLog && runId !== undefined ? deps.runLog.forRun(runId, processLog) : processLog;
  try {
    const result = await Promise.race([
      executor.run({
        sql: deps.sql,
        config: config.data,
        tenantId: job.tenant_id,
        attempt: job.attempt,
        signal: controller.signal,
        log,
        secret: () => readJobSecret(deps.sql, job.id),
      }),
      timedOut,
    ]);
    if (result === TIMED_OUT) {
      return finished(started, 'timeout', null, `timed out after ${job.timeout_seconds} s`);
    }
    return finished(started, 'success', jsonSafe(result), null);
  } catch (error) {
    // An executor that rejects the moment it is aborted still timed out.
    if (controller.signal.aborted)
      return finished(started, 'timeout', null, `timed out after ${job.timeout_seconds} s`);
    const message = runFailureMessage(error);
    return {
      ...finished(started, 'error', null, message),
      stack: trimmedStack(error),
      ...(message === errorMessage(error) ? {} : { detail: errorMessage(error) }),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** The outcome of a run that began at `started` (performance.now()) and ends now. */
function finished(
  started: number,
  status: FinishedStatus,
  result: unknown,
  error: string | null,
): RunOutcome {
  return {
    status,
    result,
    error: error === null ? null : error.slice(0, MAX_ERROR_LENGTH),
    duration_ms: Math.round(performance.now() - started),
    finished_at: new Date(),
  };
}

// SQLSTATEs an executor's statement commonly fails with, named as PostgreSQL's appendix A does.
const CONDITION_NAMES: Record<string, string> = {
  '22P02': 'invalid_text_representation',
  '23502': 'not_null_violation',
  '23503': 'foreign_key_violation',
  '23505': 'unique_violation',
  '23514': 'check_violation',
  '40001': 'serialization_failure',
  '40P01': 'deadlock_detected',
  '42501': 'insufficient_privilege',
  '42601': 'syntax_error',
  '42703': 'undefined_column',
  '42883': 'undefined_function',
  '42P01': 'undefined_table',
  '53300': 'too_many_connections',
  '55P03': 'lock_not_available',
  '57014': 'query_canceled',
};

/**
 * What a failed run records as its `error` (stored, returned by the API to the job's tenant, and
 * copied into `metadata.last_error`): a database error's SQLSTATE and condition name instead of
 * its message, which names tables, columns and constraints; a SchemaDetailError's public message;
 * any other error's message.
 */
export function runFailureMessage(error: unknown): string {
  if (error instanceof postgres.PostgresError) {
    const name = CONDITION_NAMES[error.code];
    return `database error ${error.code}${name ? ` (${name})` : ''}; details are in the run's log line for operators`;
  }
  if (error instanceof SchemaDetailError) return error.publicMessage;
  return errorMessage(error);
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  try {
    return `non-Error thrown: ${typeof error === 'string' ? error : JSON.stringify(error)}`;
  } catch {
    return `non-Error thrown: ${String(error)}`;
  }
}

/** Results are stored as jsonb: undefined becomes null, and anything JSON cannot hold is described. */
function jsonSafe(value: unknown): unknown {
  // Most executors return nothing, a string or a boolean: no round trip needed for those.
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  try {
    return JSON.parse(JSON.stringify(value)) ?? null;
  } catch (error) {
    return { unserializable_result: errorMessage(error) };
  }
}

export function withFields(log: Log, fields: Record<string, unknown>): Log {
  return new FieldsLog(log, fields);
}

// A class rather than four closures: one is made per run, so its methods live on the prototype.
class FieldsLog implements Log {
  constructor(
    private readonly log: Log,
    private readonly fields: Record<string, unknown>,
  ) {}

  debug(message: string, extra?: Record<string, unknown>): void {
    this.log.debug(message, { ...this.fields, ...extra });
  }

  info(message: string, extra?: Record<string, unknown>): void {
    this.log.info(message, { ...this.fields, ...extra });
  }

  warn(message: string, extra?: Record<string, unknown>): void {
    this.log.warn(message, { ...this.fields, ...extra });
  }

  error(message: string, extra?: Record<string, unknown>): void {
    this.log.error(message, { ...this.fields, ...extra });
  }
}
