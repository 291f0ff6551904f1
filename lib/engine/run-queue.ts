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

/** How long a dispatched run may wait in the queue before a sweep declares it lost. */
export const QUEUED_LEASE_SECONDS = 900;
