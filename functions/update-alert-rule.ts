import { updateAlertRuleRoute } from '../lib/http/alerts-routes';
import { lambdaApiHandler } from '../lib/lambda/api';

export const handler = lambdaApiHandler('update-alert-rule', updateAlertRuleRoute);
