import { app, tools } from '../lib/lambda/app';
import { createLambdaHandler } from '../lib/lambda/handler';
import { runQueuedJobs } from '../lib/lambda/run-queued-jobs';

export const handler = createLambdaHandler(tools, runQueuedJobs(app));
