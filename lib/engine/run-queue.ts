/**
 * Where dispatched runs wait for a worker: SQS in AWS (lib/aws/sqs-run-queue.ts), a PostgreSQL
 * table locally with WORKERS=N (lib/local/pg-run-queue.ts), or this process itself
 * (lib/engine/in-process-run-queue.ts). A message is just a run id: the run row, created
 * `running` and dispatched before the message is sent, is the source of truth, and the worker's
 * pick-up (pickUpRuns) makes delivery at-least-once safe.
 */
export interface RunQueue {
  /** Hands the runs to workers; rejects if any could not be queued. */
  send(runIds: string[]): Promise<void>;
}

/** The longest a job may run (its `timeout_seconds`), within a Lambda function's 15 minutes. */
export const MAX_JOB_TIMEOUT_SECONDS = 840;

/** The worker function's timeout: the longest job plus time to pick it up and record it. */
export const WORKER_TIMEOUT_SECONDS = MAX_JOB_TIMEOUT_SECONDS + 60;

/** Deliveries of one run message (each may hold it a worker timeout) before it is dead-lettered. */
export const MAX_DELIVERIES = 3;

/**
 * How long a dispatched run may wait for a worker before a sweep declares it lost: every delivery
 * of its message (each hidden for a worker timeout) and one more timeout of waiting in line. The
 * queue keeps a message no longer than this (a later delivery would find its run lost already).
 */
export const QUEUED_LEASE_SECONDS = WORKER_TIMEOUT_SECONDS * (MAX_DELIVERIES + 1);
