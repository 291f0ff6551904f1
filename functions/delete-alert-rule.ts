import { deleteAlertRuleRoute } from '../lib/http/alerts-routes';
import { lambdaApiHandler } from '../lib/lambda/api';

export const handler = lambdaApiHandler('delete-alert-rule', deleteAlertRuleRoute);
