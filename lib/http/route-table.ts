/**
 * Every HTTP route, once. The CDK stack creates one Lambda function and API Gateway route per
 * entry from `functions/<name>.ts`; the local server serves the same entries with the same
 * handlers, so the two cannot drift.
 */
export interface RouteDefinition {
  /** Function name, and the entry file `functions/<name>.ts`. */
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** API Gateway path syntax: `{id}` is a path parameter. */
  path: string;
  /** False only for health: every other route requires the caller to be authorized. */
  auth: boolean;
}

export const routeTable: readonly RouteDefinition[] = [
  { name: 'health', method: 'GET', path: '/api/cron/health', auth: false },
  { name: 'openapi', method: 'GET', path: '/api/cron/openapi.json', auth: true },
  { name: 'list-jobs', method: 'GET', path: '/api/cron/jobs', auth: true },
  { name: 'create-job', method: 'POST', path: '/api/cron/jobs', auth: true },
  { name: 'get-job', method: 'GET', path: '/api/cron/jobs/{id}', auth: true },
  { name: 'update-job', method: 'PUT', path: '/api/cron/jobs/{id}', auth: true },
  { name: 'delete-job', method: 'DELETE', path: '/api/cron/jobs/{id}', auth: true },
  { name: 'run-job-now', method: 'POST', path: '/api/cron/jobs/{id}/run', auth: true },
  { name: 'list-runs', method: 'GET', path: '/api/cron/jobs/{id}/runs', auth: true },
  {
    name: 'get-run-log',
    method: 'GET',
    path: '/api/cron/jobs/{id}/runs/{run_id}/log',
    auth: true,
  },
  { name: 'run-sweep', method: 'POST', path: '/api/cron/run', auth: true },
  { name: 'list-executors', method: 'GET', path: '/api/cron/executors', auth: true },
  { name: 'get-system', method: 'GET', path: '/api/cron/system', auth: true },
];
