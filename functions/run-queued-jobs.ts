import { app } from '../lib/lambda/app';
import { tools } from '../lib/lambda/tools';
import { createLambdaHandler } from '../lib/lambda/handler';
import { runQueuedJobs } from '../lib/lambda/run-queued-jobs';

export const handler = createLambdaHandler(tools, runQueuedJobs(app));
