import { app, tools } from '../lib/lambda/app';
import { createLambdaHandler } from '../lib/lambda/handler';
import { runJob } from '../lib/lambda/run-job';

export const handler = createLambdaHandler(tools, runJob(app));
