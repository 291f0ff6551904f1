import { getJobAuditRoute } from '../lib/http/audit-routes';
import { lambdaApiHandler } from '../lib/lambda/api';

export const handler = lambdaApiHandler('get-job-audit', getJobAuditRoute);
