import { createApiHandler } from '../http/api-handler';
import { authorizerCallers } from '../http/identify';
import { routeTable, type RouteName } from '../http/route-table';
import { routeHandlers } from '../http/routes';
import { app, jwtIdentity, log } from './app';

/**
 * A route of the route table as an API Gateway HTTP API Lambda. API Gateway authenticates (IAM or
 * JWT); the handler reads the caller from the authorizer context and applies the route's access rule.
 */
export function lambdaApiHandler(name: RouteName) {
  const route = routeTable.find((candidate) => candidate.name === name)!;
  return createApiHandler(routeHandlers[name], {
    app: async () => app,
    log,
    access: route.access,
    identify: authorizerCallers(jwtIdentity),
  });
}
