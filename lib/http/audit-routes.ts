import * as z from 'zod';
import { listAudit, listJobAudit } from '../jobs/audit';
import { limit, tenantId } from '../jobs/schemas';
import { findScopedJob, isUuid, jobNotFound } from '../jobs/scope';
import { routeWithQuery } from './api-handler';

export const jobAuditQuery = z.strictObject({ limit: limit(50) });

export const auditQuery = z.strictObject({
  tenant_id: tenantId.optional(),
  job_id: z.uuid().optional(),
  actor: z.string().min(1).max(300).optional(),
  before: z
    .string()
    .regex(/^[0-9]{1,18}$/, 'must be next_before of the previous page')
    .transform(Number)
    .optional()
    .meta({ type: 'integer', minimum: 1, description: 'next_before of the previous page' }),
  limit: limit(50),
});

const fieldChange = z.object({ before: z.unknown().optional(), after: z.unknown().optional() });
export const auditEntrySchema = z.object({
  id: z.string().regex(/^[0-9]+$/),
  job_id: z.uuid(),
  tenant_id: z.string().nullable(),
  action: z.enum(['create', 'update', 'delete', 'run', 'pause', 'resume', 'backfill']),
  actor: z.string(),
  actor_tenant_id: z.string().nullable(),
  request_id: z.string().nullable(),
  at: z.iso.datetime(),
  changes: z.record(z.string(), fieldChange),
});

/**
 * GET /api/cron/jobs/{id}/audit: scoped like the job. A tenant caller sees the entries recorded
 * while the job was in its tenant; an admin also those of a deleted job, until retention.
 */
export const getJobAuditRoute = routeWithQuery(jobAuditQuery, async (request, app, { limit }) => {
  const id = request.params.id ?? '';
  const { caller } = request;
  let entries;
  try {
    await findScopedJob(app.sql, caller, id, ['id']);
    entries = await listJobAudit(app.sql, caller, id, limit);
  } catch (error) {
    if (!caller.admin || !isUuid(id)) throw error;
    entries = await listJobAudit(app.sql, caller, id, limit);
    if (entries.length === 0) throw jobNotFound(id);
  }
  return { status: 200, body: { entries } };
});

/** GET /api/cron/audit: every tenant's entries, for admins (the route table says so). */
export const listAuditRoute = routeWithQuery(auditQuery, async (_request, app, query) => ({
  status: 200,
  body: await listAudit(app.sql, query),
}));
