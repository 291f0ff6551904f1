import { deleteAlertDestinationRoute } from '../lib/http/alerts-routes';
import { lambdaApiHandler } from '../lib/lambda/api';

export const handler = lambdaApiHandler('delete-alert-destination', deleteAlertDestinationRoute);
