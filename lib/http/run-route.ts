import { getRun, runJobNow } from '../jobs/service';
import type { RouteHandler } from './api-handler';

/**
 * POST /api/cron/jobs/{id}/run: queues a manual run and answers 202 at once, with the run
 * (`running`, not yet started) and where to follow it. The run executes in a worker, never in
 * the API function, so its timeout is the job's, not the API's.
 */
export const runJobNowRoute: RouteHandler = async (request, app) => {
  const jobId = request.params.id ?? '';
  const run = await runJobNow(app, request.caller, jobId);
  return {
    status: 202,
    headers: { location: `/api/cron/jobs/${jobId}/runs/${run.id}` },
    body: { run_id: run.id, ...run },
  };
};

/** GET /api/cron/jobs/{id}/runs/{run_id}: one run; poll it after run-now until it has finished. */
export const getRunRoute: RouteHandler = async (request, app) => ({
  status: 200,
  body: await getRun(app, request.caller, request.params.id ?? '', request.params.run_id ?? ''),
});
