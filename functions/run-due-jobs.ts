import { app, runRetentionDays, sweepDispatch, tools } from '../lib/lambda/app';
import { createLambdaHandler } from '../lib/lambda/handler';
import { runDueJobs } from '../lib/lambda/run-due-jobs';

export const handler = createLambdaHandler(
  tools,
  runDueJobs(app, { runRetentionDays, dispatch: sweepDispatch }),
);
