import { pauseJob, resumeJob } from '../jobs/pause';
import { pauseJobBody } from '../jobs/schemas';
import type { RouteHandler } from './api-handler';
import { parseInput } from './parse-input';

export const pauseJobRoute: RouteHandler = async (request, app) => ({
  status: 200,
  body: await pauseJob(
    app,
    request.caller,
    request.params.id ?? '',
    parseInput(pauseJobBody, request.body ?? {}),
  ),
});

export const resumeJobRoute: RouteHandler = async (request, app) => ({
  status: 200,
  body: await resumeJob(app, request.caller, request.params.id ?? ''),
});
