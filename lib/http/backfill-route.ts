import { backfillJob } from '../jobs/backfill';
import { backfillJobBody } from '../jobs/schemas';
import type { RouteHandler } from './api-handler';
import { parseInput } from './parse-input';

/**
 * POST /api/cron/jobs/{id}/backfill: a dry run answers 200 with the slots it would queue; a
 * backfill answers 202 with the slots it queued, which the sweep runs (never the API function).
 */
export const backfillJobRoute: RouteHandler = async (request, app) => {
  const body = parseInput(backfillJobBody, request.body ?? {});
  const result = await backfillJob(app, request.caller, request.params.id ?? '', body);
  return { status: result.dry_run ? 200 : 202, body: result };
};
