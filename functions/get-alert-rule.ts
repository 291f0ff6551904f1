import { getAlertRuleRoute } from '../lib/http/alerts-routes';
import { lambdaApiHandler } from '../lib/lambda/api';

export const handler = lambdaApiHandler('get-alert-rule', getAlertRuleRoute);
