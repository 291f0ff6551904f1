import { listAuditRoute } from '../lib/http/audit-routes';
import { lambdaApiHandler } from '../lib/lambda/api';

export const handler = lambdaApiHandler('list-audit', listAuditRoute);
