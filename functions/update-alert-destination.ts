import { updateAlertDestinationRoute } from '../lib/http/alerts-routes';
import { lambdaApiHandler } from '../lib/lambda/api';

export const handler = lambdaApiHandler('update-alert-destination', updateAlertDestinationRoute);
