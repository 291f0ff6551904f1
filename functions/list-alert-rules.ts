import { lambdaApiHandler } from '../lib/lambda/api';

export const handler = lambdaApiHandler('list-alert-rules');
