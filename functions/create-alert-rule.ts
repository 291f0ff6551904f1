import { createAlertRuleRoute } from '../lib/http/alerts-routes';
import { lambdaApiHandler } from '../lib/lambda/api';

export const handler = lambdaApiHandler('create-alert-rule', createAlertRuleRoute);
