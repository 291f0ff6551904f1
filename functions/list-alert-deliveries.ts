import { listAlertDeliveriesRoute } from '../lib/http/alerts-routes';
import { lambdaApiHandler } from '../lib/lambda/api';

export const handler = lambdaApiHandler('list-alert-deliveries', listAlertDeliveriesRoute);
