import { getRunLogRoute } from '../lib/http/run-log-route';
import { lambdaApiHandler } from '../lib/lambda/api';

export const handler = lambdaApiHandler('get-run-log', getRunLogRoute);
