import { createJobRoute } from '../lib/http/handlers';
import { lambdaApiHandler } from '../lib/lambda/api';

export const handler = lambdaApiHandler('create-job', createJobRoute);
