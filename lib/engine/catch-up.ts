import { nextSlot } from '../schedule';

/**
 * What a claim does with a job's due slots (issue #13: catch-up, missed slots, spreading, active
 * windows). Pure: the claim (claim.ts) and the job service use it; nothing here touches the
 * database.
 *
 * Terms. A job's *slots* are its schedule's instants (nominal, `scheduled_for`), kept inside its
 * active window [`starts_at`, `ends_at`] (both inclusive). Each run starts no earlier than its
 * slot plus the job's spread offset (`spread_offset_ms`, fixed per job, see migration 35); the job's
 * `next_run` is that instant for its next slot. A slot is *due* once that instant has passed, and
 * *late* when the sweep reaches it more than `catch_up_window_seconds` after it came due.
 *
 * When a claim finds several due slots (an outage, a schedule faster than the sweep), at most
 * one runs now and the others are *missed*:
 * - `skip`: the latest due slot runs unless it is late; every other due slot is missed.
 * - `latest` (default, the behaviour before catch-up existed): the latest due slot runs, late or
 *   not; every earlier due slot is missed.
 * - `all`: the oldest due slot that is not late runs; the late ones before it are missed; the
 *   job stays due for its next slot (`behind`), which the sweep claims as soon as this run has
 *   finished, so every slot within the window runs, oldest first, one at a time.
 * The missed slots of one claim are contiguous: one gap, recorded as one `missed` run.
 */

export type CatchUpPolicy = 'skip' | 'latest' | 'all';
export const CATCH_UP_POLICIES = ['skip', 'latest', 'all'] as const;

/** Defaults and limits of the job fields, declared once (schemas, service and docs use them). */
export const catchUpDefaults = {
  catch_up: 'latest' as CatchUpPolicy,
  catch_up_window_seconds: 600,
  spread_seconds: 0,
};
export const catchUpLimits = {
  catch_up_window_seconds: { min: 60, max: 2_678_400 },
  spread_seconds: { min: 0, max: 3600 },
};

export interface JobTiming {
  schedule: string;
  timezone: string;
  /** The job's run offset within its slot, from cron_spread_offset_ms(id, spread_seconds). */
  spread_offset_ms: number;
  starts_at: Date | null;
  ends_at: Date | null;
}

export interface CatchUpJob extends JobTiming {
  catch_up: CatchUpPolicy;
  catch_up_window_seconds: number;
}

/** A job's next slot and when it runs. */
export interface NextRun {
  slot: Date;
  /** `slot` plus the spread offset: the job's `next_run`. */
  runAt: Date;
}

/** One gap of missed slots: first and last (inclusive) and how many. */
export interface MissedGap {
  first: Date;
  last: Date;
  count: number;
}

export interface ClaimPlan {
  /** The slot to run now; null: nothing runs (all due slots missed, or none inside the window). */
  run: Date | null;
  missed: MissedGap | null;
  /** The job's next slot after this claim; null: none left (the job becomes inactive). */
  next: NextRun | null;
  /** `all` only: the next slot is due already, so the job has more to catch up. */
  behind: boolean;
}

/** `next(after)`: the first slot strictly after `after`, or null. Callers may pass a memoized one. */
export type SlotAfter = (after: Date) => Date | null;

export function slotAfterOf(schedule: string, timeZone: string): SlotAfter {
  return (after) => nextSlot(schedule, timeZone, after);
}

/**
 * The job's first slot whose run time (slot + spread offset) is strictly after `after`, inside
 * its active window; null when it has none.
 */
export function nextRunOf(
  job: JobTiming,
  after: Date,
  next: SlotAfter = slotAfterOf(job.schedule, job.timezone),
): NextRun | null {
  let from = after.getTime() - job.spread_offset_ms;
  // A slot exactly at starts_at belongs to the window.
  if (job.starts_at && job.starts_at.getTime() - 1 > from) from = job.starts_at.getTime() - 1;
  return within(job, next(new Date(from)));
}

function within(job: JobTiming, slot: Date | null): NextRun | null {
  if (!slot || (job.ends_at && slot > job.ends_at)) return null;
  return { slot, runAt: new Date(slot.getTime() + job.spread_offset_ms) };
}

// A gap longer than this is not walked slot by slot (a week of every_minute is 10,080 slots): its
// end is found by looking back from now, and its count is a lower bound (MAX_COUNTED_SLOTS + 1).
export const MAX_COUNTED_SLOTS = 10_000;

/**
 * What to do with a due job whose next slot is `first` (its `next_run` minus its spread offset),
 * at `now`. See the header for the policies.
 */
export function planClaim(
  job: CatchUpJob,
  first: Date,
  now: Date,
  next: SlotAfter = slotAfterOf(job.schedule, job.timezone),
): ClaimPlan {
  const horizon = now.getTime() - job.spread_offset_ms;
  const lastDue = Math.min(horizon, job.ends_at?.getTime() ?? Infinity);
  const onTimeFrom = horizon - job.catch_up_window_seconds * 1000;
  if (first.getTime() > lastDue) {
    return { run: null, missed: null, next: within(job, first), behind: false };
  }
  if (!isSlot(first, next)) {
    // A next_run that is no slot (set by hand to run a job now, or by adoption for an overdue
    // job) means "due now": the job runs once for that instant, whatever the policy, and returns
    // to its schedule. Nothing is recorded missed: no slot was passed over to reach that instant.
    return { run: first, missed: null, next: nextRunOf(job, now, next), behind: false };
  }
  // Walk the due slots: first .. latest (<= lastDue).
  let count = 0;
  let latest: Date = first;
  let beforeLatest: Date | null = null;
  let slot: Date | null = first;
  let jumped = false;
  while (slot && slot.getTime() <= lastDue) {
    if (job.catch_up === 'all' && slot.getTime() >= onTimeFrom) {
      const after = next(slot);
      return {
        run: slot,
        missed: count === 0 ? null : { first, last: latest, count },
        next: within(job, after),
        behind: after !== null && after.getTime() <= lastDue,
      };
    }
    count += 1;
    beforeLatest = count === 1 ? null : latest;
    latest = slot;
    slot = next(slot);
    if (!jumped && count >= MAX_COUNTED_SLOTS && slot && slot.getTime() <= lastDue) {
      // Too long to walk: jump to the gap's end (for `all`, to the last late slot).
      jumped = true;
      const target = job.catch_up === 'all' ? Math.min(onTimeFrom - 1, lastDue) : lastDue;
      if (target >= slot.getTime()) {
        const walked = latest;
        latest = latestSlotAtOrBefore(target, slot, next);
        beforeLatest =
          latest.getTime() === slot.getTime()
            ? walked
            : latestSlotAtOrBefore(latest.getTime() - 1, slot, next);
        count += 1;
        slot = next(latest);
      }
    }
  }
  const after = within(job, slot);
  // `all` gets here only when every due slot is late.
  const runsLatest =
    job.catch_up === 'latest' || (job.catch_up === 'skip' && latest.getTime() >= onTimeFrom);
  if (!runsLatest) {
    return { run: null, missed: { first, last: latest, count }, next: after, behind: false };
  }
  return {
    run: latest,
    missed: count <= 1 ? null : { first, last: beforeLatest ?? latest, count: count - 1 },
    next: after,
    behind: false,
  };
}

function isSlot(instant: Date, next: SlotAfter): boolean {
  return next(new Date(instant.getTime() - 1))?.getTime() === instant.getTime();
}

/** The last slot at or before `limit`, looking back from it; `known` is a slot at or before it. */
function latestSlotAtOrBefore(limit: number, known: Date, next: SlotAfter): Date {
  let best = known;
  for (let back = 60_000; limit - back > known.getTime(); back *= 2) {
    const probe = next(new Date(limit - back));
    if (probe && probe.getTime() <= limit) {
      best = probe;
      break;
    }
  }
  for (let slot = next(best); slot && slot.getTime() <= limit; slot = next(slot)) best = slot;
  return best;
}
