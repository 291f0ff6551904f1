import type { AppContext } from '../app-context';
import { ValidationError } from '../errors';
import { pauseJob as pauseJobRow, resumeJob as resumeJobRow } from '../engine/pause';
import { syncTriggers } from '../engine/triggers';
import type { Caller } from '../identity/caller';
import type { PauseJobBody } from './schemas';
import { recordAudit } from './audit';
import { findScopedJob } from './scope';
import { getJob, type JobRow } from './service';

type PauseFields = Pick<
  JobRow,
  'id' | 'tenant_id' | 'schedule' | 'timezone' | 'paused_at' | 'paused_reason' | 'paused_until'
>;
const PAUSE_COLUMNS = [
  'id',
  'tenant_id',
  'schedule',
  'timezone',
  'paused_at',
  'paused_reason',
  'paused_until',
] as const;

/**
 * Pauses a job the caller may see: it stops running (its exact-time trigger is removed) until
 * resumed, or until `until` when given. Pausing a paused job replaces its reason and end.
 * `paused_by` is the caller's subject; the audit trail records the pause.
 */
export async function pauseJob(
  ctx: AppContext,
  caller: Caller,
  id: string,
  body: PauseJobBody,
  now = new Date(),
): Promise<JobRow> {
  const until = body.until === undefined ? null : new Date(body.until);
  if (until && until <= now) {
    throw new ValidationError([
      { path: 'until', message: 'must be in the future; omit it to pause until resumed' },
    ]);
  }
  await ctx.sql.begin(async (tx) => {
    const job = await findScopedJob<PauseFields>(tx, caller, id, PAUSE_COLUMNS, {
      forUpdate: true,
    });
    await pauseJobRow(tx, id, { reason: body.reason, until, by: caller.subject, now });
    await recordAudit(tx, {
      job_id: id,
      tenant_id: job.tenant_id,
      action: 'pause',
      actor: caller,
      changes: {
        paused_reason: { before: job.paused_reason, after: body.reason },
        paused_until: { before: job.paused_until, after: until },
      },
    });
  });
  await syncTriggers(ctx, [id]);
  return getJob(ctx, caller, id);
}

/**
 * Resumes a paused job from its first slot after now, re-arming its exact-time trigger.
 * Idempotent: a job that is not paused (resumed already, or switched off with PUT is_active) is
 * returned unchanged.
 */
export async function resumeJob(
  ctx: AppContext,
  caller: Caller,
  id: string,
  now = new Date(),
): Promise<JobRow> {
  await ctx.sql.begin(async (tx) => {
    const job = await findScopedJob<PauseFields>(tx, caller, id, PAUSE_COLUMNS, {
      forUpdate: true,
    });
    if (!job.paused_at) return;
    await resumeJobRow(tx, job, now, now);
    await recordAudit(tx, {
      job_id: id,
      tenant_id: job.tenant_id,
      action: 'resume',
      actor: caller,
      changes: { paused_reason: { before: job.paused_reason, after: null } },
    });
  });
  await syncTriggers(ctx, [id]);
  return getJob(ctx, caller, id);
}
