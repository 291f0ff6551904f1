import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { APIGatewayProxyEventV2, ScheduledEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCronApp, functionEntry } from '../../infra/cron-app';
import { createDemoSchema, loadDemoData } from '../../lib/demo-data';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

const runner = path.join(import.meta.dirname, 'fixtures', 'invoke-bundle.mjs');
const stub = path.join(import.meta.dirname, 'fixtures', 'stub-handler.ts');
const invoked = new Set(['migrate', 'health', 'create-job', 'run-due-jobs', 'run-queued-jobs']);

interface Bundle {
  dir: string;
  environment: Record<string, string>;
  /** The function's timeout: what the context's getRemainingTimeInMillis starts from. */
  timeoutMs: number;
}

let outdir: string;
let bundles: Map<string, Bundle>;
let db: TestDatabase;

/**
 * Runs a bundle from `cdk.out` in a fresh Node process, outside the repository (no node_modules
 * to fall back on), with the environment the stack gives it plus `DATABASE_URL`.
 */
function invoke(name: string, events: unknown[]): Promise<{ results: unknown[]; stdout: string }> {
  const bundle = bundles.get(name);
  if (!bundle) throw new Error(`no bundle for ${name}`);
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [runner, bundle.dir, name, String(bundle.timeoutMs)],
      {
        cwd: bundle.dir,
        env: {
          PATH: process.env.PATH,
          TZ: 'UTC',
          AWS_REGION: 'eu-west-1',
          AWS_LAMBDA_FUNCTION_NAME: name,
          ...bundle.environment,
          DATABASE_URL: db.url,
        },
        timeout: 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`${name} failed: ${error.message}\n${stderr}`));
        const results = stdout
          .split('\n')
          .filter((line) => line.startsWith('RESULT '))
          .map((line) => JSON.parse(line.slice('RESULT '.length)));
        resolve({ results, stdout });
      },
    );
    child.stdin?.end(JSON.stringify(events));
  });
}

function apiEvent(
  method: string,
  routePath: string,
  options: {
    path?: string;
    body?: unknown;
    pathParameters?: Record<string, string>;
    /** The authorizer context API Gateway adds; default: an IAM (SigV4) caller. */
    authorizer?: unknown;
  } = {},
): APIGatewayProxyEventV2 & { requestContext: { authorizer: unknown } } {
  const rawPath = options.path ?? routePath;
  const now = new Date();
  return {
    version: '2.0',
    routeKey: `${method} ${routePath}`,
    rawPath,
    rawQueryString: '',
    headers: {
      accept: '*/*',
      'content-length':
        options.body === undefined ? '0' : String(JSON.stringify(options.body).length),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      host: 'abcdef1234.execute-api.eu-west-1.amazonaws.com',
      'user-agent': 'curl/8.5.0',
      'x-amzn-trace-id': 'Root=1-67890abc-0123456789abcdef01234567',
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
    },
    ...(options.pathParameters ? { pathParameters: options.pathParameters } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'abcdef1234',
      authorizer: options.authorizer ?? {
        iam: {
          accessKey: 'ASIAEXAMPLE',
          accountId: '123456789012',
          callerId: 'AROAEXAMPLE:ops',
          cognitoIdentity: null,
          principalOrgId: null,
          userArn: 'arn:aws:sts::123456789012:assumed-role/ops/ops',
          userId: 'AROAEXAMPLE:ops',
        },
      },
      domainName: 'abcdef1234.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'abcdef1234',
      http: {
        method,
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.7',
        userAgent: 'curl/8.5.0',
      },
      requestId: `${randomUUID().slice(0, 8)}=`,
      routeKey: `${method} ${routePath}`,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    isBase64Encoded: false,
  };
}

beforeAll(async () => {
  // A real synth, bundling included: what `cdk deploy` would upload. Functions this test does
  // not call get a stub entry (same bundling, a fraction of the time).
  outdir = mkdtempSync(path.join(tmpdir(), 'crm-cron-artifact-'));
  const { app, stack } = createCronApp({
    outdir,
    entry: (name) => (invoked.has(name) ? functionEntry(name) : stub),
  });
  const template = app.synth().getStackArtifact(stack.artifactId).template as {
    Resources: Record<string, { Properties: Record<string, never> }>;
  };
  bundles = new Map();
  for (const [name, fn] of stack.functions.byName) {
    const props = template.Resources[stack.getLogicalId(fn.node.defaultChild as never)]?.Properties;
    const key = (props?.Code as { S3Key: string } | undefined)?.S3Key ?? '';
    const variables = ((props?.Environment as { Variables?: Record<string, unknown> } | undefined)
      ?.Variables ?? {}) as Record<string, unknown>;
    bundles.set(name, {
      timeoutMs: Number(props?.Timeout) * 1000,
      dir: path.join(outdir, `asset.${key.replace(/\.zip$/, '')}`),
      // Tokens (the proxy endpoint, the secret ARN) only exist after deploy.
      environment: Object.fromEntries(
        Object.entries(variables).filter(
          (entry): entry is [string, string] => typeof entry[1] === 'string',
        ),
      ),
    });
  }
  db = await createTestDatabase({ migrated: false });
}, 300_000);
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('bundles as shipped', () => {
  it('migrate, create a job through the API, sweep it with a scheduled event', async () => {
    const migrated = await invoke('migrate', [{}, {}]);
    const [first, second] = migrated.results as {
      value: { applied: number[]; seeded: string[] };
    }[];
    expect(first?.value.applied.length).toBeGreaterThan(0);
    expect(first?.value.seeded).toHaveLength(3);
    expect(second?.value).toEqual({
      applied: [],
      adoption: { adopt: false, jobs: [], deactivated: [] },
      // The role exists since the template migrated: grants made exact again, nothing skipped.
      app_role: {
        role: 'crm_cron_app',
        created: false,
        granted: expect.arrayContaining(['cron_job', 'cron_job_run', 'cron_job_audit']),
        skipped: [],
      },
      seeded: [],
    });

    await createDemoSchema(db.sql);
    await loadDemoData(db.sql);

    const health = await invoke('health', [apiEvent('GET', '/api/cron/health')]);
    expect(health.results).toEqual([
      {
        value: expect.objectContaining({
          statusCode: 200,
          body: JSON.stringify({ status: 'ok', missing_tables: {} }),
        }),
      },
    ]);

    const created = await invoke('create-job', [
      apiEvent('POST', '/api/cron/jobs', {
        body: {
          name: 'artifact test',
          schedule: 'every_minute',
          function_name: 'markUsersOffline',
          metadata: { timeout_minutes: 5 },
        },
      }),
    ]);
    const [response] = created.results as { value: { statusCode: number; body: string } }[];
    expect(response?.value.statusCode).toBe(201);
    const job = JSON.parse(response?.value.body ?? '{}') as { id: string };
    await db.sql`update cron_job set next_run = now() - interval '1 minute' where id = ${job.id}`;
    // History from before the retention (the stack sets RUN_RETENTION_DAYS=30): 15 runs 40 days old.
    await db.sql`
      insert into cron_job_run (job_id, trigger, status, started_at, finished_at)
      select ${job.id}, 'manual', 'success', t, t
      from generate_series(now() - interval '40 days', now() - interval '40 days' + interval '14 hours', interval '1 hour') t`;

    const event: ScheduledEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: 'eu-west-1',
      resources: ['arn:aws:events:eu-west-1:123456789012:rule/CrmCron-SweepSchedule'],
      detail: {},
    };
    const swept = await invoke('run-due-jobs', [event]);
    const [summary] = swept.results as {
      value: { executed: number; results: { job_id: string; status: string }[] };
    }[];
    expect(summary?.value.results).toContainEqual(
      expect.objectContaining({ job_id: job.id, status: 'success' }),
    );
    // Powertools wrote the sweep's metrics as EMF to stdout, which Lambda sends to CloudWatch.
    expect(swept.stdout).toMatch(/"SweepSucceeded":1/);
    expect(swept.stdout).toMatch(/"Namespace":"CrmCron"/);
    const [run] = await db.sql<{ status: string }[]>`
      select status from cron_job_run where job_id = ${job.id} and trigger = 'schedule'`;
    expect(run?.status).toBe('success');
    // After the sweep, retention: the job keeps its 10 newest runs (the new one and 9 old ones).
    expect(bundles.get('run-due-jobs')?.environment.RUN_RETENTION_DAYS).toBe('30');
    expect(swept.stdout).toMatch(/"message":"run history pruned".*"deleted":6/);
    const [{ runs } = { runs: -1 }] = await db.sql<{ runs: number }[]>`
      select count(*)::int as runs from cron_job_run where job_id = ${job.id}`;
    expect(runs).toBe(10);

    // The worker function: a queued (dispatched) run, delivered twice in one batch, runs once;
    // a body that is no run message is dropped, not handed back.
    const [queued] = await db.sql<{ id: string }[]>`
      insert into cron_job_run (job_id, trigger, status, deadline, dispatched_at)
      values (${job.id}, 'manual', 'running', now() + interval '1 hour', now()) returning id`;
    const record = (messageId: string, body: string) => ({
      messageId,
      receiptHandle: messageId,
      body,
      attributes: {},
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:runs',
      awsRegion: 'eu-west-1',
    });
    const worked = await invoke('run-queued-jobs', [
      {
        Records: [
          record('m1', JSON.stringify({ run_id: queued!.id })),
          record('m2', JSON.stringify({ run_id: queued!.id })),
          record('m3', 'not a run message'),
        ],
      },
    ]);
    expect(worked.results).toEqual([{ value: { batchItemFailures: [] } }]);
    expect(worked.stdout).toMatch(/"JobsSucceeded":1/);
    const [workedRun] = await db.sql<{ status: string; dispatched_at: Date | null }[]>`
      select status, dispatched_at from cron_job_run where id = ${queued!.id}`;
    expect(workedRun).toEqual({ status: 'success', dispatched_at: null });

    // A JWT caller: the tenant comes from the authorizer context's claim, never from the body.
    const jwt = (claims: Record<string, string>) => ({
      jwt: { claims: { iss: 'https://issuer.example/', sub: 'user-7', ...claims }, scopes: null },
    });
    const body = { name: 'tenant job', schedule: 'daily', function_name: 'markUsersOffline' };
    const asTenant = await invoke('create-job', [
      apiEvent('POST', '/api/cron/jobs', { body, authorizer: jwt({ tenant_id: 'acme' }) }),
      apiEvent('POST', '/api/cron/jobs', {
        body: { ...body, tenant_id: 'globex' },
        authorizer: jwt({ tenant_id: 'acme' }),
      }),
      apiEvent('POST', '/api/cron/jobs', { body, authorizer: jwt({}) }),
    ]);
    const statuses = (asTenant.results as { value: { statusCode: number; body: string } }[]).map(
      (result) => result.value.statusCode,
    );
    expect(statuses).toEqual([201, 403, 403]);
    const [tenantJob] = asTenant.results as { value: { body: string } }[];
    expect(JSON.parse(tenantJob!.value.body)).toMatchObject({ tenant_id: 'acme' });
  }, 120_000);
});
