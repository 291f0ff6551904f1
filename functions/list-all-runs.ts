import { listAllRunsRoute } from '../lib/http/runs-route';
import { lambdaApiHandler } from '../lib/lambda/api';

export const handler = lambdaApiHandler('list-all-runs', listAllRunsRoute);
