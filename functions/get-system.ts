import { getSystemRoute } from '../lib/http/system-route';
import { lambdaApiHandler } from '../lib/lambda/api';

export const handler = lambdaApiHandler('get-system', getSystemRoute);
