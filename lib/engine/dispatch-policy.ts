import type { RunQueue } from './run-queue';

/** How a sweep hands claimed runs to workers (see SweepOptions.dispatch). */
export interface DispatchOptions {
  queue: RunQueue;
  /**
   * `always`: every claimed run goes to the queue (the sweep only claims).
   * `overflow`: runs stay in the sweep while the claimed work fits its inline budget; a claim
   * that would not fit goes to the queue, so a small due set costs nothing more.
   */
  when: 'always' | 'overflow';
  /** Seconds of inline work the sweep allows itself; default: all the time it has left. */
  inlineSeconds?: number | undefined;
}

// A job that never ran yet is assumed to take this long.
const UNKNOWN_DURATION_MS = 1_000;

/**
 * Decides, claim by claim, whether the next claim runs here or goes to the queue. The estimate:
 * each job takes what its last run took (`last_duration_ms`, engine metadata), on average over
 * the jobs claimed so far; the work waiting here plus the next claim, spread over `concurrency`,
 * must end within the inline budget. Once a claim has gone to the queue the rest follow, so the
 * jobs already waiting here are not overtaken by ever more inline work.
 */
export class DispatchPolicy {
  private claimedJobs = 0;
  private claimedMs = 0;
  private overflowing = false;

  constructor(
    private readonly options: DispatchOptions,
    private readonly concurrency: number,
    private readonly startedMs: number,
  ) {}

  /** Records the expected durations of jobs claimed to run here. */
  observe(jobs: { metadata: Record<string, unknown> }[]): void {
    for (const job of jobs) {
      const last = job.metadata.last_duration_ms;
      this.claimedJobs += 1;
      this.claimedMs += typeof last === 'number' && last >= 0 ? last : UNKNOWN_DURATION_MS;
    }
  }

  /**
   * Whether a claim of `next` more jobs goes to the queue, with `waiting` claimed jobs not yet
   * started here and `secondsLeft` of the sweep's budget.
   */
  dispatches(waiting: number, next: number, secondsLeft: number, nowMs: number): boolean {
    if (this.options.when === 'always' || this.overflowing) return true;
    // Nothing known yet (the first, small claim): run it here.
    if (this.claimedJobs === 0) return false;
    const averageMs = this.claimedMs / this.claimedJobs;
    const inlineMs = Math.min(
      secondsLeft * 1000,
      (this.options.inlineSeconds ?? Number.POSITIVE_INFINITY) * 1000 - (nowMs - this.startedMs),
    );
    const expectedMs = ((waiting + next) * averageMs) / this.concurrency;
    this.overflowing = expectedMs > inlineMs;
    return this.overflowing;
  }
}
