import type { Log } from '../logger';
import type { RunOutcome } from './execute';

export interface FailedRunFacts {
  id: string;
  name: string;
  tenant_id: string | null;
  run_id: string;
  /** The slot; null for a manual run. */
  scheduled_for: Date | null;
  attempt?: number;
}

/**
 * The one error-level line a failed run writes (status error or timeout): what the runbook
 * searches for by job_id. The log passed in carries the request id where there is one (an API
 * request or a Lambda invocation). The stack stays in the logs; the API never shows it.
 */
export function logFailedRun(log: Log, run: FailedRunFacts, outcome: RunOutcome): void {
  if (outcome.status === 'success') return;
  log.error('run failed', {
    job_id: run.id,
    job_name: run.name,
    tenant_id: run.tenant_id,
    run_id: run.run_id,
    scheduled_for: run.scheduled_for?.toISOString() ?? null,
    attempt: run.attempt ?? 1,
    status: outcome.status,
    error: outcome.error,
    ...(outcome.detail ? { error_detail: outcome.detail } : {}),
    ...(outcome.stack ? { stack: outcome.stack } : {}),
    duration_ms: outcome.duration_ms,
  });
}

const STACK_LINES = 8;
const STACK_CHARACTERS = 1500;

/** The first frames of an error's stack, without node_modules internals past the first few. */
export function trimmedStack(error: unknown): string | undefined {
  if (!(error instanceof Error) || typeof error.stack !== 'string') return undefined;
  return error.stack.split('\n').slice(0, STACK_LINES).join('\n').slice(0, STACK_CHARACTERS);
}
