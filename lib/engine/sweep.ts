import { claimDueJobs, fairDueOrder, type ClaimedRun } from './claim';
import { retryTransient, type Sql } from '../db';
import { errorMessage, executeJob, type RunOutcome } from './execute';
import type { ExecutorRegistry } from '../executors/registry';
import type { Log } from '../logger';
import { LOST_RUN_ERROR, markLostRuns, releaseRuns } from './run-state';
import { QUEUED_LEASE_SECONDS, type RunQueue } from './run-queue';
import { DispatchPolicy, type DispatchOptions } from './dispatch-policy';
import { logFailedRun } from './failure-log';
import { resumeDuePauses } from './pause';
import { fireDependencies } from './dependencies';
import { syncTriggers, type TriggerPort, type TriggerSyncResult } from './triggers';
import { defaultRecorderOptions, RunRecorder, type RecorderOptions } from './run-recorder';
import { RunLogWriter } from '../run-log/writer';
import { recordLastSweep } from '../system/last-sweep';
import { claimBackfillSlots, hasQueuedBackfill } from './backfill';

export interface SweepDeps {
  sql: Sql;
  registry: ExecutorRegistry;
  log: Log;
  /** Exact-time triggers to keep in step after the sweep; absent where there are none. */
  triggers?: TriggerPort | undefined;
}

export interface SweepOptions extends Partial<RecorderOptions> {
  /** Jobs run at once. */
  concurrency?: number;
  /**
   * Most jobs claimed per transaction. The first claim takes `firstClaimSize` jobs, so the first
   * job starts at once; each later claim takes four times as many as the one before, up to this.
   */
  claimBatchSize?: number;
  /** Jobs the first claim takes; default `concurrency`. */
  firstClaimSize?: number;
  /** The sweep starts no job whose timeout would carry it past this instant (Lambda: its remaining time). */
  deadline?: Date;
  /** The clock; tests move it. */
  now?: () => Date;
  /**
   * Hand claimed runs to a run queue instead of running them here (the dispatcher), always or
   * when they would not finish in the inline budget (see DispatchPolicy): workers run them
   * through the same run path. Such runs wait `running`, with a lease of QUEUED_LEASE_SECONDS,
   * until a worker picks them up.
   */
  dispatch?: DispatchOptions | undefined;
  /** Run only this job's slot: what an exact-time trigger asks for. A no-op if it already ran. */
  only?: { jobId: string; slot: Date };
}

export interface SweepResult {
  job_id: string;
  name: string;
  status: 'success' | 'error' | 'timeout' | 'skipped';
  duration_ms: number;
  result?: unknown;
  error?: string;
}

export interface SweepSummary {
  executed: number;
  /** Runs handed to the run queue (dispatch mode); their outcomes are the workers'. */
  dispatched: number;
  succeeded: number;
  failed: number;
  skipped: number;
  timed_out: number;
  lost: number;
  /** Due jobs left for the next sweep because they could not finish before the deadline. */
  deferred: number;
  duration_ms: number;
  /** Largest delay from a run's slot (a retry: the end of its backoff) to its start. */
  max_lag_ms: number;
  results: SweepResult[];
  /** Exact-time triggers brought in step (only where triggers are configured). */
  triggers?: TriggerSyncResult;
}

// Time kept back from the deadline for recording outcomes after the last job.
const RECORDING_MARGIN_MS = 2_000;
// The fair order is read for this many claim batches at a time.
const FAIR_ORDER_BATCHES = 10;

/**
 * One sweep: declares lost runs, resumes jobs whose pause has ended, makes due the `after:` jobs
 * whose upstream jobs succeeded, then claims due jobs in batches and runs them `concurrency` at a
 * time until none is due. Safe to run in several processes at once: claims never overlap (see
 * claimDueJobs), so every slot of every job runs at most once. A failing, throwing or hanging
 * executor only produces its own outcome. Throws only when the database fails, after giving
 * back what it claimed but did not start.
 */
export async function sweep(deps: SweepDeps, options: SweepOptions = {}): Promise<SweepSummary> {
  const now = options.now ?? (() => new Date());
  const concurrency = options.concurrency ?? 4;
  const claimBatchSize = options.claimBatchSize ?? 1000;
  const recorderOptions = {
    ...defaultRecorderOptions,
    writers: defaultWriters(deps.sql, concurrency),
    ...pickRecorderOptions(options),
  };
  const started = performance.now();
  const summary: SweepSummary = {
    executed: 0,
    dispatched: 0,
    succeeded: 0,
    failed: 0,
    skipped: 0,
    timed_out: 0,
    lost: 0,
    deferred: 0,
    duration_ms: 0,
    max_lag_ms: 0,
    results: [],
  };
  const secondsLeft = () =>
    options.deadline
      ? Math.floor((options.deadline.getTime() - RECORDING_MARGIN_MS - now().getTime()) / 1000)
      : Number.POSITIVE_INFINITY;

  // Whether backfill slots are queued (POST /jobs/{id}/backfill): the sweep runs them last.
  let backfilling: boolean;
  try {
    // Independent of each other, so all go at once (one round trip before the first claim);
    // a job touched by several gets what the statements give in any order. fireDependencies makes
    // due the `after:` jobs whose upstream jobs succeeded since the last sweep.
    const [lost, , , queuedBackfill] = await Promise.all([
      markLostRuns(deps.sql, now()),
      options.only ? undefined : resumeDuePauses(deps.sql, now()),
      options.only ? undefined : fireDependencies(deps.sql),
      options.only ? false : hasQueuedBackfill(deps.sql),
    ]);
    backfilling = queuedBackfill;
    for (const run of lost) {
      deps.log.error('run failed', { ...run, status: 'lost', error: LOST_RUN_ERROR });
    }
    summary.lost = lost.length;
  } catch (error) {
    deps.log.error('sweep failed', { error: errorMessage(error), ...summary, results: undefined });
    throw error;
  }

  const runLog = new RunLogWriter(deps.sql, deps.log);
  const executeDeps = { ...deps, runLog };
  const recorder = new RunRecorder(deps.sql, deps.log, recorderOptions, () => runLog.flush());
  const queue: ClaimedRun[] = [];
  const deferred: string[] = [];
  const dispatchPolicy =
    options.dispatch && new DispatchPolicy(options.dispatch, concurrency, now().getTime());
  // Due job ids in fair order (see fairDueOrder), claimed slice by slice.
  let order: string[] = [];
  let orderRead = false;
  let firstClaimed = false;
  // Whether the last claim got all it asked for: only then is more work likely waiting.
  let lastClaimFull = false;
  let claimedFromOrder = 0;
  // The first claim is small so the first job starts at once; later ones grow to claimBatchSize.
  let claimSize = Math.max(1, Math.min(options.firstClaimSize ?? concurrency, claimBatchSize));
  let exhausted = false;
  const claimers = options.only ? 1 : recorderOptions.writers;
  // Catch-up `all` jobs whose next slot is due already: claimed again once their run is recorded.
  const behind = new Set<string>();
  // A database failure stops further claims; jobs already started still finish and are recorded.
  let failure: unknown;

  // Which jobs the next claim asks for: undefined (the oldest due ones) or a slice of the fair
  // order; 'none' when nothing is left. Called one at a time (takeSlice), since it reads and
  // consumes the shared fair order.
  const nextSlice = async (maxTimeoutSeconds: number): Promise<string[] | undefined | 'none'> => {
    if (options.only || !firstClaimed) {
      // The trigger's slot, or the very first claim: the oldest few due jobs at once, so the
      // first job starts without waiting for the fair order to be read. The fair order rules
      // from the second claim on, so one claim batch is the most any tenant's backlog can delay
      // another tenant's jobs.
      firstClaimed = true;
      return undefined;
    }
    if (order.length === 0) {
      // A whole fair order claimed nothing: what is left is locked by another sweep.
      if (orderRead && claimedFromOrder === 0) return 'none';
      // A read: after a failover its pooled connection may be cut, so it gets a fresh one.
      order = await retryTransient(() =>
        fairDueOrder(deps.sql, {
          now: now(),
          maxTimeoutSeconds,
          limit: claimBatchSize * FAIR_ORDER_BATCHES,
        }),
      );
      orderRead = true;
      claimedFromOrder = 0;
      if (order.length === 0) return 'none';
    }
    return order.splice(0, claimSize);
  };
  let slicing: Promise<unknown> = Promise.resolve();
  const takeSlice = (maxTimeoutSeconds: number) => {
    const slice = slicing.then(() => (exhausted ? 'none' : nextSlice(maxTimeoutSeconds)));
    slicing = slice.catch(() => {});
    return slice;
  };

  const claimOnce = async () => {
    const budget = secondsLeft();
    if (budget < 1) {
      exhausted = true;
      return;
    }
    const maxTimeoutSeconds = Math.min(budget, 2_147_483_647);
    const slice = await takeSlice(maxTimeoutSeconds);
    if (slice === 'none') {
      exhausted = true;
      return;
    }
    const ids = slice;
    const limit = ids?.length ?? claimSize;
    claimSize = Math.min(claimBatchSize, claimSize * 4);
    const toQueue =
      dispatchPolicy?.dispatches(queue.length, limit, budget, now().getTime()) === true;
    const batch = await claimDueJobs(deps.sql, {
      now: now(),
      limit,
      maxTimeoutSeconds,
      leaseSeconds: toQueue ? QUEUED_LEASE_SECONDS : recorderOptions.leaseSeconds,
      only: options.only,
      ids,
      dispatched: toQueue,
    });
    claimedFromOrder += batch.claimed;
    lastClaimFull = batch.claimed === limit;
    if (options.only) exhausted = true;
    for (const slot of batch.skipped) {
      summary.skipped += 1;
      summary.results.push({
        job_id: slot.job_id,
        name: slot.name,
        status: 'skipped',
        duration_ms: 0,
      });
    }
    if (toQueue) {
      await dispatch(options.dispatch!.queue, batch.runnable);
      return;
    }
    dispatchPolicy?.observe(batch.runnable);
    recorder.track(batch.runnable.map((run) => run.run_id));
    for (const run of batch.runnable) if (run.behind) behind.add(run.id);
    queue.push(...batch.runnable);
  };

  // Dispatcher: the runs go to the queue; a run whose schedule cannot be computed is recorded
  // here as an error (there is nothing to run). If sending fails, the runs are withdrawn and
  // their slots are due again.
  const dispatch = async (runQueue: RunQueue, runs: ClaimedRun[]) => {
    const sendable = runs.filter((run) => !run.invalid_schedule);
    queue.push(...runs.filter((run) => run.invalid_schedule));
    const ids = sendable.map((run) => run.run_id);
    try {
      await runQueue.send(ids);
    } catch (error) {
      await releaseRuns(deps.sql, ids, { notPickedUp: true }).catch(() => {});
      throw error;
    }
    summary.dispatched += ids.length;
  };

  // Up to `claimers` claims at a time, each on its own pooled connection and each taking other
  // rows (a slice of the fair order, and `skip locked`). After a full claim the next ones start
  // while that batch still runs (once fewer than half a batch is left), so workers do not wait on
  // the database between batches; at most about `claimers` + 1 batches are claimed but not
  // started, and their leases are renewed meanwhile. After a claim that got less than it asked
  // for, the next waits for an idle worker.
  const claims = new Set<Promise<void>>();
  const refill = (): Promise<void> => {
    while (
      claims.size < claimers &&
      !exhausted &&
      failure === undefined &&
      (claims.size === 0 || lastClaimFull)
    ) {
      const claim: Promise<void> = claimOnce()
        .catch((error: unknown) => void (failure ??= error))
        .finally(() => claims.delete(claim));
      claims.add(claim);
    }
    return claims.size > 0 ? Promise.race(claims) : Promise.resolve();
  };
  const lowWater = () => Math.max(concurrency, claimSize / 2);

  const runOne = async (run: ClaimedRun) => {
    if (run.timeout_seconds > secondsLeft()) {
      deferred.push(run.run_id);
      return;
    }
    const startedAt = now();
    summary.max_lag_ms = Math.max(summary.max_lag_ms, startedAt.getTime() - run.due_at.getTime());
    const outcome: RunOutcome = run.invalid_schedule
      ? {
          status: 'error',
          result: null,
          error: `schedule cannot be computed, job deactivated: ${run.invalid_schedule}`,
          duration_ms: 0,
          finished_at: startedAt,
        }
      : await executeJob(run, executeDeps, run.run_id);
    logFailedRun(deps.log, run, outcome);
    recorder.record(run.run_id, outcome);
    count(summary, run, outcome);
  };

  const worker = async () => {
    while (!failure) {
      const run = queue.shift();
      if (run) {
        if (lastClaimFull && !exhausted && queue.length < lowWater()) void refill();
        await runOne(run);
      } else if (exhausted && claims.size === 0) return;
      // Nothing to run yet: start a claim, or wait for one under way (it may bring work even
      // after another found nothing left).
      else await refill();
    }
  };

  await Promise.all(Array.from({ length: concurrency }, worker));
  // Catch-up rounds: each job behind runs its next slot, one run of a job at a time (its previous
  // outcome is written first, so the claim does not find it busy), until none is behind or the
  // time budget is spent.
  while (behind.size > 0 && !failure && !options.only && secondsLeft() >= 1) {
    while (claims.size > 0) await Promise.all(claims);
    try {
      await recorder.flush();
    } catch (error) {
      failure ??= error;
      break;
    }
    order = [...behind];
    behind.clear();
    orderRead = true;
    claimedFromOrder = 0;
    exhausted = false;
    await Promise.all(Array.from({ length: concurrency }, worker));
  }
  // Backfill rounds (backfill.ts), after the due jobs: each claims every job's oldest queued
  // backfill slot and runs them; their outcomes are written before the next round's claim, so a
  // job runs one backfill slot at a time, oldest first, until none is queued or the time budget is
  // spent (the rest wait for the next sweep).
  while (backfilling && !failure && secondsLeft() >= 1) {
    while (claims.size > 0) await Promise.all(claims);
    let runs: ClaimedRun[];
    try {
      await recorder.flush();
      runs = await claimBackfillSlots(deps.sql, {
        now: now(),
        limit: claimBatchSize,
        maxTimeoutSeconds: Math.min(secondsLeft(), 2_147_483_647),
        leaseSeconds: recorderOptions.leaseSeconds,
      });
    } catch (error) {
      failure ??= error;
      break;
    }
    if (runs.length === 0) break;
    recorder.track(runs.map((run) => run.run_id));
    queue.push(...runs);
    exhausted = true;
    await Promise.all(Array.from({ length: concurrency }, worker));
  }
  // Workers stop at a failure while other claims may still be under way: what those claim is
  // given back below with the rest that never started.
  while (claims.size > 0) await Promise.all(claims);
  const unstarted = [...deferred, ...queue.map((run) => run.run_id)];
  recorder.untrack(unstarted);
  summary.deferred = unstarted.length;
  const [closed, released] = await Promise.allSettled([
    recorder.close().finally(() => runLog.close()),
    releaseRuns(deps.sql, unstarted),
  ]);
  failure ??= [closed, released].find((result) => result.status === 'rejected')?.reason;
  if (failure) {
    deps.log.error('sweep failed', {
      error: errorMessage(failure),
      ...summary,
      results: undefined,
    });
    throw failure;
  }
  if (deps.triggers) {
    summary.triggers = await syncTriggers(deps, options.only ? [options.only.jobId] : undefined);
  }
  summary.duration_ms = Math.round(performance.now() - started);
  if (!options.only) await recordLastSweep(deps.sql, deps.log, summary);
  deps.log.info('sweep finished', { ...summary, results: undefined });
  return summary;
}

function count(summary: SweepSummary, run: ClaimedRun, outcome: RunOutcome) {
  summary.executed += 1;
  if (outcome.status === 'success') summary.succeeded += 1;
  else summary.failed += 1;
  if (outcome.status === 'timeout') summary.timed_out += 1;
  summary.results.push(
    outcome.status === 'success'
      ? {
          job_id: run.id,
          name: run.name,
          status: outcome.status,
          duration_ms: outcome.duration_ms,
          result: outcome.result,
        }
      : {
          job_id: run.id,
          name: run.name,
          status: outcome.status,
          duration_ms: outcome.duration_ms,
          error: outcome.error ?? '',
        },
  );
}

/**
 * Outcome writers for a sweep running `concurrency` jobs at once: one per four jobs, and at least
 * one pooled connection left for claims (a Lambda's pool of 2 gets one writer).
 */
function defaultWriters(sql: Sql, concurrency: number): number {
  const pool = Number.isFinite(sql.options.max) ? sql.options.max : 1;
  return Math.max(1, Math.min(Math.floor(concurrency / 4), pool - 1));
}

function pickRecorderOptions(options: SweepOptions): Partial<RecorderOptions> {
  const picked: Partial<RecorderOptions> = {};
  if (options.leaseSeconds !== undefined) picked.leaseSeconds = options.leaseSeconds;
  if (options.flushSize !== undefined) picked.flushSize = options.flushSize;
  if (options.flushDelayMs !== undefined) picked.flushDelayMs = options.flushDelayMs;
  if (options.writers !== undefined) picked.writers = options.writers;
  return picked;
}
