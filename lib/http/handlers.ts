import { describeExecutors } from '../executors/describe';
import { missingTables } from '../executors/required-tables';
import {
  createJob,
  deleteJob,
  getJob,
  listJobs,
  listRuns,
  updateJob,
  type JobRow,
} from '../jobs/service';
import { createJobBody, listJobsQuery, listRunsQuery, updateJobBody } from '../jobs/schemas';
import { sweep } from '../engine/sweep';
import { routeWithQuery, type RouteHandler } from './api-handler';
import { parseInput } from './parse-input';
import { HttpProblem } from './problem';

// The platform ends an invocation at its deadline; the sweep keeps this much back for replying.
const REPLY_MARGIN_MS = 3_000;
const HEALTH_TIMEOUT_MS = 2_000;

/**
 * 200 while the database answers. `missing_tables` names, per built-in or custom executor, the CRM
 * tables it works on that the database lacks (empty when none is missing): the reason a default
 * job was seeded inactive.
 */
export const health: RouteHandler = async (_request, { sql, registry }) => {
  let missing: Record<string, string[]>;
  try {
    missing = await Promise.race([
      missingTables(sql, registry),
      new Promise<never>((_, reject) =>
        setTimeout(reject, HEALTH_TIMEOUT_MS, new Error('timeout')).unref(),
      ),
    ]);
  } catch {
    throw new HttpProblem(503, 'the database is unreachable');
  }
  return { status: 200, body: { status: 'ok', missing_tables: missing } };
};

export const listJobsRoute = routeWithQuery(listJobsQuery, async (request, app, query) => ({
  status: 200,
  body: await listJobs(app, request.caller, query),
}));

export const createJobRoute: RouteHandler = async (request, app) => {
  const { job, warnings, secret } = await createJob(
    app,
    request.caller,
    parseInput(createJobBody, request.body),
  );
  return {
    status: 201,
    headers: { location: `/api/cron/jobs/${job.id}` },
    body: jobResponse(job, warnings, secret),
  };
};

export const getJobRoute: RouteHandler = async (request, app) => ({
  status: 200,
  body: await getJob(app, request.caller, request.params.id ?? ''),
});

export const updateJobRoute: RouteHandler = async (request, app) => {
  const { job, warnings, secret } = await updateJob(
    app,
    request.caller,
    request.params.id ?? '',
    parseInput(updateJobBody, request.body),
  );
  return { status: 200, body: jobResponse(job, warnings, secret) };
};

/** A job as POST and PUT return it: warnings when there are any, a generated secret this once. */
function jobResponse(job: JobRow, warnings: string[], secret: string | undefined) {
  return {
    ...job,
    ...(warnings.length > 0 ? { warnings } : {}),
    ...(secret === undefined ? {} : { secret }),
  };
}

export const deleteJobRoute: RouteHandler = async (request, app) => {
  await deleteJob(app, request.caller, request.params.id ?? '');
  return { status: 204 };
};

export const listRunsRoute = routeWithQuery(listRunsQuery, async (request, app, query) => ({
  status: 200,
  body: { runs: await listRuns(app, request.caller, request.params.id ?? '', query) },
}));

export const runSweepRoute: RouteHandler = async (request, app) => ({
  status: 200,
  body: await sweep(app, {
    concurrency: app.settings.sweepConcurrency,
    deadline: new Date(Date.now() + request.remainingMs() - REPLY_MARGIN_MS),
  }),
});

export const listExecutorsRoute: RouteHandler = async (_request, { registry }) => ({
  status: 200,
  body: { executors: describeExecutors(registry) },
});
