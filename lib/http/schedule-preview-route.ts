import * as z from 'zod';
import { getJob } from '../jobs/service';
import { text } from '../jobs/schemas';
import { afterJobIds, isValidTimeZone, parseSchedule, ScheduleError } from '../schedule';
import {
  PREVIEW_DEFAULT_SLOTS,
  PREVIEW_MAX_SLOTS,
  previewSlots,
  type SlotWindow,
} from '../schedule-preview';
import { spreadOffsetOf } from '../engine/run-state';
import { routeWithQuery } from './api-handler';
import { invalid } from './problem';

// Decimal digits only, as for `limit`: Number() would also read 0x10, 1e1 or " 16".
const count = z
  .string()
  .refine(
    (value) =>
      /^[0-9]{1,9}$/.test(value) && Number(value) >= 1 && Number(value) <= PREVIEW_MAX_SLOTS,
    `must be a whole number from 1 to ${PREVIEW_MAX_SLOTS}, in decimal digits`,
  )
  .transform(Number)
  .default(PREVIEW_DEFAULT_SLOTS)
  .meta({
    type: 'integer',
    minimum: 1,
    maximum: PREVIEW_MAX_SLOTS,
    description: `How many slots. Default ${PREVIEW_DEFAULT_SLOTS}.`,
  });

export const schedulePreviewQuery = z.strictObject({
  schedule: text()
    .min(1)
    .max(200)
    .describe(
      'A schedule as a job takes it: hourly, every_15_minutes, cron:<expr>, at:<local date-time>…',
    ),
  timezone: text().min(1).max(64).default('UTC').describe('IANA time zone. Default "UTC".'),
  count,
});

export const jobNextSlotsQuery = z.strictObject({ count });

const dstTransitionSchema = z.object({
  kind: z.enum(['spring_forward', 'fall_back']),
  at: z.iso.datetime().describe('The instant the clocks changed'),
  offset_before: z.string(),
  offset_after: z.string(),
});

const previewSlotSchema = z.object({
  local: z.string().describe('Wall-clock time in the zone, without offset'),
  utc: z.iso.datetime(),
  offset: z.string().describe('UTC offset at the slot, e.g. +02:00'),
  dst_transition: dstTransitionSchema
    .nullable()
    .describe(
      'Set when the offset changed since the previous slot (or since now, for the first): the ' +
        'slot may have been moved by the change (a slot in a spring-forward gap fires when the ' +
        'clocks jump; a repeated fall-back hour fires once)',
    ),
  runs_at: z.iso
    .datetime()
    .describe(
      'When a run of the slot is due: utc plus the job’s spread offset (spread_seconds); equal ' +
        'to utc without spreading (and in a preview without a job)',
    ),
});

export const schedulePreviewSchema = z.object({
  schedule: z.string(),
  timezone: z.string(),
  from: z.iso.datetime().describe('Slots are those strictly after this instant (now)'),
  slots: z
    .array(previewSlotSchema)
    .describe(
      'Fewer than count when the schedule ends (at:), empty when it has no slot left or has none ' +
        'at all (after:)',
    ),
  note: z
    .string()
    .optional()
    .describe('Present for an after: schedule: it has no time slots, and this says when it runs'),
});

export const jobNextSlotsSchema = schedulePreviewSchema.extend({
  job_id: z.uuid(),
  is_active: z.boolean(),
  paused: z.boolean(),
  paused_until: z.iso
    .datetime()
    .nullable()
    .describe('When a paused job resumes by itself; null if it waits for a resume'),
  will_run: z
    .boolean()
    .describe(
      'false when the job is inactive or paused: the slots are its schedule’s, which the engine ' +
        'fires only once the job is active again (a paused job resumes at its first slot after ' +
        'the resume)',
    ),
});

/** GET /api/cron/schedules/preview: the next slots of any schedule, without a job. */
export const previewScheduleRoute = routeWithQuery(
  schedulePreviewQuery,
  async (_request, _app, query) => {
    const errors = [];
    try {
      parseSchedule(query.schedule);
    } catch (error) {
      if (!(error instanceof ScheduleError)) throw error;
      errors.push({ path: 'schedule', message: error.message });
    }
    if (!isValidTimeZone(query.timezone)) {
      errors.push({
        path: 'timezone',
        message: `unknown time zone ${JSON.stringify(query.timezone)}: use an IANA name such as UTC or Europe/Berlin`,
      });
    }
    if (errors.length > 0) throw invalid(errors);
    const from = new Date();
    let slots;
    try {
      slots = previewSlots(query.schedule, query.timezone, from, query.count);
    } catch (error) {
      // A form that parses may still have no slot in this zone (at:9999-12-31T23:59:59 west of UTC).
      if (!(error instanceof ScheduleError)) throw error;
      throw invalid([{ path: 'schedule', message: error.message }]);
    }
    return {
      status: 200,
      body: {
        schedule: query.schedule,
        timezone: query.timezone,
        from: from.toISOString(),
        slots,
        ...dependencyNote(query.schedule),
      },
    };
  },
);

/** GET /api/cron/jobs/{id}/next: the job's next slots; the job is looked up scoped to the caller. */
export const jobNextSlotsRoute = routeWithQuery(
  jobNextSlotsQuery,
  async (request, app, { count: wanted }) => {
    const job = await getJob(app, request.caller, request.params.id ?? '');
    const from = new Date();
    const window = {
      starts_at: job.starts_at,
      ends_at: job.ends_at,
      spread_offset_ms: await spreadOffsetOf(app.sql, job.id, job.spread_seconds),
    };
    return {
      status: 200,
      body: {
        job_id: job.id,
        schedule: job.schedule,
        timezone: job.timezone,
        is_active: job.is_active,
        paused: job.paused_at !== null,
        paused_until: job.paused_until?.toISOString() ?? null,
        will_run: job.is_active && job.paused_at === null,
        from: from.toISOString(),
        slots: slotsOfStoredJob(job.schedule, job.timezone, from, wanted, window),
        ...dependencyNote(job.schedule),
      },
    };
  },
);

/** An after: schedule has no slots to list: say so, and say when such a job runs instead. */
function dependencyNote(schedule: string): { note?: string } {
  let upstream: string[] | null;
  try {
    upstream = afterJobIds(schedule);
  } catch {
    return {};
  }
  if (!upstream) return {};
  return {
    note:
      `after: schedules have no time slots: the job runs once each time ${
        upstream.length === 1 ? `job ${upstream[0]}` : `all of jobs ${upstream.join(', ')}`
      } succeeded since its last run, at the first sweep after the success; no exact-time ` +
      'trigger is armed for it',
  };
}

// A stored schedule the engine cannot read (an adopted row) has no slots: the sweep sets such a
// job inactive rather than fire it.
function slotsOfStoredJob(
  schedule: string,
  timeZone: string,
  from: Date,
  wanted: number,
  window: SlotWindow,
) {
  try {
    return previewSlots(schedule, timeZone, from, wanted, window);
  } catch (error) {
    if (error instanceof ScheduleError || error instanceof RangeError) return [];
    throw error;
  }
}
