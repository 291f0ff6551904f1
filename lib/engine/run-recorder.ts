import { retryTransient, type Sql } from '../db';
import { finishRuns, renewLeases, type FinishedRun } from './run-state';
import type { RunOutcome } from './execute';
import type { Log } from '../logger';

export interface RecorderOptions {
  /** How long a `running` run stays claimed without a heartbeat before a sweep may call it lost. */
  leaseSeconds: number;
  /** Outcomes are written in batches of up to this many rows... */
  flushSize: number;
  /** ...at the latest this long after the first of them finished, when no write is under way. */
  flushDelayMs: number;
  /**
   * Outcome writes under way at once, each on its own pooled connection: with many runs finishing
   * together, more than one keeps the database busy on several cores.
   */
  writers: number;
}

export const defaultRecorderOptions: RecorderOptions = {
  leaseSeconds: 60,
  flushSize: 1000,
  flushDelayMs: 10,
  writers: 1,
};

/**
 * Owns the `running` run rows of one process: renews their lease while they are in flight and
 * writes their outcomes in batches (finishRuns in run-state.ts: one statement finishes the runs and
 * updates their jobs). An outcome is written only while its run is still `running`: a run another
 * sweep has already declared lost keeps that verdict.
 */
export class RunRecorder {
  private readonly inFlight = new Set<string>();
  private pending: FinishedRun[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly writers = new Set<Promise<void>>();
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
    // Only what finishRuns writes: the log-only fields (stack, detail) are not kept.
    this.pending.push({
      run_id: runId,
      status: outcome.status,
      finished_at: outcome.finished_at,
      duration_ms: outcome.duration_ms,
      result: outcome.result,
      error: outcome.error,
    });
    if (this.pending.length >= this.options.flushSize) this.startWriting();
    else this.flushTimer ??= setTimeout(() => this.startWriting(), this.options.flushDelayMs);
  }

  /** Writes everything recorded so far; rejects if any write failed. */
  async flush(): Promise<void> {
    this.startWriting();
    while (this.writers.size > 0) await Promise.all(this.writers);
    if (this.failure) throw this.failure;
  }

  /**
   * Up to `writers` writers at a time, and each keeps writing while outcomes are pending: what
   * finishes during a write goes into the next one (group commit), so batches grow with the rate
   * of outcomes and no outcome waits for a timer while a writer is busy. A new writer starts only
   * when a whole batch is waiting or none is running. Writers take disjoint batches; finishRuns is
   * idempotent, and a deadlock between two of them (two runs of one job, each in another batch)
   * is retried. A failed write is kept in `failure` and thrown by the next flush() or close().
   */
  private startWriting(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    while (
      this.pending.length > 0 &&
      this.writers.size < this.options.writers &&
      (this.writers.size === 0 || this.pending.length >= this.options.flushSize)
    ) {
      const writer: Promise<void> = (async () => {
        while (this.pending.length > 0) {
          const batch = this.pending.splice(0, this.options.flushSize);
          await this.beforeWrite()
            .then(() => this.write(batch))
            .catch((error: unknown) => {
              this.failure ??= error;
            });
        }
      })().finally(() => {
        this.writers.delete(writer);
      });
      this.writers.add(writer);
    }
  }

  /** Flushes and stops the heartbeat. */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.flush();
  }

  private async write(batch: FinishedRun[]): Promise<void> {
    // Idempotent: a retried write finds its runs no longer `running` and changes nothing twice.
    // Every pooled connection may have been cut at once (a failover): one attempt per
    // connection the sweep holds, and one more on a fresh one.
    const written = await retryTransient(() => finishRuns(this.sql, batch), 5);
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
