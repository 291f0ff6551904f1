import { listRunsRoute } from '../lib/http/handlers';
import { lambdaApiHandler } from '../lib/lambda/api';

export const handler = lambdaApiHandler('list-runs', listRunsRoute);
