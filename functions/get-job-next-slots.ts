import { jobNextSlotsRoute } from '../lib/http/schedule-preview-route';
import { lambdaApiHandler } from '../lib/lambda/api';

export const handler = lambdaApiHandler('get-job-next-slots', jobNextSlotsRoute);
