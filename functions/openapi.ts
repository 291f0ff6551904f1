import { openApiRoute } from '../lib/http/openapi-route';
import { lambdaApiHandler } from '../lib/lambda/api';

export const handler = lambdaApiHandler('openapi', openApiRoute);
