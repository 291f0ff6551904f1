import { app } from '../lib/lambda/app';
import { tools } from '../lib/lambda/tools';
import { createLambdaHandler } from '../lib/lambda/handler';
import { runJob } from '../lib/lambda/run-job';

export const handler = createLambdaHandler(tools, runJob(app));
