import { listJobsRoute } from '../lib/http/handlers';
import { lambdaApiHandler } from '../lib/lambda/api';

export const handler = lambdaApiHandler('list-jobs', listJobsRoute);
