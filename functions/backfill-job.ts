import { backfillJobRoute } from '../lib/http/backfill-route';
import { lambdaApiHandler } from '../lib/lambda/api';

export const handler = lambdaApiHandler('backfill-job', backfillJobRoute);
