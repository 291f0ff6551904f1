import { previewScheduleRoute } from '../lib/http/schedule-preview-route';
import { lambdaApiHandler } from '../lib/lambda/api';

export const handler = lambdaApiHandler('preview-schedule', previewScheduleRoute);
