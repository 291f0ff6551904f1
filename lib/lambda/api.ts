import { createApiHandler, type RouteHandler } from '../http/api-handler';
import { app, log } from './app';

/**
 * A route handler as an API Gateway HTTP API Lambda. Authorization happens in API Gateway (IAM or
 * JWT), so the bearer-token check of the local stack is off here.
 */
export function lambdaApiHandler(route: RouteHandler) {
  return createApiHandler(route, { app: async () => app, log, auth: false });
}
