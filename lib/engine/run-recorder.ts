import { retryTransient, type Sql } from '../db';
import { finishRuns, renewLeases, type FinishedRun } from './run-state';
import type { RunOutcome } from './execute';
import type { Log } from '../logger';

export interface RecorderOptions {
  /** How long a `running` run stays claimed without a heartbeat before a sweep may call it lost. */
  leaseSeconds: number;
  /** Outcomes are written in batches of up to this many rows... */
  flushSize: number;
  /** ...or after this long, so a finished run is visible soon even in a slow sweep. */
  flushDelayMs: number;
}

export const defaultRecorderOptions: RecorderOptions = {
  leaseSeconds: 60,
  flushSize: 1000,
  flushDelayMs: 200,
};

type PendingOutcome = RunOutcome & FinishedRun;

/**
 * Owns the `running` run rows of one process: renews their lease while they are in flight and
 * writes their outcomes in batches (finishRuns in run-state.ts: one statement finishes the runs and
 * updates their jobs). An outcome is written only while its run is still `running`: a run another
 * sweep has already declared lost keeps that verdict.
 */
export class RunRecorder {
  private readonly inFlight = new Set<string>();
  private pending: PendingOutcome[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly heartbeat: NodeJS.Timeout;
  private failure: unknown;

  constructor(
    private readonly sql: Sql,
    private readonly log: Log,
    private readonly options: RecorderOptions = defaultRecorderOptions,
    /** Runs before each outcome write: a run's log lines are written before it shows finished. */
    private readonly beforeWrite: () => Promise<void> = async () => {},
  ) {
    this.heartbeat = setInterval(() => void this.renewLeases(), (options.leaseSeconds * 1000) / 3);
    this.heartbeat.unref();
  }

  track(runIds: Iterable<string>): void {
    for (const id of runIds) this.inFlight.add(id);
  }

  untrack(runIds: Iterable<string>): void {
    for (const id of runIds) this.inFlight.delete(id);
  }

  record(runId: string, outcome: RunOutcome): void {
    this.pending.push({ ...outcome, run_id: runId });
    if (this.pending.length >= this.options.flushSize) this.flushInBackground();
    else this.flushTimer ??= setTimeout(() => this.flushInBackground(), this.options.flushDelayMs);
  }

  /** Writes everything recorded so far; rejects if any write failed. */
  async flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length > 0) {
      this.writing = this.writing.then(() =>
        this.beforeWrite()
          .then(() => this.write(batch))
          .catch((error: unknown) => {
            this.failure ??= error;
          }),
      );
    }
    await this.writing;
    if (this.failure) throw this.failure;
  }

  // A failed write is kept in `failure` and thrown by the next flush() or close().
  private flushInBackground(): void {
    this.flush().catch(() => {});
  }

  /** Flushes and stops the heartbeat. */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.flush();
  }

  private async write(batch: PendingOutcome[]): Promise<void> {
    // Idempotent: a retried write finds its runs no longer `running` and changes nothing twice.
    const written = await retryTransient(() => finishRuns(this.sql, batch));
    this.untrack(batch.map((outcome) => outcome.run_id));
    if (written.length < batch.length) {
      const kept = new Set(written.map((row) => row.id));
      const late = batch.filter((outcome) => !kept.has(outcome.run_id)).map((o) => o.run_id);
      this.log.warn('runs finished after being declared lost; their outcome was not recorded', {
        run_ids: late,
      });
    }
  }

  private async renewLeases(): Promise<void> {
    if (this.inFlight.size === 0) return;
    const ids = [...this.inFlight];
    try {
      await renewLeases(this.sql, ids, new Date(Date.now() + this.options.leaseSeconds * 1000));
    } catch (error) {
      this.log.warn('could not renew run leases', { error: (error as Error).message });
    }
  }
}
