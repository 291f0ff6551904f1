import { getRunRoute } from '../lib/http/run-route';
import { lambdaApiHandler } from '../lib/lambda/api';

export const handler = lambdaApiHandler('get-run', getRunRoute);
