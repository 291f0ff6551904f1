import { app, runRetentionDays, sweepDispatch } from '../lib/lambda/app';
import { tools } from '../lib/lambda/tools';
import { createLambdaHandler } from '../lib/lambda/handler';
import { runDueJobs } from '../lib/lambda/run-due-jobs';

export const handler = createLambdaHandler(
  tools,
  runDueJobs(app, { runRetentionDays, dispatch: sweepDispatch }),
);
