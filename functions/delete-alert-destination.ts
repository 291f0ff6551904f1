import { lambdaApiHandler } from '../lib/lambda/api';

export const handler = lambdaApiHandler('delete-alert-destination');
