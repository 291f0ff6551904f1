import * as z from 'zod';
import { limit, RUN_STATUSES, runSchema, tenantId, text } from '../jobs/schemas';
import { listAllRuns } from '../runs/list-runs';
import { routeWithQuery } from './api-handler';

const instant = z.iso
  .datetime({ offset: true })
  .transform((value) => new Date(value))
  .meta({ type: 'string', format: 'date-time' });

export const listAllRunsQuery = z.strictObject({
  status: z.enum(RUN_STATUSES).optional(),
  from: instant.optional().describe('Runs started at or after this instant (ISO 8601)'),
  to: instant.optional().describe('Runs started before this instant (ISO 8601)'),
  tenant_id: tenantId.optional(),
  function_name: text().min(1).max(100).optional().describe('The executor the job runs'),
  limit: limit(50),
  cursor: text().min(1).max(200).optional(),
});

export const runPageSchema = z.object({
  runs: z.array(
    runSchema.extend({
      job_name: z.string(),
      tenant_id: z.string().nullable(),
      function_name: z.string(),
    }),
  ),
  next_cursor: z.string().nullable(),
});

/** GET /api/cron/runs: runs across jobs, newest first, scoped to the caller like jobs. */
export const listAllRunsRoute = routeWithQuery(listAllRunsQuery, async (request, app, query) => ({
  status: 200,
  body: await listAllRuns(app, request.caller, query),
}));
