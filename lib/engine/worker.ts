import type { Sql } from '../db';
import type { ExecutorRegistry } from '../executors/registry';
import type { Log } from '../logger';
import { RunLogWriter } from '../run-log/writer';
import { executeJob } from './execute';
import { logFailedRun } from './failure-log';
import { defaultRecorderOptions, RunRecorder, type RecorderOptions } from './run-recorder';
import { pickUpRuns, type PickedRun } from './run-state';

export interface WorkerDeps {
  sql: Sql;
  registry: ExecutorRegistry;
  log: Log;
}

export interface WorkerCounts {
  succeeded: number;
  /** Failed runs, timed-out ones included. */
  failed: number;
  timed_out: number;
}

/**
 * Runs dispatched runs in this process through the engine's own run path: the same executor
 * context, timeout, run log, lease renewal and outcome writes as the sweep, so a dispatched run
 * keeps every guarantee of an inline one. Used by the SQS worker function, the local worker
 * processes and the in-process queue. One instance per process; close() writes what is pending.
 */
export class RunWorker {
  private readonly runLog: RunLogWriter;
  private readonly recorder: RunRecorder;
  readonly counts: WorkerCounts = { succeeded: 0, failed: 0, timed_out: 0 };

  constructor(
    private readonly deps: WorkerDeps,
    private readonly options: RecorderOptions = defaultRecorderOptions,
  ) {
    this.runLog = new RunLogWriter(deps.sql, deps.log);
    this.recorder = new RunRecorder(deps.sql, deps.log, options, () => this.runLog.flush());
  }

  /** Picks up these runs (see pickUpRuns) and runs each one picked; the rest were taken already. */
  async pickUpAndRun(runIds: string[]): Promise<void> {
    const picked = await pickUpRuns(this.deps.sql, runIds, this.pickUpTimes());
    await Promise.all(picked.map((run) => this.run(run)));
  }

  /** A run picked up now starts now, with a lease until the deadline; renewed while it runs. */
  pickUpTimes(): { now: Date; deadline: Date } {
    const now = new Date();
    return { now, deadline: new Date(now.getTime() + this.options.leaseSeconds * 1000) };
  }

  /** Runs one picked-up run and records its outcome (written in the recorder's next batch). */
  async run(run: PickedRun): Promise<void> {
    this.recorder.track([run.run_id]);
    const outcome = await executeJob(
      run,
      { sql: this.deps.sql, registry: this.deps.registry, log: this.deps.log, runLog: this.runLog },
      run.run_id,
    );
    logFailedRun(this.deps.log, run, outcome);
    this.recorder.record(run.run_id, outcome);
    if (outcome.status === 'success') this.counts.succeeded += 1;
    else this.counts.failed += 1;
    if (outcome.status === 'timeout') this.counts.timed_out += 1;
  }

  /** Writes every outcome recorded so far; rejects if a write failed. */
  flush(): Promise<void> {
    return this.recorder.flush();
  }

  async close(): Promise<void> {
    await this.recorder.close();
    await this.runLog.close();
  }
}
