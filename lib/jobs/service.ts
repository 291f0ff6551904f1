import * as z from 'zod/mini';
import { randomUUID } from 'node:crypto';
import { withoutCursor } from '../page-cursor';
import type { AppContext } from '../app-context';
import { isUniqueViolation, jsonb, type TransactionSql } from '../db';
import {
  engineMetadata,
  executorConfig,
  initialEngineMetadata,
  ENGINE_METADATA_KEYS,
} from '../engine/metadata';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  ValidationError,
  type FieldError,
} from '../errors';
import type { Caller } from '../identity/caller';
import { errorMessage } from '../engine/execute';
import type { CreateJobBody, ListJobsQuery, UpdateJobBody } from './schemas';
import { diffJob, recordAudit, type FieldChange } from './audit';
import { findScopedJob, isUuid, jobNotFound, tenantScope } from './scope';
import { checkDependencies, lockDependencyGraph, refuseDroppingUpstream } from './dependencies';
import { defaultRetryPolicy, type RetryPolicy } from '../engine/retry-policy';
import { insertManualRun, releaseRuns } from '../engine/run-state';
import { QUEUED_LEASE_SECONDS, type RunQueue } from '../engine/run-queue';
import { createInProcessRunQueue } from '../engine/in-process-run-queue';
import { spreadOffsetOf } from '../engine/run-state';
import { catchUpDefaults, nextRunOf, type CatchUpPolicy } from '../engine/catch-up';
import { syncTriggers } from '../engine/triggers';
import { hasJobSecret, storeJobSecret } from '../job-secrets';
import { generateSigningSecret } from '../egress/signing';
import {
  AFTER_PREFIX,
  afterJobIds,
  isValidTimeZone,
  nextSlot,
  parseSchedule,
  ScheduleError,
  shortestIntervalSeconds,
} from '../schedule';

export interface JobRow {
  id: string;
  tenant_id: string | null;
  name: string;
  schedule: string;
  timezone: string;
  function_name: string;
  is_active: boolean;
  metadata: Record<string, unknown>;
  timeout_seconds: number;
  precise: boolean;
  retry: RetryPolicy;
  pause_after_failures: number | null;
  overlap: 'skip' | 'queue_one' | 'allow';
  max_concurrent_runs: number;
  priority: number;
  paused_reason: string | null;
  paused_at: Date | null;
  paused_by: string | null;
  paused_until: Date | null;
  catch_up: CatchUpPolicy;
  catch_up_window_seconds: number;
  spread_seconds: number;
  starts_at: Date | null;
  ends_at: Date | null;
  missed_count: number;
  last_run: Date | null;
  next_run: Date | null;
  created_at: Date;
  updated_at: Date;
  inactive_reason: string | null;
}

export interface RunRow {
  id: string;
  job_id: string;
  scheduled_for: Date | null;
  trigger: 'schedule' | 'manual' | 'retry' | 'dependency' | 'backfill';
  status: string;
  attempt: number;
  started_at: Date;
  finished_at: Date | null;
  duration_ms: number | null;
  result: unknown;
  error: string | null;
  triggered_by: string | null;
  missed_count: number | null;
  missed_last: Date | null;
}

type JobFields = Required<Omit<CreateJobBody, 'metadata' | 'secret' | 'retry'>> & {
  metadata: Record<string, unknown>;
  retry: RetryPolicy;
};

const JOB_COLUMNS = [
  'id',
  'tenant_id',
  'name',
  'schedule',
  'timezone',
  'function_name',
  'is_active',
  'metadata',
  'timeout_seconds',
  'precise',
  'retry',
  'pause_after_failures',
  'overlap',
  'max_concurrent_runs',
  'priority',
  'paused_reason',
  'paused_at',
  'paused_by',
  'paused_until',
  'catch_up',
  'catch_up_window_seconds',
  'spread_seconds',
  'starts_at',
  'ends_at',
  'missed_count',
  'last_run',
  'next_run',
  'created_at',
  'updated_at',
  'inactive_reason',
];
const RUN_COLUMNS = [
  'id',
  'job_id',
  'scheduled_for',
  'trigger',
  'status',
  'attempt',
  'started_at',
  'finished_at',
  'duration_ms',
  'result',
  'error',
  'triggered_by',
  'missed_count',
  'missed_last',
];

export async function getJob(ctx: AppContext, caller: Caller, id: string): Promise<JobRow> {
  return findScopedJob<JobRow>(ctx.sql, caller, id, JOB_COLUMNS);
}

/** A tenant caller lists its own tenant's jobs (a `tenant_id` filter can only narrow that). */
export async function listJobs(
  ctx: AppContext,
  caller: Caller,
  query: ListJobsQuery,
): Promise<{ jobs: JobRow[]; next_cursor: string | null }> {
  const { sql } = ctx;
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const rows = await sql<(JobRow & { cursor_us: string })[]>`
    select ${sql(JOB_COLUMNS)}, (extract(epoch from created_at) * 1000000)::bigint::text as cursor_us
    from cron_job
    where true ${tenantScope(sql, caller)}
      ${query.is_active === undefined ? sql`` : sql`and is_active = ${query.is_active}`}
      ${query.tenant_id === undefined ? sql`` : sql`and tenant_id = ${query.tenant_id}`}
      ${query.function_name === undefined ? sql`` : sql`and function_name = ${query.function_name}`}
      ${
        after === undefined
          ? sql``
          : sql`and (created_at, id) > (timestamptz 'epoch' + ${after.us}::bigint * interval '1 microsecond', ${after.id}::uuid)`
      }
    order by created_at, id
    limit ${query.limit + 1}`;
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    jobs: withoutCursor(page),
    next_cursor: rows.length > query.limit && last ? encodeCursor(last.cursor_us, last.id) : null,
  };
}

/**
 * A tenant caller creates jobs in its own tenant: a body `tenant_id` that names any other tenant
 * (or null, a global job) is refused with 403. Admins create jobs in any tenant, or global ones.
 */
export async function createJob(
  ctx: AppContext,
  caller: Caller,
  body: CreateJobBody,
  now = new Date(),
): Promise<{ job: JobRow; warnings: string[]; secret?: string }> {
  if (!caller.admin && body.tenant_id !== undefined && body.tenant_id !== caller.tenant_id) {
    throw new ForbiddenError(
      `tenant_id: a tenant caller creates jobs in its own tenant (${JSON.stringify(caller.tenant_id)}) only`,
    );
  }
  const fields: JobFields = {
    name: body.name,
    schedule: body.schedule,
    function_name: body.function_name,
    timezone: body.timezone ?? 'UTC',
    is_active: body.is_active ?? true,
    metadata: body.metadata ?? {},
    tenant_id: caller.admin ? (body.tenant_id ?? null) : caller.tenant_id,
    timeout_seconds: body.timeout_seconds ?? 60,
    precise: body.precise ?? false,
    retry: { ...defaultRetryPolicy, ...body.retry },
    pause_after_failures: body.pause_after_failures ?? null,
    overlap: body.overlap ?? 'skip',
    max_concurrent_runs: body.max_concurrent_runs ?? 1,
    priority: body.priority ?? 0,
    catch_up: body.catch_up ?? catchUpDefaults.catch_up,
    catch_up_window_seconds:
      body.catch_up_window_seconds ?? catchUpDefaults.catch_up_window_seconds,
    spread_seconds: body.spread_seconds ?? catchUpDefaults.spread_seconds,
    starts_at: body.starts_at ?? null,
    ends_at: body.ends_at ?? null,
  };
  // The id is chosen here: the job's spread offset derives from it and decides its next_run.
  const id = randomUUID();
  const offset = await spreadOffsetOf(ctx.sql, id, fields.spread_seconds);
  const checked = validateJob(ctx, fields, now, { spreadOffsetMs: offset });
  const row = {
    ...fields,
    id,
    starts_at: instantOrNull(fields.starts_at),
    ends_at: instantOrNull(fields.ends_at),
    retry: jsonb(ctx.sql, fields.retry),
    metadata: jsonb(ctx.sql, { ...checked.config, ...initialEngineMetadata }),
    next_run: checked.nextRun,
    after_job_ids: afterJobIds(fields.schedule),
  };
  const { job, secret } = await ctx.sql.begin(async (tx) => {
    if (row.after_job_ids) await lockDependencyGraph(tx);
    await checkDependencies(tx, {
      id: null,
      tenant_id: fields.tenant_id,
      after: row.after_job_ids,
    });
    const [inserted] = await nameTaken(
      fields,
      () => tx<JobRow[]>`insert into cron_job ${tx(row)} returning ${tx(JOB_COLUMNS)}`,
    );
    const secret = await keepSecret(ctx, tx, inserted!, body.secret);
    await recordAudit(tx, {
      job_id: inserted!.id,
      tenant_id: inserted!.tenant_id,
      action: 'create',
      actor: caller,
      changes: auditDiff(undefined, inserted!, body.secret !== undefined || secret !== undefined),
    });
    return { job: inserted!, secret };
  });
  await syncTriggers(ctx, [job.id]);
  return { job, warnings: checked.warnings, ...(secret ? { secret } : {}) };
}

/**
 * Stores the secret a request sent, or generates one for an executor that needs one and whose job
 * has none yet. Returns a generated secret, which the response shows this once.
 */
async function keepSecret(
  ctx: AppContext,
  tx: TransactionSql,
  job: JobRow,
  sent: string | undefined,
): Promise<string | undefined> {
  if (sent !== undefined) {
    await storeJobSecret(tx, job.id, sent);
    return undefined;
  }
  if (!ctx.registry.get(job.function_name)?.needsSecret) return undefined;
  if (await hasJobSecret(tx, job.id)) return undefined;
  const generated = generateSigningSecret();
  await storeJobSecret(tx, job.id, generated);
  return generated;
}

/** Moving a job to another tenant (a different `tenant_id`) is for admins only: 403 otherwise. */
export async function updateJob(
  ctx: AppContext,
  caller: Caller,
  id: string,
  body: UpdateJobBody,
  now = new Date(),
): Promise<{ job: JobRow; warnings: string[]; secret?: string }> {
  const updated = await ctx.sql.begin(async (tx) => {
    if (body.schedule?.startsWith(AFTER_PREFIX)) await lockDependencyGraph(tx);
    const current = await findScopedJob<JobRow>(tx, caller, id, JOB_COLUMNS, { forUpdate: true });
    if (!caller.admin && body.tenant_id !== undefined && body.tenant_id !== current.tenant_id) {
      throw new ForbiddenError('tenant_id: moving a job between tenants is for admins only');
    }
    const fields: JobFields = {
      name: body.name ?? current.name,
      schedule: body.schedule ?? current.schedule,
      function_name: body.function_name ?? current.function_name,
      timezone: body.timezone ?? current.timezone,
      is_active: body.is_active ?? current.is_active,
      metadata:
        body.metadata === undefined
          ? executorConfig(current.metadata)
          : mergeConfig(executorConfig(current.metadata), body.metadata),
      tenant_id: body.tenant_id === undefined ? current.tenant_id : body.tenant_id,
      timeout_seconds: body.timeout_seconds ?? current.timeout_seconds,
      precise: body.precise ?? current.precise,
      retry: body.retry ? { ...defaultRetryPolicy, ...body.retry } : current.retry,
      pause_after_failures:
        body.pause_after_failures === undefined
          ? current.pause_after_failures
          : body.pause_after_failures,
      overlap: body.overlap ?? current.overlap,
      // Leaving `allow` brings the limit back to 1 unless the request sets it (and is refused).
      max_concurrent_runs:
        body.max_concurrent_runs ??
        ((body.overlap ?? current.overlap) === 'allow' ? current.max_concurrent_runs : 1),
      priority: body.priority ?? current.priority,
      catch_up: body.catch_up ?? current.catch_up,
      catch_up_window_seconds: body.catch_up_window_seconds ?? current.catch_up_window_seconds,
      spread_seconds: body.spread_seconds ?? current.spread_seconds,
      starts_at:
        body.starts_at === undefined ? (current.starts_at?.toISOString() ?? null) : body.starts_at,
      ends_at: body.ends_at === undefined ? (current.ends_at?.toISOString() ?? null) : body.ends_at,
    };
    // A job whose executor is gone can still be switched off (the runbook's advice), changing
    // nothing else; its config is kept as it is, unvalidated.
    const switchingOffOrphan =
      !ctx.registry.get(fields.function_name) &&
      !fields.is_active &&
      fields.function_name === current.function_name &&
      body.metadata === undefined;
    const offset = await spreadOffsetOf(tx, id, fields.spread_seconds);
    const checked = validateJob(ctx, fields, now, {
      skipExecutor: switchingOffOrphan,
      spreadOffsetMs: offset,
    });
    if (switchingOffOrphan) checked.config = executorConfig(current.metadata);
    const timingChanged =
      fields.schedule !== current.schedule ||
      fields.timezone !== current.timezone ||
      fields.is_active !== current.is_active ||
      fields.spread_seconds !== current.spread_seconds ||
      instantOrNull(fields.starts_at)?.getTime() !== current.starts_at?.getTime() ||
      instantOrNull(fields.ends_at)?.getTime() !== current.ends_at?.getTime();
    const after = afterJobIds(fields.schedule);
    await checkDependencies(tx, { id, tenant_id: fields.tenant_id, after });
    if (fields.tenant_id !== current.tenant_id) {
      await refuseDroppingUpstream(tx, id, `move job ${id} to another tenant`);
    }
    const row = {
      ...fields,
      after_job_ids: after,
      // New upstream jobs: what the old ones did no longer counts.
      ...(fields.schedule === current.schedule ? {} : { dependency_runs: jsonb(tx, {}) }),
      // A waiting slot only waits under queue_one.
      ...(fields.overlap === 'queue_one' ? {} : { queued_for: null }),
      starts_at: instantOrNull(fields.starts_at),
      ends_at: instantOrNull(fields.ends_at),
      retry: jsonb(tx, fields.retry),
      metadata: jsonb(tx, { ...checked.config, ...engineMetadata(current.metadata) }),
      next_run: timingChanged ? checked.nextRun : current.next_run,
      updated_at: now,
      // Activated again: the reason the system switched it off no longer holds.
      inactive_reason: fields.is_active ? null : current.inactive_reason,
      // Setting is_active either way ends a pause; turning a job off also drops its pending retry.
      ...(body.is_active === undefined ? {} : endedPause),
      ...(fields.is_active ? {} : noPendingRetry),
    };
    const [job] = await nameTaken(
      fields,
      () =>
        tx<JobRow[]>`update cron_job set ${tx(row)} where id = ${id} returning ${tx(JOB_COLUMNS)}`,
    );
    const secret = await keepSecret(ctx, tx, job!, body.secret);
    await recordAudit(tx, {
      job_id: id,
      // A move is recorded under the tenant the job left, so that tenant still sees it happen.
      tenant_id: current.tenant_id,
      action: 'update',
      actor: caller,
      changes: auditDiff(current, job!, body.secret !== undefined || secret !== undefined),
    });
    return { job: job!, warnings: checked.warnings, ...(secret ? { secret } : {}) };
  });
  await syncTriggers(ctx, [id]);
  return updated;
}

/**
 * A PUT's `metadata` is merged into the stored config key by key (JSON Merge Patch, RFC 7396, at
 * the top level): a key sent replaces the stored value, `null` removes the key so the executor's
 * default applies again, and keys left out keep their value. Nothing is reset unless asked.
 */
function mergeConfig(
  stored: Record<string, unknown>,
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const merged = { ...stored, ...patch };
  for (const [key, value] of Object.entries(patch)) if (value === null) delete merged[key];
  return merged;
}

/** Its runs and audit entries stay (readable by admins) until retention removes them. */
export async function deleteJob(ctx: AppContext, caller: Caller, id: string): Promise<void> {
  await ctx.sql.begin(async (tx) => {
    const [deleted] = isUuid(id)
      ? await tx<JobRow[]>`
          delete from cron_job where id = ${id} ${tenantScope(tx, caller)}
          returning ${tx(JOB_COLUMNS)}`
      : [];
    if (!deleted) throw jobNotFound(id);
    await refuseDroppingUpstream(tx, id, `delete job ${id}`);
    await recordAudit(tx, {
      job_id: id,
      tenant_id: deleted.tenant_id,
      action: 'delete',
      actor: caller,
      changes: auditDiff(deleted, undefined, false),
    });
  });
  // Best effort: a trigger left behind fires once for a job that no longer exists, which the
  // engine treats as a no-op, and Scheduler then deletes it.
  await ctx.triggers?.disarm(id).catch((error: unknown) =>
    ctx.log.warn('could not remove the exact-time trigger of a deleted job', {
      job_id: id,
      error: errorMessage(error),
    }),
  );
}

export async function listRuns(
  ctx: AppContext,
  caller: Caller,
  id: string,
  query: { limit: number; status?: string | undefined },
): Promise<RunRow[]> {
  const { limit, status } = query;
  const runs = () => ctx.sql<RunRow[]>`
    select ${ctx.sql(RUN_COLUMNS)} from cron_job_run where job_id = ${id}
      ${status === undefined ? ctx.sql`` : ctx.sql`and status = ${status}`}
    order by started_at desc, id desc
    limit ${limit}`;
  try {
    await findScopedJob(ctx.sql, caller, id, ['id']);
  } catch (error) {
    // A deleted job's runs stay readable by admins until retention removes them.
    if (caller.admin && isUuid(id)) {
      const kept = await runs();
      if (kept.length > 0) return kept;
    }
    throw error;
  }
  return runs();
}

/**
 * The audit diff of a job write. The signing secret lives in its own table and never in an
 * entry: when a request set or generated one, the entry says so, redacted.
 */
const ENGINE_OWNED: ReadonlySet<string> = new Set(ENGINE_METADATA_KEYS);

function auditDiff(
  before: JobRow | undefined,
  after: JobRow | undefined,
  secretChanged: boolean,
): Record<string, FieldChange> {
  const changes = diffJob(
    before as Record<string, unknown> | undefined,
    after as Record<string, unknown> | undefined,
    ENGINE_OWNED,
  );
  if (secretChanged) changes.secret = { after: '[redacted]' };
  return changes;
}

/**
 * Queues a manual run of a job now and returns it, `running` and not yet started: it executes in
 * a worker (locally a worker process with WORKERS=N, or this process after the answer when there
 * are none), never in the API request. It neither reads nor moves `next_run`. The
 * one-running-run-per-job index makes a second concurrent run impossible, whether it comes from
 * here or from a sweep: a job with a run in progress (or queued) answers 409.
 */
export async function runJobNow(ctx: AppContext, caller: Caller, id: string): Promise<RunRow> {
  const { sql } = ctx;
  const deadline = new Date(Date.now() + QUEUED_LEASE_SECONDS * 1000);
  const run = await sql.begin(async (tx) => {
    const job = await findScopedJob<Pick<JobRow, 'tenant_id' | 'paused_at' | 'paused_reason'>>(
      tx,
      caller,
      id,
      ['id', 'tenant_id', 'paused_at', 'paused_reason'],
      { forUpdate: true },
    );
    if (job.paused_at) {
      throw new ConflictError(`job ${id} is paused (${job.paused_reason}); resume it to run it`);
    }
    const busy = new ConflictError(
      `a run of job ${id} is in progress; try again when it has finished`,
    );
    const inserted = await insertManualRun(tx, id, deadline, { dispatched: true }).catch(
      (error: unknown) => {
        throw isUniqueViolation(error, 'cron_job_run_one_running') ? busy : error;
      },
    );
    if (!inserted) throw busy;
    await recordAudit(tx, {
      job_id: id,
      tenant_id: job.tenant_id,
      action: 'run',
      actor: caller,
      changes: { run_id: { after: inserted.id } },
    });
    const [row] = await tx<RunRow[]>`
      select ${tx(RUN_COLUMNS)} from cron_job_run where id = ${inserted.id}`;
    return row!;
  });
  try {
    await runQueueOf(ctx).send([run.id]);
  } catch (error) {
    await releaseRuns(sql, [run.id], { notPickedUp: true });
    throw error;
  }
  return run;
}

/** One run of a job the caller may see; 404 when the job or the run (of that job) is not there. */
export async function getRun(
  ctx: AppContext,
  caller: Caller,
  jobId: string,
  runId: string,
): Promise<RunRow> {
  await findScopedJob(ctx.sql, caller, jobId, ['id']);
  const [run] = isUuid(runId)
    ? await ctx.sql<RunRow[]>`
        select ${ctx.sql(RUN_COLUMNS)} from cron_job_run where id = ${runId} and job_id = ${jobId}`
    : [];
  if (!run) throw new NotFoundError(`job ${jobId} has no run with id ${JSON.stringify(runId)}`);
  return run;
}

const inProcessQueues = new WeakMap<AppContext, RunQueue>();

function runQueueOf(ctx: AppContext): RunQueue {
  if (ctx.runQueue) return ctx.runQueue;
  let queue = inProcessQueues.get(ctx);
  if (!queue) {
    queue = createInProcessRunQueue(ctx);
    inProcessQueues.set(ctx, queue);
  }
  return queue;
}

function instantOrNull(value: string | null): Date | null {
  return value === null ? null : new Date(value);
}

const endedPause = { paused_reason: null, paused_at: null, paused_by: null, paused_until: null };
const noPendingRetry = { retry_at: null, retry_for: null, retry_attempt: null };

function validateJob(
  ctx: AppContext,
  fields: JobFields,
  now: Date,
  options: { skipExecutor?: boolean; spreadOffsetMs?: number } = {},
): { config: Record<string, unknown>; nextRun: Date | null; warnings: string[] } {
  const errors: FieldError[] = [];
  const warnings: string[] = [];
  let config: Record<string, unknown> = {};
  let nextRun: Date | null = null;

  const zoneValid = isValidTimeZone(fields.timezone);
  if (!zoneValid) {
    errors.push({
      path: 'timezone',
      message: `unknown time zone ${JSON.stringify(fields.timezone)}: use an IANA name such as UTC or Europe/Berlin`,
    });
  }
  let scheduleValid = true;
  try {
    parseSchedule(fields.schedule);
  } catch (error) {
    scheduleValid = false;
    errors.push({ path: 'schedule', message: (error as Error).message });
  }
  const startsAt = instantOrNull(fields.starts_at);
  const endsAt = instantOrNull(fields.ends_at);
  const windowValid = !(startsAt && endsAt && startsAt >= endsAt);
  if (!windowValid) {
    errors.push({ path: 'ends_at', message: `must be later than starts_at (${fields.starts_at})` });
  }
  if (zoneValid && scheduleValid && windowValid) {
    try {
      nextRun = timing(ctx, fields, now, errors, warnings, options.spreadOffsetMs ?? 0);
    } catch (error) {
      // A form that parses may still have no slot in this zone (at:9999-12-31T23:59:59 west of UTC).
      if (!(error instanceof ScheduleError)) throw error;
      errors.push({ path: 'schedule', message: error.message });
    }
  }
  if (!fields.is_active) nextRun = null;
  if (fields.max_concurrent_runs > 1 && fields.overlap !== 'allow') {
    errors.push({
      path: 'max_concurrent_runs',
      message: `must be 1 unless overlap is "allow" (it is ${JSON.stringify(fields.overlap)})`,
    });
  }
  if (fields.precise && fields.schedule.startsWith(AFTER_PREFIX)) {
    errors.push({
      path: 'precise',
      message:
        'an after: job has no time slots to start exactly at: it runs at the first sweep after ' +
        'its upstream jobs succeed; set precise to false',
    });
  }
  if (fields.retry.initial_delay_seconds > fields.retry.max_delay_seconds) {
    errors.push({
      path: 'retry.initial_delay_seconds',
      message: `must not exceed max_delay_seconds (${fields.retry.max_delay_seconds})`,
    });
  }

  const executor = ctx.registry.get(fields.function_name);
  if (options.skipExecutor) {
    // Only for switching off a job whose executor is gone: nothing to validate against.
  } else if (!executor) {
    errors.push({
      path: 'function_name',
      message: `unknown executor ${JSON.stringify(fields.function_name)}: registered executors are ${ctx.registry.names().join(', ')}`,
    });
  } else {
    const parsed = z.safeParse(executor.configSchema, executorConfig(fields.metadata));
    if (parsed.success) config = parsed.data as Record<string, unknown>;
    else {
      for (const issue of parsed.error.issues) {
        const path = ['metadata', ...issue.path.map(String)];
        // As in the request body, each unknown config key is named as a field of its own.
        if (issue.code === 'unrecognized_keys') {
          for (const key of issue.keys) {
            errors.push({ path: [...path, key].join('.'), message: 'unknown field' });
          }
        } else {
          errors.push({ path: path.join('.'), message: issue.message });
        }
      }
    }
  }
  if (errors.length > 0) throw new ValidationError(errors);
  return { config, nextRun, warnings };
}

/** The job's next slot; adds an error when there is none, a warning when it fires too often. */
function timing(
  ctx: AppContext,
  fields: JobFields,
  now: Date,
  errors: FieldError[],
  warnings: string[],
  spreadOffsetMs: number,
): Date | null {
  // An `after:` job has no slots: it runs when its upstream jobs succeed (checkDependencies).
  if (fields.schedule.startsWith(AFTER_PREFIX)) return null;
  const next = nextRunOf(
    {
      schedule: fields.schedule,
      timezone: fields.timezone,
      spread_offset_ms: spreadOffsetMs,
      starts_at: instantOrNull(fields.starts_at),
      ends_at: instantOrNull(fields.ends_at),
    },
    now,
  );
  if (next === null && fields.is_active) {
    if (nextSlot(fields.schedule, fields.timezone, now) === null) {
      errors.push({
        path: 'schedule',
        message: `${fields.schedule} is in the past in ${fields.timezone}; it would never run`,
      });
    } else {
      errors.push({
        path: 'ends_at',
        message:
          `no slot of ${fields.schedule} in ${fields.timezone} lies between now` +
          `${fields.starts_at ? ` (or starts_at ${fields.starts_at})` : ''} and ends_at ` +
          `${fields.ends_at}; the job would never run`,
      });
    }
  }
  const interval = shortestIntervalSeconds(fields.schedule, fields.timezone, now);
  if (fields.spread_seconds > 0 && interval !== null && fields.spread_seconds >= interval) {
    errors.push({
      path: 'spread_seconds',
      message: `must be shorter than the interval between two slots of ${fields.schedule} (${interval} s)`,
    });
  }
  if (
    fields.is_active &&
    !fields.precise &&
    interval !== null &&
    interval < ctx.settings.sweepIntervalSeconds
  ) {
    warnings.push(
      `schedule fires every ${interval} s but the sweep runs every ${ctx.settings.sweepIntervalSeconds} s: ` +
        'the job runs at most once per sweep, up to one interval late, and the slots in between ' +
        'are recorded as missed (see catch_up)',
    );
  }
  return next?.runAt ?? null;
}

async function nameTaken<T>(fields: JobFields, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (isUniqueViolation(error, 'cron_job_name_unique')) {
      const scope =
        fields.tenant_id === null
          ? 'among global jobs'
          : `in tenant ${JSON.stringify(fields.tenant_id)}`;
      throw new ConflictError(`a job named ${JSON.stringify(fields.name)} already exists ${scope}`);
    }
    throw error;
  }
}

function encodeCursor(createdMicros: string, id: string): string {
  return Buffer.from(`${createdMicros}.${id}`).toString('base64url');
}

function decodeCursor(cursor: string): { us: string; id: string } {
  const match = /^(\d{1,17})\.([0-9a-f-]{36})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match || !isUuid(match[2]!)) {
    throw new ValidationError([
      { path: 'cursor', message: 'not a cursor this API returned: pass next_cursor unchanged' },
    ]);
  }
  return { us: match[1]!, id: match[2]! };
}
