import { createApiHandler, type RouteHandler } from '../http/api-handler';
import { authorizerCallers } from '../http/identify';
import { routeTable, type RouteName } from '../http/route-table';
import { app, jwtIdentity, log } from './app';

/**
 * A route of the route table as an API Gateway HTTP API Lambda. API Gateway authenticates (IAM or
 * JWT); the handler reads the caller from the authorizer context and applies the route's access rule.
 * `functions/<name>.ts` passes its route's handler (the one `routeHandlers` maps the name to)
 * itself, rather than looking it up in `routeHandlers`, so its bundle holds that route's code only.
 */
export function lambdaApiHandler(name: RouteName, handler: RouteHandler) {
  const route = routeTable.find((candidate) => candidate.name === name)!;
  return createApiHandler(handler, {
    app: async () => app,
    log,
    access: route.access,
    identify: authorizerCallers(jwtIdentity),
  });
}
