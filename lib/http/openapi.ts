import * as z from 'zod';
import type { ExecutorRegistry } from '../executors/registry';
import {
  backfillJobBody,
  backfillResultSchema,
  createJobBody,
  jobSchema,
  listJobsQuery,
  listRunsQuery,
  pauseJobBody,
  problemSchema,
  runSchema,
  sweepSummarySchema,
  updateJobBody,
} from '../jobs/schemas';
import {
  createDestinationBody,
  createRuleBody,
  deliveryPageSchema,
  destinationSchema,
  destinationWithSecretSchema,
  listDeliveriesQuery,
  listDestinationsQuery,
  listRulesQuery,
  ruleSchema,
  testSendSchema,
  updateDestinationBody,
  updateRuleBody,
} from '../alerts/schemas';
import { auditEntrySchema, auditQuery, jobAuditQuery } from './audit-routes';
import { routeTable, type Access, type RouteName } from './route-table';
import { BACKFILL_MAX_SLOTS } from '../jobs/backfill';
import { runLogPageSchema, runLogQuery } from './run-log-route';
import { systemStatusSchema } from './system-route';
import { listAllRunsQuery, runPageSchema } from './runs-route';
import {
  jobNextSlotsQuery,
  jobNextSlotsSchema,
  schedulePreviewQuery,
  schedulePreviewSchema,
} from './schedule-preview-route';

const schema = (type: z.ZodType, io: 'input' | 'output' = 'output') =>
  z.toJSONSchema(type, { io, unrepresentable: 'any' });

const json = (ref: string) => ({
  'application/json': { schema: { $ref: `#/components/schemas/${ref}` } },
});
const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});
const ok = (description: string, ref: string) => ({ description, content: json(ref) });

function queryParameters(type: z.ZodObject) {
  const properties = (schema(type, 'input') as { properties: Record<string, object> }).properties;
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: false,
    schema: property,
  }));
}

const idParameter = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', format: 'uuid' },
};
const serverError = { $ref: '#/components/responses/ServerError' };
const runIdParameter = {
  name: 'run_id',
  in: 'path',
  required: true,
  schema: { type: 'string', format: 'uuid' },
};
// Every route but health runs the same auth and body parsing, so any of them can answer these.
const errors = {
  '500': serverError,
  '400': problem('Invalid input, unknown query parameters included; `errors` names each field'),
  '401': problem('Missing bearer token (local stack with CRON_API_TOKEN)'),
  '403': problem('Not authorized'),
  '413': problem('Body over 64 KiB'),
  '415': problem('Body is not JSON'),
};

function operations(): Record<RouteName, object> {
  return {
    health: {
      summary: 'Liveness and database reachability',
      security: [],
      responses: {
        '200': {
          description: 'Up',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  status: { const: 'ok' },
                  missing_tables: {
                    type: 'object',
                    description:
                      'Per executor, the CRM tables it works on that the database lacks (empty: none). A default job whose tables are missing is seeded inactive.',
                    additionalProperties: { type: 'array', items: { type: 'string' } },
                  },
                },
                required: ['status', 'missing_tables'],
              },
            },
          },
        },
        '400': problem('Health takes no query parameters'),
        '500': serverError,
        '503': problem('The database is unreachable'),
      },
    },
    openapi: {
      summary: 'This document',
      responses: {
        '200': {
          description: 'OpenAPI 3.1 document',
          content: { 'application/json': { schema: { type: 'object' } } },
        },
        ...errors,
      },
    },
    'list-jobs': {
      summary: 'List jobs, oldest first, with keyset paging',
      parameters: queryParameters(listJobsQuery),
      responses: { '200': ok('A page of jobs', 'JobPage'), ...errors },
    },
    'create-job': {
      summary: 'Create a job',
      requestBody: { required: true, content: json('CreateJob') },
      responses: {
        '201': { ...ok('Created', 'Job'), headers: { Location: { schema: { type: 'string' } } } },
        ...errors,
        '409': problem('Name taken in this tenant'),
        '413': problem('Body over 64 KiB'),
        '415': problem('Body is not JSON'),
      },
    },
    'get-job': {
      summary: 'One job',
      parameters: [idParameter],
      responses: { '200': ok('The job', 'Job'), ...errors, '404': problem('No such job') },
    },
    'update-job': {
      summary: 'Change some of a job’s writable fields',
      parameters: [idParameter],
      requestBody: { required: true, content: json('UpdateJob') },
      responses: {
        '200': ok('The updated job', 'Job'),
        ...errors,
        '404': problem('No such job'),
        '409': problem(
          'Name taken in this tenant, or (moving it to another tenant) an after: schedule names the job',
        ),
        '413': problem('Body over 64 KiB'),
        '415': problem('Body is not JSON'),
      },
    },
    'delete-job': {
      summary: 'Delete a job; its runs and audit entries stay readable by admins until retention',
      parameters: [idParameter],
      responses: {
        '204': { description: 'Deleted' },
        ...errors,
        '404': problem('No such job'),
        '409': problem('An after: schedule of another job names this job: change that first'),
      },
    },
    'run-job-now': {
      summary:
        'Queue a run of a job now, whatever its next_run (next_run does not move); it executes in a worker, never in the API function',
      parameters: [idParameter],
      responses: {
        '202': {
          ...ok('The queued run (`running`, not yet finished); follow `Location`', 'QueuedRun'),
          headers: { Location: { schema: { type: 'string' } } },
        },
        ...errors,
        '404': problem('No such job'),
        '409': problem(
          'The job is busy (a run in progress; overlap allow: max_concurrent_runs of them), or paused',
        ),
      },
    },
    'pause-job': {
      summary: 'Pause a job with a reason, until resumed or until `until`',
      description:
        'A paused job never runs: it is inactive (next_run null), its pending retry is dropped ' +
        'and its exact-time trigger removed. With `until` it resumes by itself at the first ' +
        'sweep after that time, from its first slot after `until`. Pausing again replaces the ' +
        'reason and end.',
      parameters: [idParameter],
      requestBody: { required: true, content: json('PauseJob') },
      responses: {
        '200': ok('The paused job', 'Job'),
        ...errors,
        '404': problem('No such job'),
      },
    },
    'resume-job': {
      summary: 'Resume a paused job from its first slot after now',
      description:
        'Idempotent: a job that is not paused is returned unchanged (a job switched off with ' +
        'PUT is_active false stays off).',
      parameters: [idParameter],
      responses: {
        '200': ok('The resumed job', 'Job'),
        ...errors,
        '404': problem('No such job'),
      },
    },
    'backfill-job': {
      summary:
        'Run past slots of a job again: those in [from, to) that have not run (missed ones included)',
      description:
        'The job’s slots from `from` (inclusive) to `to` (exclusive, not later than now), inside ' +
        'its active window, that have no run but a missed or skipped one. A dry run lists them and ' +
        'changes nothing; otherwise they are queued and the sweep runs them after its due jobs, ' +
        'oldest first, one at a time, each a run with trigger `backfill` and its slot as ' +
        `scheduled_for. At most ${BACKFILL_MAX_SLOTS} slots per request. A slot that has run, or ` +
        'is queued already, is listed but not queued again, so repeating a backfill adds nothing.',
      parameters: [idParameter],
      requestBody: { required: true, content: json('BackfillJob') },
      responses: {
        '200': ok('Dry run: the slots a backfill would queue', 'BackfillResult'),
        '202': ok('The slots queued for the sweep', 'BackfillResult'),
        ...errors,
        '400': problem(
          `Invalid input: to not after from, to later than now, more than ${BACKFILL_MAX_SLOTS} slots in the range, an after: job (no time slots); \`errors\` names the field`,
        ),
        '404': problem('No such job'),
      },
    },
    'get-run': {
      summary: 'One run of a job: poll it after run-now until `finished_at` is set',
      parameters: [idParameter, runIdParameter],
      responses: {
        '200': ok('The run', 'Run'),
        ...errors,
        '404': problem('No such job, or no such run of it'),
      },
    },
    'list-runs': {
      summary: 'Run history of a job, newest first',
      parameters: [idParameter, ...queryParameters(listRunsQuery)],
      responses: { '200': ok('Runs', 'RunList'), ...errors, '404': problem('No such job') },
    },
    'run-sweep': {
      summary: 'Run every due job now, exactly as the scheduled sweep does',
      responses: { '200': ok('Sweep summary', 'SweepSummary'), ...errors },
    },
    'get-run-log': {
      summary:
        'What the run’s executor logged, oldest first, after line `after`; tail it while the run is in progress',
      parameters: [idParameter, runIdParameter, ...queryParameters(runLogQuery)],
      responses: {
        '200': ok(
          'Up to 500 lines; `complete` once the run has finished and none follow',
          'RunLog',
        ),
        ...errors,
        '404': problem('No such job, or no such run of it'),
      },
    },
    'list-all-runs': {
      summary:
        'Runs across jobs, newest first: filter by status, time range (from, to), tenant and executor; page with cursor',
      parameters: queryParameters(listAllRunsQuery),
      responses: { '200': ok('Runs and the next page’s cursor', 'RunPage'), ...errors },
    },
    'get-job-next-slots': {
      summary:
        'The job’s next slots (as the engine computes them) in local time and UTC, daylight-saving transitions marked; an inactive job’s too, with will_run false',
      parameters: [idParameter, ...queryParameters(jobNextSlotsQuery)],
      responses: {
        '200': ok('The next slots', 'JobNextSlots'),
        ...errors,
        '404': problem('No such job'),
      },
    },
    'preview-schedule': {
      summary:
        'The next slots of a schedule in a time zone, in local time and UTC, daylight-saving transitions marked; validates like a job write',
      parameters: queryParameters(schedulePreviewQuery).map((parameter) =>
        parameter.name === 'schedule' ? { ...parameter, required: true } : parameter,
      ),
      responses: { '200': ok('The next slots', 'SchedulePreview'), ...errors },
    },
    'get-system': {
      summary:
        'System panel: the last sweep, how far due jobs lag, failed and lost runs of the last 24 h',
      responses: { '200': ok('System status', 'SystemStatus'), ...errors },
    },
    'get-job-audit': {
      summary:
        'Who created, changed, ran, paused, resumed or deleted the job, newest first, with field-level before/after',
      parameters: [idParameter, ...queryParameters(jobAuditQuery)],
      responses: {
        '200': ok('Audit entries', 'AuditList'),
        ...errors,
        '404': problem('No such job (admins: nor audit entries of a deleted one)'),
      },
    },
    'list-audit': {
      summary: 'Every tenant’s audit entries, newest first (admins)',
      parameters: queryParameters(auditQuery),
      responses: { '200': ok('A page of audit entries', 'AuditPage'), ...errors },
    },
    'list-executors': {
      summary: 'Registered executors and the JSON Schema of their config',
      responses: { '200': ok('Executors', 'ExecutorList'), ...errors },
    },
    'list-alert-destinations': {
      summary: 'Alert destinations (webhook, slack, email) the caller may see; never their secrets',
      parameters: queryParameters(listDestinationsQuery),
      responses: { '200': ok('Destinations', 'AlertDestinationList'), ...errors },
    },
    'create-alert-destination': {
      summary:
        'Create a destination; a webhook’s signing secret is returned once, here. URLs resolving to non-public addresses are a 400 naming `url`',
      requestBody: { required: true, content: json('CreateAlertDestination') },
      responses: {
        '201': ok(
          'The destination (webhook: with `secret`, shown only now)',
          'AlertDestinationWithSecret',
        ),
        ...errors,
      },
    },
    'get-alert-destination': {
      summary: 'One destination, with its status (failing after a delivery gave up)',
      parameters: [idParameter],
      responses: {
        '200': ok('The destination', 'AlertDestination'),
        ...errors,
        '404': problem('No such destination'),
      },
    },
    'update-alert-destination': {
      summary:
        'Rename, change URL or address, or rotate a webhook’s secret (the new one returned once)',
      parameters: [idParameter],
      requestBody: { required: true, content: json('UpdateAlertDestination') },
      responses: {
        '200': ok('The destination (with `secret` after a rotation)', 'AlertDestinationWithSecret'),
        ...errors,
        '404': problem('No such destination'),
      },
    },
    'delete-alert-destination': {
      summary: 'Delete a destination with its rules and deliveries',
      parameters: [idParameter],
      responses: {
        '204': { description: 'Deleted' },
        ...errors,
        '404': problem('No such destination'),
      },
    },
    'test-alert-destination': {
      summary:
        'Queue a test alert (event alert.test) to the destination; follow it in GET /alerts/deliveries?destination_id=',
      parameters: [idParameter],
      responses: {
        '202': ok('The queued delivery', 'AlertTestSend'),
        ...errors,
        '404': problem('No such destination'),
      },
    },
    'list-alert-rules': {
      summary: 'Alert rules the caller may see: which events go to which destination',
      parameters: queryParameters(listRulesQuery),
      responses: { '200': ok('Rules', 'AlertRuleList'), ...errors },
    },
    'create-alert-rule': {
      summary: 'Send events of one job, or of all of a tenant’s jobs, to a destination',
      requestBody: { required: true, content: json('CreateAlertRule') },
      responses: { '201': ok('The rule', 'AlertRule'), ...errors },
    },
    'get-alert-rule': {
      summary: 'One rule',
      parameters: [idParameter],
      responses: { '200': ok('The rule', 'AlertRule'), ...errors, '404': problem('No such rule') },
    },
    'update-alert-rule': {
      summary: 'Change a rule’s events, threshold or enabled flag',
      parameters: [idParameter],
      requestBody: { required: true, content: json('UpdateAlertRule') },
      responses: { '200': ok('The rule', 'AlertRule'), ...errors, '404': problem('No such rule') },
    },
    'delete-alert-rule': {
      summary: 'Delete a rule (its deliveries stay in the log)',
      parameters: [idParameter],
      responses: { '204': { description: 'Deleted' }, ...errors, '404': problem('No such rule') },
    },
    'list-alert-deliveries': {
      summary:
        'Delivery log, newest first: status, attempts (each with status code and latency), next attempt; filter by status, destination, job, event',
      parameters: queryParameters(listDeliveriesQuery),
      responses: {
        '200': ok('Deliveries and the next page’s cursor', 'AlertDeliveryPage'),
        ...errors,
      },
    },
  };
}

/** Each route's access rule (route table), as the document states it. */
const ACCESS_DESCRIPTIONS: Record<Access, string> = {
  public: 'Access: public. No credentials needed.',
  tenant:
    'Access: tenant. Any authenticated caller; a tenant caller sees only its own tenant’s jobs ' +
    '(another tenant’s or a global job is a 404), an admin sees every job.',
  admin: 'Access: admin. Admin callers only; a tenant caller gets 403.',
};

/**
 * How callers prove who they are, one entry per scheme. Locally a bearer token; in AWS, API
 * Gateway checks IAM (SigV4, the default) or a JWT from the configured issuer before the function
 * runs.
 */
export const securitySchemes = {
  bearer: {
    type: 'http',
    scheme: 'bearer',
    description: 'Local stack: `Authorization: Bearer <token>` with CRON_API_TOKEN',
  },
  sigv4: {
    type: 'apiKey',
    in: 'header',
    name: 'Authorization',
    description:
      'AWS stack (default): IAM. Sign each request with AWS Signature Version 4 for the ' +
      'execute-api service; the caller needs execute-api:Invoke on the route',
    'x-amazon-apigateway-authtype': 'awsSigv4',
  },
  jwt: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'AWS stack with jwtIssuer and jwtAudience: `Authorization: Bearer <JWT>` from that issuer',
  },
} as const;

const cache = new WeakMap<ExecutorRegistry, object>();

/** OpenAPI 3.1, generated from the route table and the same zod schemas the handlers validate with. */
export function openApiDocument(registry: ExecutorRegistry): object {
  const cached = cache.get(registry);
  if (cached) return cached;
  const paths: Record<string, Record<string, object>> = {};
  const described = operations();
  for (const route of routeTable) {
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = {
      operationId: route.name,
      ...described[route.name],
      description: ACCESS_DESCRIPTIONS[route.access],
      'x-access': route.access,
    };
  }
  const document = {
    openapi: '3.1.0',
    info: {
      title: 'CRM cron jobs API',
      version: '1.0.0',
      description:
        `Scheduled background jobs. Executors: ${registry.names().join(', ')}. ` +
        'Every path answers a request that matches no route with 404 (NotFound), a method the ' +
        'path does not take with 405 and an Allow header (MethodNotAllowed), and an unexpected ' +
        'failure with 500 (ServerError), each an RFC 9457 problem document.',
    },
    servers: [{ url: '/' }],
    // Any one of the schemes: which one a deployment uses is its configuration.
    security: Object.keys(securitySchemes).map((name) => ({ [name]: [] })),
    paths,
    components: {
      securitySchemes,
      responses: {
        NotFound: problem('No route has this path (or no job has this id)'),
        MethodNotAllowed: {
          ...problem('The path is a route, but not for this method'),
          headers: {
            Allow: {
              description: 'The methods the path takes, e.g. "GET, POST"',
              schema: { type: 'string' },
            },
          },
        },
        ServerError: problem(
          'An unexpected failure; the detail names no cause, which is logged with the request id',
        ),
      },
      schemas: {
        CreateJob: schema(createJobBody, 'input'),
        UpdateJob: schema(updateJobBody, 'input'),
        PauseJob: schema(pauseJobBody, 'input'),
        BackfillJob: schema(backfillJobBody, 'input'),
        BackfillResult: schema(backfillResultSchema),
        Job: schema(jobSchema),
        JobPage: schema(z.object({ jobs: z.array(jobSchema), next_cursor: z.string().nullable() })),
        Run: schema(runSchema),
        QueuedRun: schema(runSchema.extend({ run_id: z.uuid() })),
        RunList: schema(z.object({ runs: z.array(runSchema) })),
        RunPage: schema(runPageSchema),
        SweepSummary: schema(sweepSummarySchema),
        RunLog: schema(runLogPageSchema),
        SystemStatus: schema(systemStatusSchema),
        AuditList: schema(z.object({ entries: z.array(auditEntrySchema) })),
        AuditPage: schema(
          z.object({ entries: z.array(auditEntrySchema), next_before: z.string().nullable() }),
        ),
        SchedulePreview: schema(schedulePreviewSchema),
        JobNextSlots: schema(jobNextSlotsSchema),
        ExecutorList: schema(
          z.object({
            executors: z.array(
              z.object({
                name: z.string(),
                description: z.string(),
                config_schema: z.record(z.string(), z.unknown()),
              }),
            ),
          }),
        ),
        CreateAlertDestination: schema(createDestinationBody, 'input'),
        UpdateAlertDestination: schema(updateDestinationBody, 'input'),
        AlertDestination: schema(destinationSchema),
        AlertDestinationWithSecret: schema(destinationWithSecretSchema),
        AlertDestinationList: schema(z.object({ destinations: z.array(destinationSchema) })),
        CreateAlertRule: schema(createRuleBody, 'input'),
        UpdateAlertRule: schema(updateRuleBody, 'input'),
        AlertRule: schema(ruleSchema),
        AlertRuleList: schema(z.object({ rules: z.array(ruleSchema) })),
        AlertDeliveryPage: schema(deliveryPageSchema),
        AlertTestSend: schema(testSendSchema),
        Problem: schema(problemSchema),
      },
    },
  };
  cache.set(registry, document);
  return document;
}
