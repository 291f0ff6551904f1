import { deleteJobRoute } from '../lib/http/handlers';
import { lambdaApiHandler } from '../lib/lambda/api';

export const handler = lambdaApiHandler('delete-job', deleteJobRoute);
