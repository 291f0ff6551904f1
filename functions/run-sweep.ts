import { runSweepRoute } from '../lib/http/handlers';
import { lambdaApiHandler } from '../lib/lambda/api';

export const handler = lambdaApiHandler('run-sweep', runSweepRoute);
