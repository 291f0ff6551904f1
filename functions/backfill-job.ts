import { lambdaApiHandler } from '../lib/lambda/api';

export const handler = lambdaApiHandler('backfill-job');
