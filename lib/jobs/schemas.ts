import * as z from 'zod';
import { SIGNING_SECRET_PATTERN } from '../egress/signing';
import { defaultRetryPolicy, retryLimits } from '../engine/retry-policy';
import { MAX_JOB_TIMEOUT_SECONDS } from '../engine/run-queue';
import { CATCH_UP_POLICIES, catchUpDefaults, catchUpLimits } from '../engine/catch-up';

/**
 * The API's request and response shapes. Handlers validate with these and the OpenAPI document
 * is generated from them, so the two cannot disagree.
 */
// PostgreSQL text and jsonb cannot hold NUL, and an unpaired surrogate has no UTF-8 form: both
// are refused up front, so what is stored is exactly what was validated.
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSTORABLE_TEXT = 'must not contain NUL characters or unpaired UTF-16 surrogates';
const storable = (value: string) => !value.includes('\0') && !UNPAIRED_SURROGATE.test(value);
export const text = () => z.string().refine(storable, UNSTORABLE_TEXT);

// Deeper values cannot be serialized back (JSON.stringify recurses) and no config needs them.
const MAX_METADATA_DEPTH = 32;

/** Reports unstorable keys or strings and over-deep nesting; iterative, so depth cannot hurt it. */
function checkMetadata(metadata: Record<string, unknown>, ctx: z.RefinementCtx): void {
  const pending: Array<{ value: unknown; path: PropertyKey[] }> = [{ value: metadata, path: [] }];
  for (let item = pending.pop(); item; item = pending.pop()) {
    const { value, path } = item;
    if (typeof value === 'string') {
      if (!storable(value)) ctx.addIssue({ code: 'custom', path, message: UNSTORABLE_TEXT });
    } else if (value !== null && typeof value === 'object') {
      if (path.length >= MAX_METADATA_DEPTH) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: `metadata may be nested at most ${MAX_METADATA_DEPTH} levels deep`,
        });
        continue;
      }
      for (const [key, inner] of Object.entries(value)) {
        const innerPath = [...path, Array.isArray(value) ? Number(key) : key];
        if (!storable(key)) {
          ctx.addIssue({ code: 'custom', path: innerPath, message: `key ${UNSTORABLE_TEXT}` });
        }
        pending.push({ value: inner, path: innerPath });
      }
    }
  }
}

export const jobName = text().min(1).max(200);

const { max_attempts, initial_delay_seconds, max_delay_seconds } = retryLimits;
const seconds = (limits: { min: number; max: number }) =>
  z.number().int().min(limits.min).max(limits.max);

/** `retry` as a client writes it: omitted keys take their defaults; it replaces the old one whole. */
export const retryPolicyInput = z
  .strictObject({
    max_attempts: z
      .number()
      .int()
      .min(max_attempts.min)
      .max(max_attempts.max)
      .optional()
      .describe(
        `Runs per slot, the first included; 1 never retries. Default ${defaultRetryPolicy.max_attempts}.`,
      ),
    backoff: z
      .enum(['exponential', 'fixed'])
      .optional()
      .describe(
        `exponential: the delay cap doubles per attempt; fixed: it stays the same. Default "${defaultRetryPolicy.backoff}".`,
      ),
    initial_delay_seconds: seconds(initial_delay_seconds)
      .optional()
      .describe(
        `The delay cap before the first retry; not above max_delay_seconds. Default ${defaultRetryPolicy.initial_delay_seconds}.`,
      ),
    max_delay_seconds: seconds(max_delay_seconds)
      .optional()
      .describe(`No delay cap grows beyond this. Default ${defaultRetryPolicy.max_delay_seconds}.`),
  })
  .describe(
    'Retries of a failed, timed-out or lost run of a slot, each a run of its own (trigger retry, ' +
      'attempt 2, 3, …). Each waits a random delay in [0, cap] (full jitter), cap = ' +
      'min(max_delay_seconds, initial_delay_seconds × 2^(attempt − 1)) (fixed: min(max, initial)). ' +
      'Replaced whole: omitted keys take their defaults. Default: no retries.',
  );

const retryPolicySchema = z.object({
  max_attempts: z.number().int(),
  backoff: z.enum(['exponential', 'fixed']),
  initial_delay_seconds: z.number().int(),
  max_delay_seconds: z.number().int(),
});

export const pauseAfterFailures = z
  .number()
  .int()
  .min(1)
  .max(1000)
  .nullable()
  .describe(
    'Pause the job (paused_by engine) after this many failed slots in a row; null: never. Default null.',
  );
export const tenantId = text().min(1).max(100);

/** What a slot that comes due while the job is still running does. */
export const OVERLAP_POLICIES = ['skip', 'queue_one', 'allow'] as const;
export const overlapLimits = { max_concurrent_runs: { min: 1, max: 100 } } as const;
export const priorityLimits = { min: -10, max: 10 } as const;
export const overlap = z
  .enum(OVERLAP_POLICIES)
  .describe(
    'What a slot that comes due while the job is still running does: skip (a skipped run), ' +
      'queue_one (it waits, one slot at most, and runs when the job is free; a further slot ' +
      'meanwhile is skipped) or allow (it runs alongside, up to max_concurrent_runs at once).',
  );
export const maxConcurrentRuns = z
  .number()
  .int()
  .min(overlapLimits.max_concurrent_runs.min)
  .max(overlapLimits.max_concurrent_runs.max)
  .describe('How many runs of the job may run at once; above 1 only with overlap allow.');
export const priority = z
  .number()
  .int()
  .min(priorityLimits.min)
  .max(priorityLimits.max)
  .describe(
    'Claim order among due jobs, highest first: within each tenant, and within each turn of the ' +
      'round-robin across tenants (fair claiming is kept: no priority lets one tenant hold back ' +
      "another's jobs).",
  );
const windowLimits = catchUpLimits.catch_up_window_seconds;
const spreadLimits = catchUpLimits.spread_seconds;
/** The timing fields of issue #13 (catch-up, spreading, active window); defaults in catch-up.ts. */
const timingFields = {
  catch_up: z
    .enum(CATCH_UP_POLICIES)
    .describe(
      'What runs when several slots are due at once (after an outage, or a schedule faster than ' +
        'the sweep): skip runs the latest one unless it is late (due more than ' +
        'catch_up_window_seconds ago), latest runs the latest one, all runs each one that is not ' +
        'late, oldest first. Due slots that do not run are recorded as a missed run. ' +
        `Default "${catchUpDefaults.catch_up}".`,
    ),
  catch_up_window_seconds: z
    .number()
    .int()
    .min(windowLimits.min)
    .max(windowLimits.max)
    .describe(
      'How late a slot may still start under catch_up skip or all; a slot due longer ago is ' +
        `missed. Ignored by latest. Default ${catchUpDefaults.catch_up_window_seconds}.`,
    ),
  spread_seconds: z
    .number()
    .int()
    .min(spreadLimits.min)
    .max(spreadLimits.max)
    .describe(
      'Each run starts this job’s fixed offset in [0, spread_seconds) after its slot, derived ' +
        'from the job id, so jobs sharing a schedule do not all start at once; must be shorter ' +
        'than the interval between two slots. Runs keep the slot as scheduled_for. ' +
        `Default ${catchUpDefaults.spread_seconds}.`,
    ),
  starts_at: z.iso
    .datetime({ offset: true })
    .nullable()
    .describe(
      'The job has no slot before this instant (inclusive bound); null: no start. Default null.',
    ),
  ends_at: z.iso
    .datetime({ offset: true })
    .nullable()
    .describe(
      'The job has no slot after this instant (inclusive bound); once past it the job becomes ' +
        'inactive. Later than starts_at; null: no end. Default null.',
    ),
};

const writableJobFields = {
  name: jobName,
  schedule: text()
    .min(1)
    .max(200)
    .describe(
      'every_minute, every_N_minutes, hourly, every_N_hours, daily, weekly, monthly, @hourly…, ' +
        'cron:<expr>, at:<local date-time> or after:<job id>[,<job id>…] (runs once each time ' +
        'all the named jobs of the same tenant have succeeded since its last run)',
    ),
  function_name: text().min(1).max(100).describe('A name from GET /api/cron/executors'),
  timezone: text().min(1).max(64).describe('IANA time zone'),
  is_active: z.boolean(),
  metadata: z
    .record(z.string(), z.unknown())
    .superRefine(checkMetadata)
    .describe("The executor's configuration; engine-owned keys are ignored"),
  tenant_id: tenantId.nullable(),
  timeout_seconds: z.number().int().min(1).max(MAX_JOB_TIMEOUT_SECONDS),
  precise: z.boolean(),
  secret: z
    .string()
    .max(200)
    .regex(SIGNING_SECRET_PATTERN, 'must be whsec_ followed by at least 16 bytes in base64')
    .describe(
      'Write-only: the signing secret of an executor that signs its calls (httpRequest). Never ' +
        'returned; when a job of such an executor has none, one is generated and returned once ' +
        'as `secret` in the response.',
    ),
  retry: retryPolicyInput,
  pause_after_failures: pauseAfterFailures,
  overlap,
  max_concurrent_runs: maxConcurrentRuns,
  priority,
  ...timingFields,
};

// The job service fills in an omitted field. Its default is stated in the description, not as a
// JSON Schema `default`: generated clients (openapi-typescript) would read that as "always present"
// and make callers send every optional field.
export const createJobBody = z.strictObject({
  name: writableJobFields.name,
  schedule: writableJobFields.schedule,
  function_name: writableJobFields.function_name,
  timezone: writableJobFields.timezone.optional().describe('IANA time zone. Default "UTC".'),
  is_active: writableJobFields.is_active.optional().describe('Default true.'),
  metadata: writableJobFields.metadata
    .optional()
    .describe("The executor's configuration; engine-owned keys are ignored. Default {}."),
  tenant_id: writableJobFields.tenant_id
    .optional()
    .describe('The tenant the job belongs to and scopes its work to. Default null (global).'),
  timeout_seconds: writableJobFields.timeout_seconds
    .optional()
    .describe('How long one run may take. Default 60.'),
  precise: writableJobFields.precise
    .optional()
    .describe('Start at the exact slot (EventBridge Scheduler). Default false.'),
  secret: writableJobFields.secret.optional(),
  retry: writableJobFields.retry.optional(),
  pause_after_failures: writableJobFields.pause_after_failures.optional(),
  overlap: writableJobFields.overlap.optional().describe(`${overlap.description} Default "skip".`),
  max_concurrent_runs: writableJobFields.max_concurrent_runs
    .optional()
    .describe(`${maxConcurrentRuns.description} Default 1.`),
  priority: writableJobFields.priority.optional().describe(`${priority.description} Default 0.`),
  catch_up: writableJobFields.catch_up.optional(),
  catch_up_window_seconds: writableJobFields.catch_up_window_seconds.optional(),
  spread_seconds: writableJobFields.spread_seconds.optional(),
  starts_at: writableJobFields.starts_at.optional(),
  ends_at: writableJobFields.ends_at.optional(),
});
export type CreateJobBody = z.infer<typeof createJobBody>;

// A PUT changes only the fields it names, so nothing here has a default.
export const updateJobBody = z
  .strictObject(
    Object.fromEntries(
      Object.entries(writableJobFields).map(([key, schema]) => [key, schema.optional()]),
    ) as {
      [Key in keyof typeof writableJobFields]: z.ZodOptional<(typeof writableJobFields)[Key]>;
    },
  )
  .extend({
    metadata: writableJobFields.metadata
      .optional()
      .describe(
        'Merged into the stored executor configuration key by key (JSON Merge Patch at the top ' +
          'level): a key sent replaces its stored value, null removes the key so the default ' +
          'applies again, keys left out keep their value. Engine-owned keys are ignored.',
      ),
  });
export type UpdateJobBody = z.infer<typeof updateJobBody>;

export const booleanText = z.enum(['true', 'false']).transform((value) => value === 'true');
const MAX_LIMIT = 200;
// Decimal digits only: Number() would also read 0x10, 1e1, " 16" or 16.0.
const isLimit = (value: string) =>
  /^[0-9]{1,9}$/.test(value) && Number(value) >= 1 && Number(value) <= MAX_LIMIT;
export const limit = (fallback: number) =>
  z
    .string()
    .refine(isLimit, `must be a whole number from 1 to ${MAX_LIMIT}, in decimal digits`)
    .transform(Number)
    .default(fallback)
    // Published as what it is to a client: an integer in the query string.
    .meta({ type: 'integer', minimum: 1, maximum: MAX_LIMIT, description: `Default ${fallback}.` });

export const listJobsQuery = z.strictObject({
  is_active: booleanText.optional(),
  tenant_id: tenantId.optional(),
  function_name: text().min(1).max(100).optional(),
  limit: limit(50),
  cursor: text().min(1).max(200).optional(),
});
export type ListJobsQuery = z.infer<typeof listJobsQuery>;

export const RUN_STATUSES = [
  'running',
  'success',
  'error',
  'timeout',
  'skipped',
  'lost',
  'missed',
] as const;

export const listRunsQuery = z.strictObject({
  status: z
    .enum(RUN_STATUSES)
    .optional()
    .describe('Only runs with this status; missed lists the job’s gaps of missed slots'),
  limit: limit(50),
});

export const pauseJobBody = z.strictObject({
  reason: text().trim().min(1).max(500).describe('Why the job is paused; shown as paused_reason'),
  until: z.iso
    .datetime({ offset: true })
    .optional()
    .describe(
      'When to resume by itself (then at the first slot after it); omit to pause until resumed',
    ),
});
export type PauseJobBody = z.infer<typeof pauseJobBody>;

export const backfillJobBody = z.strictObject({
  from: z.iso
    .datetime({ offset: true })
    .describe('The first instant of the range (inclusive): slots at or after it'),
  to: z.iso
    .datetime({ offset: true })
    .describe('The end of the range (exclusive), not later than now: slots before it'),
  dry_run: z
    .boolean()
    .default(false)
    .describe('true: list the slots a backfill would queue, queue nothing. Default false.'),
});
export type BackfillJobBody = z.infer<typeof backfillJobBody>;

export const backfillResultSchema = z.object({
  job_id: z.uuid(),
  dry_run: z.boolean(),
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  slots: z
    .array(z.iso.datetime())
    .describe(
      'Oldest first: the slots of the range that have not run, inside the job’s active window: ' +
        'queued (dry run: that would be queued). A slot recorded missed (or skipped by the ' +
        'overlap rule) has not run',
    ),
  already_run: z
    .array(z.iso.datetime())
    .describe('Slots of the range with a run (running or finished): not run again'),
  already_queued: z
    .array(z.iso.datetime())
    .describe('Slots of the range an earlier backfill queued that have not run yet'),
  will_run: z
    .boolean()
    .describe(
      'false while the job is inactive or paused: its queued slots wait until it is active again',
    ),
});

/** The query of every route that takes none: any parameter is refused, not ignored. */
export const noQuery = z.strictObject({});

const timestamp = z.iso.datetime();

export const jobSchema = z.object({
  id: z.uuid(),
  tenant_id: z.string().nullable(),
  name: z.string(),
  schedule: z.string(),
  timezone: z.string(),
  function_name: z.string(),
  is_active: z.boolean(),
  metadata: z.record(z.string(), z.unknown()),
  timeout_seconds: z.number().int(),
  precise: z.boolean(),
  retry: retryPolicySchema,
  pause_after_failures: z.number().int().nullable(),
  overlap: z.enum(OVERLAP_POLICIES),
  max_concurrent_runs: z.number().int(),
  priority: z.number().int(),
  paused_reason: z.string().nullable(),
  paused_at: timestamp.nullable(),
  paused_by: z.string().nullable(),
  paused_until: timestamp.nullable(),
  catch_up: z.enum(CATCH_UP_POLICIES),
  catch_up_window_seconds: z.number().int(),
  spread_seconds: z.number().int(),
  starts_at: timestamp.nullable(),
  ends_at: timestamp.nullable(),
  missed_count: z
    .number()
    .int()
    .describe(
      'Slots of this job that passed without a run: its missed runs’ missed_count, plus one ' +
        'for each slot skipped because its previous run still went on (a skipped run)',
    ),
  last_run: timestamp.nullable(),
  next_run: timestamp.nullable(),
  created_at: timestamp,
  updated_at: timestamp,
  inactive_reason: z
    .string()
    .nullable()
    .describe(
      'Why the system switched the job off (e.g. its CRM tables are missing, or an adopted job ' +
        'whose schedule or executor is refused); null when active or switched off by a person.',
    ),
  warnings: z.array(z.string()).optional(),
  secret: z
    .string()
    .optional()
    .describe('Only in the response that generated it: the signing secret, shown this once.'),
});

export const runSchema = z.object({
  id: z.uuid(),
  job_id: z.uuid(),
  scheduled_for: timestamp.nullable(),
  trigger: z
    .enum(['schedule', 'manual', 'retry', 'dependency', 'backfill'])
    .describe('What started the run; backfill: a slot queued by POST /jobs/{id}/backfill'),
  status: z.enum(RUN_STATUSES),
  attempt: z.number().int(),
  started_at: timestamp,
  finished_at: timestamp.nullable(),
  duration_ms: z.number().int().nullable(),
  result: z.unknown(),
  error: z.string().nullable(),
  triggered_by: z
    .uuid()
    .nullable()
    .describe(
      'For trigger dependency: the upstream run whose success made this run due (with several ' +
        'upstream jobs, the one that completed the set); null otherwise.',
    ),
  missed_count: z
    .number()
    .int()
    .nullable()
    .describe(
      'A missed run stands for a gap of missed slots: how many, from scheduled_for to missed_last',
    ),
  missed_last: timestamp.nullable().describe('A missed run: the last slot of its gap'),
});

export const sweepSummarySchema = z.object({
  executed: z.number().int(),
  dispatched: z.number().int().meta({
    description: 'Runs handed to worker processes or functions; their outcomes are theirs.',
  }),
  succeeded: z.number().int(),
  failed: z.number().int(),
  skipped: z.number().int(),
  timed_out: z.number().int(),
  lost: z.number().int(),
  deferred: z.number().int(),
  duration_ms: z.number().int(),
  max_lag_ms: z.number().int(),
  triggers: z
    .object({ armed: z.number().int(), disarmed: z.number().int(), failed: z.number().int() })
    .optional(),
  results: z.array(
    z.object({
      job_id: z.uuid(),
      name: z.string(),
      status: z.enum(['success', 'error', 'timeout', 'skipped']),
      duration_ms: z.number().int(),
      result: z.unknown().optional(),
      error: z.string().optional(),
    }),
  ),
});

export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  instance: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
