import { afterAll, describe, expect, it } from 'vitest';
import { createExampleRegistry } from '../../examples/registry';
import { createDemoSchema, loadDemoData } from '../../lib/demo-data';
import { createLocalApp } from '../../lib/local/app';
import { startLocalServer } from '../../lib/local/server';
import { silentLog } from '../../lib/logger';
import { createTestDatabase } from '../helpers/database';

// The tutorial's executor end to end, as docs/adding-an-executor.md walks through it: the local
// server with the example's registry on a database with the demo data, the job created through
// the API, a sweep through the API, and the run and its effect checked.
const { sql } = await createTestDatabase();
await createDemoSchema(sql);
await loadDemoData(sql);
const app = await createLocalApp({
  sql,
  registry: createExampleRegistry(),
  log: silentLog,
  sweepIntervalSeconds: 300,
});
const server = await startLocalServer({ app, log: silentLog, host: '127.0.0.1', port: 0 });
afterAll(async () => {
  app.close();
  await server.close();
});

const api = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${server.url}/api/cron${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? JSON.parse(text) : undefined,
  };
};

const activeUsers = async (tenantId: string) => {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from users where tenant_id = ${tenantId} and is_active`;
  return row!.n;
};

describe('the example executor through the API', () => {
  it('is listed with its config schema', async () => {
    const { status, body } = await api('GET', '/executors');
    expect(status).toBe(200);
    const example = body.executors.find(
      (executor: { name: string }) => executor.name === 'deactivateDormantUsers',
    );
    expect(example.config_schema.properties).toMatchObject({
      dormant_days: { type: 'integer', default: 90 },
      dry_run: { type: 'boolean', default: false },
    });
  });

  it('refuses a job whose config fails the schema, naming the field', async () => {
    const { status, body } = await api('POST', '/jobs', {
      name: 'Bad config',
      schedule: 'daily',
      function_name: 'deactivateDormantUsers',
      metadata: { dormant_days: 0, dormant_day: 5 },
    });
    expect(status).toBe(400);
    expect(body.errors.map((error: { path: string }) => error.path).sort()).toEqual([
      'metadata.dormant_day',
      'metadata.dormant_days',
    ]);
  });

  it('creates the job with a POST, and a sweep runs it for its tenant only', async () => {
    await sql`
      update users
      set metadata = jsonb_set(metadata, '{last_seen}', to_jsonb(now() - interval '200 days'))
      where tenant_id in ('acme', 'globex') and metadata->>'live_status' = 'offline'`;
    const before = { acme: await activeUsers('acme'), globex: await activeUsers('globex') };

    const created = await api('POST', '/jobs', {
      name: 'Deactivate dormant users',
      tenant_id: 'acme',
      schedule: 'cron:0 3 * * *',
      timezone: 'Europe/Berlin',
      function_name: 'deactivateDormantUsers',
    });
    expect(created.status).toBe(201);
    const job = created.body;
    expect(created.headers.get('location')).toBe(`/api/cron/jobs/${job.id}`);
    expect(job).toMatchObject({
      tenant_id: 'acme',
      is_active: true,
      metadata: { dormant_days: 90, dry_run: false, execution_count: 0 },
    });

    // Its slot comes: the sweep (POST /api/cron/run, as the scheduled one) runs it.
    const slot = new Date(Date.now() - 60_000);
    await sql`update cron_job set next_run = ${slot} where id = ${job.id}`;
    const swept = await api('POST', '/run');
    expect(swept.status).toBe(200);
    expect(swept.body.results).toContainEqual({
      job_id: job.id,
      name: 'Deactivate dormant users',
      status: 'success',
      duration_ms: expect.any(Number),
      result: { users: 5, employees: 0 },
    });

    const runs = await api('GET', `/jobs/${job.id}/runs`);
    expect(runs.body.runs).toHaveLength(1);
    expect(runs.body.runs[0]).toMatchObject({
      trigger: 'schedule',
      status: 'success',
      scheduled_for: slot.toISOString(),
      result: { users: 5, employees: 0 },
      error: null,
    });
    expect(await activeUsers('acme')).toBe(before.acme - 5);
    expect(await activeUsers('globex')).toBe(before.globex);

    const after = await api('GET', `/jobs/${job.id}`);
    expect(after.body.metadata).toMatchObject({
      execution_count: 1,
      error_count: 0,
      last_execution_status: 'success',
      last_error: null,
    });
    // Back on its schedule: the next 03:00 in Berlin.
    expect(new Date(after.body.next_run).getTime()).toBeGreaterThan(Date.now());
    expect(
      new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Europe/Berlin',
        hour: '2-digit',
        minute: '2-digit',
      }).format(new Date(after.body.next_run)),
    ).toBe('03:00');
  });
});
