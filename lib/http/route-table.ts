/**
 * Every HTTP route, once, with who may call it and what AWS rights its function needs. The CDK
 * stack creates one Lambda function and API Gateway route per entry from `functions/<name>.ts`
 * and grants exactly the declared rights; the local server serves the same entries with the same
 * handlers and access rules, so the two cannot drift.
 */

/**
 * Who may call a route:
 * - `public`: anyone, no credentials (health only);
 * - `tenant`: any authenticated caller; the job service scopes what a tenant caller sees to its
 *   own tenant (another tenant's or a global job is a 404), admins see everything;
 * - `admin`: admins only; a tenant caller gets 403.
 */
export type Access = 'public' | 'tenant' | 'admin';

/**
 * AWS rights a function may need beyond connecting to the database. `manage-schedules`: create
 * and delete EventBridge Scheduler schedules and pass their role (work that moves a job's
 * next_run keeps exact-time triggers in step).
 */
export type AwsRight = 'manage-schedules';

export interface RouteDefinition {
  /** Function name, and the entry file `functions/<name>.ts`. */
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** API Gateway path syntax: `{id}` is a path parameter. */
  path: string;
  access: Access;
  rights: readonly AwsRight[];
}

export const routeTable = [
  { name: 'health', method: 'GET', path: '/api/cron/health', access: 'public', rights: [] },
  { name: 'openapi', method: 'GET', path: '/api/cron/openapi.json', access: 'tenant', rights: [] },
  { name: 'list-jobs', method: 'GET', path: '/api/cron/jobs', access: 'tenant', rights: [] },
  {
    name: 'create-job',
    method: 'POST',
    path: '/api/cron/jobs',
    access: 'tenant',
    rights: ['manage-schedules'],
  },
  { name: 'get-job', method: 'GET', path: '/api/cron/jobs/{id}', access: 'tenant', rights: [] },
  {
    name: 'update-job',
    method: 'PUT',
    path: '/api/cron/jobs/{id}',
    access: 'tenant',
    rights: ['manage-schedules'],
  },
  {
    name: 'delete-job',
    method: 'DELETE',
    path: '/api/cron/jobs/{id}',
    access: 'tenant',
    rights: ['manage-schedules'],
  },
  {
    name: 'run-job-now',
    method: 'POST',
    path: '/api/cron/jobs/{id}/run',
    access: 'tenant',
    rights: [],
  },
  // Pausing and resuming move next_run, so they keep exact-time triggers in step.
  {
    name: 'pause-job',
    method: 'POST',
    path: '/api/cron/jobs/{id}/pause',
    access: 'tenant',
    rights: ['manage-schedules'],
  },
  {
    name: 'resume-job',
    method: 'POST',
    path: '/api/cron/jobs/{id}/resume',
    access: 'tenant',
    rights: ['manage-schedules'],
  },
  // Queues past slots for the sweep to run; moves no next_run, so no trigger to keep in step.
  {
    name: 'backfill-job',
    method: 'POST',
    path: '/api/cron/jobs/{id}/backfill',
    access: 'tenant',
    rights: [],
  },
  {
    name: 'list-runs',
    method: 'GET',
    path: '/api/cron/jobs/{id}/runs',
    access: 'tenant',
    rights: [],
  },
  {
    name: 'get-job-next-slots',
    method: 'GET',
    path: '/api/cron/jobs/{id}/next',
    access: 'tenant',
    rights: [],
  },
  // The slots of any schedule, without a job: reads nothing stored, so any caller may ask.
  {
    name: 'preview-schedule',
    method: 'GET',
    path: '/api/cron/schedules/preview',
    access: 'tenant',
    rights: [],
  },
  {
    name: 'get-run',
    method: 'GET',
    path: '/api/cron/jobs/{id}/runs/{run_id}',
    access: 'tenant',
    rights: [],
  },
  // Runs across jobs (the console's run list), scoped like jobs.
  { name: 'list-all-runs', method: 'GET', path: '/api/cron/runs', access: 'tenant', rights: [] },
  {
    name: 'get-run-log',
    method: 'GET',
    path: '/api/cron/jobs/{id}/runs/{run_id}/log',
    access: 'tenant',
    rights: [],
  },
  {
    name: 'get-job-audit',
    method: 'GET',
    path: '/api/cron/jobs/{id}/audit',
    access: 'tenant',
    rights: [],
  },
  { name: 'list-audit', method: 'GET', path: '/api/cron/audit', access: 'admin', rights: [] },
  {
    name: 'run-sweep',
    method: 'POST',
    path: '/api/cron/run',
    access: 'admin',
    rights: ['manage-schedules'],
  },
  {
    name: 'list-executors',
    method: 'GET',
    path: '/api/cron/executors',
    access: 'tenant',
    rights: [],
  },
  // Failure notifications (lib/alerts/), scoped like jobs: a tenant caller sees its tenant's.
  {
    name: 'list-alert-destinations',
    method: 'GET',
    path: '/api/cron/alerts/destinations',
    access: 'tenant',
    rights: [],
  },
  {
    name: 'create-alert-destination',
    method: 'POST',
    path: '/api/cron/alerts/destinations',
    access: 'tenant',
    rights: [],
  },
  {
    name: 'get-alert-destination',
    method: 'GET',
    path: '/api/cron/alerts/destinations/{id}',
    access: 'tenant',
    rights: [],
  },
  {
    name: 'update-alert-destination',
    method: 'PUT',
    path: '/api/cron/alerts/destinations/{id}',
    access: 'tenant',
    rights: [],
  },
  {
    name: 'delete-alert-destination',
    method: 'DELETE',
    path: '/api/cron/alerts/destinations/{id}',
    access: 'tenant',
    rights: [],
  },
  {
    name: 'test-alert-destination',
    method: 'POST',
    path: '/api/cron/alerts/destinations/{id}/test',
    access: 'tenant',
    rights: [],
  },
  {
    name: 'list-alert-rules',
    method: 'GET',
    path: '/api/cron/alerts/rules',
    access: 'tenant',
    rights: [],
  },
  {
    name: 'create-alert-rule',
    method: 'POST',
    path: '/api/cron/alerts/rules',
    access: 'tenant',
    rights: [],
  },
  {
    name: 'get-alert-rule',
    method: 'GET',
    path: '/api/cron/alerts/rules/{id}',
    access: 'tenant',
    rights: [],
  },
  {
    name: 'update-alert-rule',
    method: 'PUT',
    path: '/api/cron/alerts/rules/{id}',
    access: 'tenant',
    rights: [],
  },
  {
    name: 'delete-alert-rule',
    method: 'DELETE',
    path: '/api/cron/alerts/rules/{id}',
    access: 'tenant',
    rights: [],
  },
  {
    name: 'list-alert-deliveries',
    method: 'GET',
    path: '/api/cron/alerts/deliveries',
    access: 'tenant',
    rights: [],
  },
  // Sweep health across every tenant: for operators.
  { name: 'get-system', method: 'GET', path: '/api/cron/system', access: 'admin', rights: [] },
] as const satisfies readonly RouteDefinition[];

/** The name of a route: the route table is the one place a route name is spelled out. */
export type RouteName = (typeof routeTable)[number]['name'];

/** A route of the table, with its name typed. */
export type Route = RouteDefinition & { name: RouteName };
