import type { AppContext } from '../app-context';
import type { AlertDeps } from '../alerts/destinations';
import {
  createDestination,
  deleteDestination,
  getDestination,
  listDestinations,
  updateDestination,
} from '../alerts/destinations';
import { listDeliveries, testDestination } from '../alerts/deliveries';
import { createRule, deleteRule, getRule, listRules, updateRule } from '../alerts/rules';
import {
  createDestinationBody,
  createRuleBody,
  listDeliveriesQuery,
  listDestinationsQuery,
  listRulesQuery,
  updateDestinationBody,
  updateRuleBody,
} from '../alerts/schemas';
import { defaultAlertSettings } from '../alerts/settings';
import { routeWithQuery, type RouteHandler } from './api-handler';
import { parseInput } from './parse-input';

let fallbackSettings: AppContext['alerts'];

/** The alert service's dependencies: the app's, with the default egress guard when it sets none. */
function alertDeps(app: AppContext): AlertDeps {
  return {
    sql: app.sql,
    log: app.log,
    alerts: app.alerts ?? (fallbackSettings ??= defaultAlertSettings()),
  };
}

const id = (params: Record<string, string>) => params.id ?? '';

export const listAlertDestinationsRoute = routeWithQuery(
  listDestinationsQuery,
  async (request, app, query) => ({
    status: 200,
    body: await listDestinations(alertDeps(app), request.caller, query),
  }),
);

export const createAlertDestinationRoute: RouteHandler = async (request, app) => ({
  status: 201,
  body: await createDestination(
    alertDeps(app),
    request.caller,
    parseInput(createDestinationBody, request.body ?? {}),
  ),
});

export const getAlertDestinationRoute: RouteHandler = async (request, app) => ({
  status: 200,
  body: await getDestination(alertDeps(app), request.caller, id(request.params)),
});

export const updateAlertDestinationRoute: RouteHandler = async (request, app) => ({
  status: 200,
  body: await updateDestination(
    alertDeps(app),
    request.caller,
    id(request.params),
    parseInput(updateDestinationBody, request.body ?? {}),
  ),
});

export const deleteAlertDestinationRoute: RouteHandler = async (request, app) => {
  await deleteDestination(alertDeps(app), request.caller, id(request.params));
  return { status: 204 };
};

export const testAlertDestinationRoute: RouteHandler = async (request, app) => ({
  status: 202,
  body: await testDestination(alertDeps(app), request.caller, id(request.params)),
});

export const listAlertRulesRoute = routeWithQuery(listRulesQuery, async (request, app, query) => ({
  status: 200,
  body: await listRules(alertDeps(app), request.caller, query),
}));

export const createAlertRuleRoute: RouteHandler = async (request, app) => ({
  status: 201,
  body: await createRule(
    alertDeps(app),
    request.caller,
    parseInput(createRuleBody, request.body ?? {}),
  ),
});

export const getAlertRuleRoute: RouteHandler = async (request, app) => ({
  status: 200,
  body: await getRule(alertDeps(app), request.caller, id(request.params)),
});

export const updateAlertRuleRoute: RouteHandler = async (request, app) => ({
  status: 200,
  body: await updateRule(
    alertDeps(app),
    request.caller,
    id(request.params),
    parseInput(updateRuleBody, request.body ?? {}),
  ),
});

export const deleteAlertRuleRoute: RouteHandler = async (request, app) => {
  await deleteRule(alertDeps(app), request.caller, id(request.params));
  return { status: 204 };
};

export const listAlertDeliveriesRoute = routeWithQuery(
  listDeliveriesQuery,
  async (request, app, query) => ({
    status: 200,
    body: await listDeliveries(alertDeps(app), request.caller, query),
  }),
);
