import { runJobNowRoute } from '../lib/http/run-route';
import { lambdaApiHandler } from '../lib/lambda/api';

export const handler = lambdaApiHandler('run-job-now', runJobNowRoute);
