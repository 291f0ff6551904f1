import type { AppContext } from '../app-context';
import { column } from '../db';
import { ValidationError } from '../errors';
import { NOT_RUN_STATUSES } from '../engine/run-state';
import type { Caller } from '../identity/caller';
import { AFTER_PREFIX, nextSlot } from '../schedule';
import { recordAudit } from './audit';
import type { BackfillJobBody } from './schemas';
import { findScopedJob } from './scope';
import type { JobRow } from './service';

/** The most slots one backfill request may queue (or list in a dry run): split longer ranges. */
export const BACKFILL_MAX_SLOTS = 1000;

export interface BackfillResult {
  job_id: string;
  dry_run: boolean;
  from: string;
  to: string;
  /** Dry run: the slots a backfill would queue; otherwise the slots it queued. Oldest first. */
  slots: string[];
  /** Slots in the range that have run (any run of the slot but `missed` or `skipped`). */
  already_run: string[];
  /** Slots in the range queued by an earlier backfill and not yet run. */
  already_queued: string[];
  /** false while the job is inactive or paused: its queued slots wait until it is active again. */
  will_run: boolean;
}

type BackfillFields = Pick<
  JobRow,
  'id' | 'tenant_id' | 'schedule' | 'timezone' | 'is_active' | 'paused_at' | 'starts_at' | 'ends_at'
>;
const BACKFILL_COLUMNS = [
  'id',
  'tenant_id',
  'schedule',
  'timezone',
  'is_active',
  'paused_at',
  'starts_at',
  'ends_at',
] as const;

/**
 * POST /jobs/{id}/backfill: the job's slots in [from, to) inside its active window that have not
 * run (a slot recorded `missed`, or `skipped` by the overlap rule, has not), queued for the sweep,
 * which runs them oldest first, one at a time, with trigger `backfill` (engine/backfill.ts). A dry
 * run lists them and changes nothing. The job row is locked while the slots are read and queued,
 * as the sweep's claims lock it, so a slot is not both claimed and queued as not run; a slot
 * queued twice is queued once (the queue's primary key). Audited as `backfill` when it queues any.
 */
export async function backfillJob(
  ctx: AppContext,
  caller: Caller,
  id: string,
  body: BackfillJobBody,
  now = new Date(),
): Promise<BackfillResult> {
  const from = new Date(body.from);
  const to = new Date(body.to);
  return ctx.sql.begin(async (tx) => {
    const job = await findScopedJob<BackfillFields>(tx, caller, id, BACKFILL_COLUMNS, {
      forUpdate: !body.dry_run,
    });
    const slots = slotsInRange(job, from, to, now);
    const instants = column(slots, (slot) => slot);
    const taken =
      slots.length === 0
        ? []
        : await tx<{ slot: Date; queued: boolean }[]>`
            select scheduled_for as slot, false as queued from cron_job_run
            where job_id = ${id} and scheduled_for = any(${instants}::timestamptz[])
              and status <> all(${[...NOT_RUN_STATUSES]}::text[])
            union
            select scheduled_for, true from cron_job_backfill
            where job_id = ${id} and scheduled_for = any(${instants}::timestamptz[])`;
    const ran = new Set(taken.filter((row) => !row.queued).map((row) => row.slot.getTime()));
    const queued = new Set(taken.filter((row) => row.queued).map((row) => row.slot.getTime()));
    const open = slots.filter((slot) => !ran.has(slot.getTime()) && !queued.has(slot.getTime()));
    if (!body.dry_run && open.length > 0) {
      await tx`
        insert into cron_job_backfill (job_id, scheduled_for)
        select ${id}, slot from unnest(${column(open, (slot) => slot)}::timestamptz[]) as slot
        on conflict do nothing`;
      await recordAudit(tx, {
        job_id: id,
        tenant_id: job.tenant_id,
        action: 'backfill',
        actor: caller,
        changes: {
          backfill: {
            after: { from: from.toISOString(), to: to.toISOString(), slots: open.length },
          },
        },
      });
    }
    const iso = (slot: Date) => slot.toISOString();
    return {
      job_id: id,
      dry_run: body.dry_run,
      from: from.toISOString(),
      to: to.toISOString(),
      slots: open.map(iso),
      already_run: slots.filter((slot) => ran.has(slot.getTime())).map(iso),
      already_queued: slots
        .filter((slot) => queued.has(slot.getTime()) && !ran.has(slot.getTime()))
        .map(iso),
      will_run: job.is_active && job.paused_at === null,
    };
  });
}

/**
 * The job's slots in [from, to), inside its window [starts_at, ends_at]: at most
 * BACKFILL_MAX_SLOTS, else a 400. Refuses (400, naming the field) a range that is empty, that
 * reaches past `now` (the schedule runs the slots to come), and a job without time slots.
 */
function slotsInRange(job: BackfillFields, from: Date, to: Date, now: Date): Date[] {
  if (to <= from) throw new ValidationError([{ path: 'to', message: 'must be later than from' }]);
  if (to > now) {
    throw new ValidationError([
      {
        path: 'to',
        message: `must not be later than now (${now.toISOString()}): the schedule runs the slots to come`,
      },
    ]);
  }
  if (job.schedule.startsWith(AFTER_PREFIX)) {
    throw new ValidationError([
      {
        path: 'schedule',
        message:
          'the job has an after: schedule: it has no time slots to backfill (it runs when its upstream jobs succeed)',
      },
    ]);
  }
  let after = new Date(from.getTime() - 1);
  if (job.starts_at && job.starts_at > from) after = new Date(job.starts_at.getTime() - 1);
  const end = job.ends_at && job.ends_at < to ? job.ends_at.getTime() + 1 : to.getTime();
  const slots: Date[] = [];
  for (;;) {
    let slot: Date | null;
    try {
      slot = nextSlot(job.schedule, job.timezone, after);
    } catch (error) {
      // A stored schedule the engine cannot read (an adopted row) has no slots either.
      throw new ValidationError([{ path: 'schedule', message: (error as Error).message }]);
    }
    if (!slot || slot.getTime() >= end) return slots;
    if (slots.length === BACKFILL_MAX_SLOTS) {
      throw new ValidationError([
        {
          path: 'to',
          message: `the range holds more than ${BACKFILL_MAX_SLOTS} slots of the job's schedule: backfill at most ${BACKFILL_MAX_SLOTS} per request (split the range)`,
        },
      ]);
    }
    slots.push(slot);
    after = slot;
  }
}
