import { testAlertDestinationRoute } from '../lib/http/alerts-routes';
import { lambdaApiHandler } from '../lib/lambda/api';

export const handler = lambdaApiHandler('test-alert-destination', testAlertDestinationRoute);
