import { pauseJobRoute } from '../lib/http/pause-handlers';
import { lambdaApiHandler } from '../lib/lambda/api';

export const handler = lambdaApiHandler('pause-job', pauseJobRoute);
