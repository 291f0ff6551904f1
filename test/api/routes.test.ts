import { randomUUID } from 'node:crypto';
import Ajv2020 from 'ajv/dist/2020';
import { beforeEach, describe, expect, it } from 'vitest';
import { createDemoSchema } from '../../lib/demo-data';
import { executorConfig } from '../../lib/engine/metadata';
import { builtInExecutors } from '../../lib/executors/built-ins';
import { createRegistry } from '../../lib/executors/registry';
import { routeTable } from '../../lib/http/route-table';
import { gatedExecutor, insertJobs, openGate, testExecutors } from '../helpers/jobs';
import { expectMatchesOpenApi, expectProblem, startTestServer } from '../helpers/server';
import { waitFor } from '../helpers/wait';

const server = await startTestServer({
  registry: createRegistry([...builtInExecutors, ...testExecutors, gatedExecutor]),
});
const { sql, request, snapshot } = server;
await createDemoSchema(sql);

beforeEach(async () => {
  await sql`truncate cron_job cascade`;
});

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

async function create(body: Record<string, unknown>) {
  const response = await request('POST', '/api/cron/jobs', {
    body: { schedule: 'daily', function_name: 'noop', ...body },
  });
  expect(response.status, response.text).toBe(201);
  return response.body as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function jobRow(id: string) {
  const [row] = await sql<{ next_run: Date | null; metadata: Record<string, unknown> }[]>`
    select next_run, metadata from cron_job where id = ${id}`;
  return row;
}

/** Moves a job's next_run, as if its slot had come (or to a value no computation would give). */
async function setNextRun(id: string, nextRun: Date) {
  await sql`update cron_job set next_run = ${nextRun} where id = ${id}`;
}

describe('health, executors, openapi.json', () => {
  it('GET /health answers 200 {"status":"ok"} with the security headers', async () => {
    const response = await request('GET', '/api/cron/health');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'ok' });
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    });
  });

  it('GET /executors lists every registered executor with a JSON Schema of its config', async () => {
    const response = await request('GET', '/api/cron/executors');
    expect(response.status).toBe(200);
    const executors = response.body.executors as Array<{
      name: string;
      description: string;
      config_schema: Record<string, unknown>;
    }>;
    expect(executors.map((executor) => executor.name).sort()).toEqual(server.app.registry.names());
    const ajv = new Ajv2020({ strict: false });
    for (const executor of executors) {
      expect(executor.description.length).toBeGreaterThan(0);
      expect(executor.config_schema).toMatchObject({ type: 'object' });
      expect(() => ajv.compile(executor.config_schema)).not.toThrow();
    }
    const cleaner = executors.find((executor) => executor.name === 'cleanOldActivities')!;
    const validate = ajv.compile(cleaner.config_schema);
    expect(validate({ retention_days: 30 })).toBe(true);
    expect(validate({ retention_days: 0 })).toBe(false);
    expect(validate({ nonsense: 1 })).toBe(false);
  });

  it('GET /openapi.json is an OpenAPI 3.1 document describing every route', async () => {
    const response = await request('GET', '/api/cron/openapi.json');
    expect(response.status).toBe(200);
    expect(response.body.openapi).toBe('3.1.0');
    for (const route of routeTable) {
      expect(response.body.paths[route.path]?.[route.method.toLowerCase()]).toMatchObject({
        operationId: route.name,
      });
    }
  });

  it('the OpenAPI check rejects bodies the document does not describe', () => {
    const doc = server.openApi;
    expect(() =>
      expectMatchesOpenApi(doc, 'GET', '/api/cron/health', 200, {
        status: 'ok',
        missing_tables: {},
      }),
    ).not.toThrow();
    expect(() => expectMatchesOpenApi(doc, 'GET', '/api/cron/health', 200, { up: true })).toThrow();
    expect(() => expectMatchesOpenApi(doc, 'GET', '/api/cron/jobs', 200, { jobs: [{}] })).toThrow();
    expect(() => expectMatchesOpenApi(doc, 'GET', '/api/cron/jobs', 418, {})).toThrow();
    expect(() =>
      expectMatchesOpenApi(doc, 'GET', '/api/cron/jobs/{id}', 404, { status: 404 }),
    ).toThrow();
  });
});

describe('POST /jobs and GET /jobs/{id}', () => {
  it('creates a job: 201, Location, defaults applied and returned, engine keys ignored', async () => {
    const before = Date.now();
    const response = await request('POST', '/api/cron/jobs', {
      body: {
        name: 'Nightly cleanup',
        schedule: 'daily',
        function_name: 'cleanOldActivities',
        metadata: {
          retention_days: 30,
          execution_count: 99,
          error_count: 7,
          last_execution_status: 'error',
          last_error: 'forged',
          last_duration_ms: 5,
        },
      },
    });
    expect(response.status).toBe(201);
    const job = response.body;
    expect(response.headers.location).toBe(`/api/cron/jobs/${job.id}`);
    expect(job).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      tenant_id: null,
      name: 'Nightly cleanup',
      schedule: 'daily',
      timezone: 'UTC',
      function_name: 'cleanOldActivities',
      is_active: true,
      metadata: {
        retention_days: 30,
        batch_size: 1000,
        dry_run: false,
        execution_count: 0,
        error_count: 0,
        last_execution_status: null,
        last_error: null,
        last_duration_ms: null,
        consecutive_failures: 0,
      },
      timeout_seconds: 60,
      precise: false,
      retry: {
        max_attempts: 1,
        backoff: 'exponential',
        initial_delay_seconds: 30,
        max_delay_seconds: 3600,
      },
      pause_after_failures: null,
      overlap: 'skip',
      max_concurrent_runs: 1,
      priority: 0,
      paused_reason: null,
      paused_at: null,
      paused_by: null,
      paused_until: null,
      catch_up: 'latest',
      catch_up_window_seconds: 600,
      spread_seconds: 0,
      starts_at: null,
      ends_at: null,
      missed_count: 0,
      last_run: null,
      next_run: expect.stringMatching(/T00:00:00\.000Z$/),
      created_at: expect.stringMatching(ISO),
      updated_at: expect.stringMatching(ISO),
      inactive_reason: null,
    });
    const nextRun = Date.parse(job.next_run);
    expect(nextRun).toBeGreaterThan(before);
    expect(nextRun - before).toBeLessThanOrEqual(86_400_000);

    const fetched = await request('GET', response.headers.location!);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(job);
    expect((await jobRow(job.id))!.metadata).toEqual(job.metadata);
  });

  it('stores every optional field given and warns when the schedule outpaces the sweep', async () => {
    const response = await request('POST', '/api/cron/jobs', {
      body: {
        name: 'Presence',
        schedule: 'every_minute',
        function_name: 'markUsersOffline',
        timezone: 'Europe/Berlin',
        is_active: true,
        metadata: {},
        tenant_id: 'acme',
        timeout_seconds: 840,
        precise: false,
      },
    });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      tenant_id: 'acme',
      timezone: 'Europe/Berlin',
      timeout_seconds: 840,
      metadata: { timeout_minutes: 5 },
      warnings: [expect.stringContaining('every 60 s')],
    });
    const inactive = await create({ name: 'Dormant', is_active: false, timeout_seconds: 1 });
    expect(inactive).toMatchObject({ is_active: false, next_run: null, timeout_seconds: 1 });
    expect(inactive).not.toHaveProperty('warnings');
  });

  it('GET /jobs/{id} returns the job as stored', async () => {
    const job = await create({ name: 'one', tenant_id: 't1' });
    const response = await request('GET', `/api/cron/jobs/${job.id}`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual(job);
    // Upper-case hex is the same uuid.
    expect((await request('GET', `/api/cron/jobs/${job.id.toUpperCase()}`)).body).toEqual(job);
  });
});

describe('GET /jobs', () => {
  it('filters by is_active, tenant_id and function_name', async () => {
    const a1 = await create({ name: 'a1', tenant_id: 'acme' });
    const a2 = await create({ name: 'a2', tenant_id: 'acme', is_active: false });
    const g1 = await create({ name: 'g1', tenant_id: 'globex', function_name: 'fail' });
    const n1 = await create({ name: 'n1', function_name: 'fail', is_active: false });
    const ids = async (query: string) => {
      const response = await request('GET', `/api/cron/jobs${query}`);
      expect(response.status, response.text).toBe(200);
      expect(response.body.next_cursor).toBeNull();
      return (response.body.jobs as Array<{ id: string }>).map((job) => job.id);
    };
    expect(await ids('')).toEqual([a1.id, a2.id, g1.id, n1.id]);
    expect(await ids('?is_active=true')).toEqual([a1.id, g1.id]);
    expect(await ids('?is_active=false')).toEqual([a2.id, n1.id]);
    expect(await ids('?tenant_id=acme')).toEqual([a1.id, a2.id]);
    expect(await ids('?tenant_id=nobody')).toEqual([]);
    expect(await ids('?function_name=fail')).toEqual([g1.id, n1.id]);
    expect(await ids('?function_name=fail&is_active=false')).toEqual([n1.id]);
    expect(await ids('?tenant_id=acme&is_active=true&function_name=noop')).toEqual([a1.id]);
    const listed = (await request('GET', '/api/cron/jobs?tenant_id=acme&limit=1')).body;
    expect(listed.jobs).toEqual([a1]);
  });

  it('pages through next_cursor in a stable order without duplicates or gaps', async () => {
    // 25 jobs share one created_at (one statement), so the id tie-break has to hold the order.
    await insertJobs(sql, 25, { name: 'batch' });
    for (let i = 0; i < 6; i++) await create({ name: `single ${i}` });
    const all = await request('GET', '/api/cron/jobs?limit=200');
    expect(all.body.jobs).toHaveLength(31);
    expect(all.body.next_cursor).toBeNull();
    const everyId = (all.body.jobs as Array<{ id: string }>).map((job) => job.id);
    expect((await request('GET', '/api/cron/jobs')).body.jobs).toHaveLength(31); // default 50

    const pageThrough = async (limit: number) => {
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages < 100; pages++) {
        const query = new URLSearchParams({ limit: String(limit) });
        if (cursor !== null) query.set('cursor', cursor);
        const response = await request('GET', `/api/cron/jobs?${query}`);
        expect(response.status, response.text).toBe(200);
        const jobs = response.body.jobs as Array<{ id: string }>;
        expect(jobs.length).toBeLessThanOrEqual(limit);
        seen.push(...jobs.map((job) => job.id));
        cursor = response.body.next_cursor;
        if (cursor === null) break;
        expect(jobs).toHaveLength(limit);
      }
      return seen;
    };
    for (const limit of [1, 4, 7, 31]) {
      const seen = await pageThrough(limit);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual(everyId);
    }
    expect(await pageThrough(4)).toEqual(await pageThrough(4));
  });
});

describe('PUT /jobs/{id}', () => {
  async function ranOnce() {
    const job = await create({
      name: 'cleanup',
      schedule: 'hourly',
      function_name: 'cleanOldActivities',
      metadata: { retention_days: 10 },
      tenant_id: 'acme',
    });
    expect((await server.runNow(job.id)).body.status).toBe('success');
    const after = (await request('GET', `/api/cron/jobs/${job.id}`)).body;
    expect(after.metadata).toMatchObject({ execution_count: 1, last_execution_status: 'success' });
    return after as Record<string, unknown> & { id: string; metadata: Record<string, unknown> };
  }

  it('changes only the fields given; engine-owned metadata and next_run stay', async () => {
    const job = await ranOnce();
    const response = await request('PUT', `/api/cron/jobs/${job.id}`, {
      body: { name: 'renamed', timeout_seconds: 300 },
    });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      ...job,
      name: 'renamed',
      timeout_seconds: 300,
      updated_at: expect.stringMatching(ISO),
    });
    expect(Date.parse(response.body.updated_at)).toBeGreaterThanOrEqual(
      Date.parse(job.updated_at as string),
    );
    expect((await request('GET', `/api/cron/jobs/${job.id}`)).body).toEqual(response.body);

    const empty = await request('PUT', `/api/cron/jobs/${job.id}`, { body: {} });
    expect(empty.status).toBe(200);
    expect({ ...empty.body, updated_at: null }).toEqual({ ...response.body, updated_at: null });
  });

  it('merges a partial metadata into the stored config key by key; null restores a default', async () => {
    const job = await create({
      name: 'long retention',
      schedule: 'daily',
      function_name: 'cleanOldActivities',
      metadata: { retention_days: 3650, batch_size: 500 },
    });
    const put = async (metadata: Record<string, unknown>) => {
      const response = await request('PUT', `/api/cron/jobs/${job.id}`, { body: { metadata } });
      expect(response.status, response.text).toBe(200);
      expect((await jobRow(job.id))!.metadata).toEqual(response.body.metadata);
      return executorConfig(response.body.metadata);
    };
    // The outside review's case: a PUT setting only dry_run turned 3650 into the default 365.
    expect(await put({ dry_run: true })).toEqual({
      retention_days: 3650,
      batch_size: 500,
      dry_run: true,
    });
    expect(await put({ retention_days: null, batch_size: 200 })).toEqual({
      retention_days: 365,
      batch_size: 200,
      dry_run: true,
    });
    expect(await put({})).toEqual({ retention_days: 365, batch_size: 200, dry_run: true });
    const before = await snapshot();
    const refused = await request('PUT', `/api/cron/jobs/${job.id}`, {
      body: { metadata: { retention_days: 0 } },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.errors.map((e: { path: string }) => e.path)).toEqual([
      'metadata.retention_days',
    ]);
    expect(await snapshot()).toBe(before);
  });

  it('merges the executor config, applying defaults, and keeps the engine keys', async () => {
    const job = await ranOnce();
    const response = await request('PUT', `/api/cron/jobs/${job.id}`, {
      body: { metadata: { retention_days: 20, execution_count: 0, last_error: 'forged' } },
    });
    expect(response.status).toBe(200);
    expect(response.body.metadata).toEqual({
      retention_days: 20,
      batch_size: 1000,
      dry_run: false,
      execution_count: 1,
      error_count: 0,
      last_execution_status: 'success',
      last_error: null,
      last_duration_ms: job.metadata.last_duration_ms,
      consecutive_failures: 0,
    });
    expect(response.body.next_run).toBe(job.next_run);
    expect((await jobRow(job.id))!.metadata).toEqual(response.body.metadata);
  });

  it('recomputes next_run when schedule, timezone or is_active change, and only then', async () => {
    const job = await create({ name: 'timing', schedule: 'daily', tenant_id: null });
    // A next_run no schedule computation would produce, so any recomputation shows.
    const marker = new Date('2099-01-01T12:34:56.000Z');
    await setNextRun(job.id, marker);
    const put = async (body: Record<string, unknown>) => {
      const response = await request('PUT', `/api/cron/jobs/${job.id}`, { body });
      expect(response.status, response.text).toBe(200);
      return response.body as { next_run: string | null; is_active: boolean };
    };

    for (const body of [
      { name: 'timing 2' },
      { schedule: 'daily' },
      { timezone: 'UTC' },
      { is_active: true },
      { metadata: {}, timeout_seconds: 30, precise: false, tenant_id: 'acme' },
    ]) {
      expect((await put(body)).next_run, JSON.stringify(body)).toBe(marker.toISOString());
    }

    const quarter = await put({ schedule: 'every_15_minutes' });
    const next = Date.parse(quarter.next_run!);
    expect(next).toBeGreaterThan(Date.now());
    expect(next - Date.now()).toBeLessThanOrEqual(15 * 60_000);
    expect(new Date(next).getUTCMinutes() % 15).toBe(0);

    await setNextRun(job.id, marker);
    const kolkata = await put({ schedule: 'daily', timezone: 'Asia/Kolkata' });
    expect(kolkata.next_run).toMatch(/T18:30:00\.000Z$/);

    await setNextRun(job.id, marker);
    const zone = await put({ timezone: 'America/New_York' });
    expect(zone.next_run).toMatch(/T0[45]:00:00\.000Z$/);

    const off = await put({ is_active: false });
    expect(off).toMatchObject({ is_active: false, next_run: null });
    expect((await put({ schedule: 'hourly', timeout_seconds: 10 })).next_run).toBeNull();
    expect((await jobRow(job.id))!.next_run).toBeNull();

    const on = await put({ is_active: true });
    expect(on.is_active).toBe(true);
    expect(new Date(on.next_run!).getUTCMinutes()).toBe(0);
    expect(Date.parse(on.next_run!) - Date.now()).toBeLessThanOrEqual(3_600_000);
  });
});

describe('DELETE /jobs/{id}', () => {
  it('answers 204 with no body and keeps the run history (admins read it until retention)', async () => {
    const job = await create({ name: 'doomed' });
    const keep = await create({ name: 'kept' });
    for (const id of [job.id, job.id, keep.id]) {
      expect((await server.runNow(id)).body.status).toBe('success');
    }
    const response = await request('DELETE', `/api/cron/jobs/${job.id}`);
    expect(response.status).toBe(204);
    expect(response.text).toBe('');
    expectProblem(await request('GET', `/api/cron/jobs/${job.id}`), 404);
    expectProblem(await request('DELETE', `/api/cron/jobs/${job.id}`), 404);
    const runs = await sql<{ job_id: string }[]>`select job_id from cron_job_run order by job_id`;
    expect(runs.map((run) => run.job_id).sort()).toEqual([job.id, job.id, keep.id].sort());
    const kept = await request('GET', `/api/cron/jobs/${job.id}/runs`);
    expect(kept.status).toBe(200);
    expect(kept.body.runs).toHaveLength(2);
  });
});

describe('POST /jobs/{id}/run and GET /jobs/{id}/runs', () => {
  it('queues the run: 202 with the run and its Location at once; a worker runs it, next_run stays', async () => {
    const gate = randomUUID();
    const job = await create({
      name: 'manual',
      schedule: 'hourly',
      function_name: 'gated',
      metadata: { gate },
    });
    const response = await request('POST', `/api/cron/jobs/${job.id}/run`);
    // Answered while the executor is still held at its gate: the request did not run it.
    expect(response.status).toBe(202);
    expect(response.headers.location).toBe(`/api/cron/jobs/${job.id}/runs/${response.body.id}`);
    expect(response.body).toEqual({
      run_id: response.body.id,
      id: expect.any(String),
      job_id: job.id,
      scheduled_for: null,
      trigger: 'manual',
      status: 'running',
      attempt: 1,
      started_at: expect.stringMatching(ISO),
      finished_at: null,
      duration_ms: null,
      result: null,
      error: null,
      triggered_by: null,
      missed_count: null,
      missed_last: null,
    });
    openGate(gate);
    const finished = await waitFor('the run to finish', async () => {
      const run = await request('GET', response.headers.location!);
      return run.body.status === 'success' ? run : undefined;
    });
    expect(finished.status).toBe(200);
    expect(finished.body).toEqual({
      ...response.body,
      run_id: undefined,
      status: 'success',
      started_at: expect.stringMatching(ISO),
      finished_at: expect.stringMatching(ISO),
      duration_ms: expect.any(Number),
      result: { gate },
      missed_count: null,
      missed_last: null,
    });
    const after = (await request('GET', `/api/cron/jobs/${job.id}`)).body;
    expect(after.next_run).toBe(job.next_run);
    expect(after.metadata).toMatchObject({ execution_count: 1, last_execution_status: 'success' });
    const runs = await request('GET', `/api/cron/jobs/${job.id}/runs`);
    expect(runs.body).toEqual({ runs: [finished.body] });
  });

  it('records a failing run as an error', async () => {
    const job = await create({ name: 'failing', function_name: 'fail' });
    const run = await server.runNow(job.id);
    expect(run.body).toMatchObject({ trigger: 'manual', status: 'error', error: 'boom' });
    const after = (await request('GET', `/api/cron/jobs/${job.id}`)).body;
    expect(after.metadata).toMatchObject({
      execution_count: 1,
      error_count: 1,
      last_execution_status: 'error',
      last_error: 'boom',
    });
  });

  it('answers 409 while a run of the job is in progress', async () => {
    const gate = randomUUID();
    const job = await create({ name: 'slow', function_name: 'gated', metadata: { gate } });
    const first = await request('POST', `/api/cron/jobs/${job.id}/run`);
    expect(first.status).toBe(202);
    await waitFor('a worker to pick the run up', async () => {
      const [picked] = await sql`
        select 1 from cron_job_run where id = ${first.body.id} and dispatched_at is null`;
      return picked;
    });
    const before = await server.snapshot();
    const second = await request('POST', `/api/cron/jobs/${job.id}/run`);
    expectProblem(second, 409);
    expect(second.body.detail).toMatch(/in progress/);
    expect(await server.snapshot()).toBe(before);
    openGate(gate);
    const done = await waitFor('the first run to finish', async () => {
      const run = await request('GET', first.headers.location!);
      return run.body.status !== 'running' ? run : undefined;
    });
    expect(done.body).toMatchObject({ status: 'success', result: { gate } });
    // Once it has finished, the job runs again.
    expect((await server.runNow(job.id)).body.status).toBe('success');
  });

  it('GET /jobs/{id}/runs/{run_id} answers 404 for a run of another job or no run at all', async () => {
    const job = await create({ name: 'one' });
    const other = await create({ name: 'two' });
    const run = (await server.runNow(job.id)).body;
    expectProblem(await request('GET', `/api/cron/jobs/${other.id}/runs/${run.id}`), 404);
    expectProblem(await request('GET', `/api/cron/jobs/${job.id}/runs/${randomUUID()}`), 404);
    expectProblem(await request('GET', `/api/cron/jobs/${job.id}/runs/not-a-uuid`), 404);
  });

  it('lists runs newest first, limited by limit', async () => {
    const job = await create({ name: 'history' });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      ids.push((await server.runNow(job.id)).body.id);
    }
    const all = await request('GET', `/api/cron/jobs/${job.id}/runs`);
    expect(all.status).toBe(200);
    expect(all.body.runs.map((run: { id: string }) => run.id)).toEqual(ids.reverse());
    const started = all.body.runs.map((run: { started_at: string }) => Date.parse(run.started_at));
    expect([...started].sort((a, b) => b - a)).toEqual(started);
    const two = await request('GET', `/api/cron/jobs/${job.id}/runs?limit=2`);
    expect(two.body.runs).toEqual(all.body.runs.slice(0, 2));
    const other = await create({ name: 'no history' });
    expect((await request('GET', `/api/cron/jobs/${other.id}/runs?limit=200`)).body).toEqual({
      runs: [],
    });
  });
});

describe('POST /run', () => {
  it('runs every due job, exactly as the scheduled sweep does, and returns its summary', async () => {
    const ok = await create({ name: 'due ok', schedule: 'every_5_minutes' });
    const bad = await create({ name: 'due bad', schedule: 'hourly', function_name: 'fail' });
    const later = await create({ name: 'not due' });
    const off = await create({ name: 'inactive', is_active: false });
    const slot = new Date(Math.floor(Date.now() / 300_000) * 300_000);
    await setNextRun(ok.id, slot);
    await setNextRun(bad.id, slot);

    const response = await request('POST', '/api/cron/run');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ executed: 2, succeeded: 1, failed: 1, skipped: 0 });
    const results = [...response.body.results].sort((a, b) => a.name.localeCompare(b.name));
    expect(results).toEqual([
      {
        job_id: bad.id,
        name: 'due bad',
        status: 'error',
        duration_ms: expect.any(Number),
        error: 'boom',
      },
      {
        job_id: ok.id,
        name: 'due ok',
        status: 'success',
        duration_ms: expect.any(Number),
        result: { ok: true },
      },
    ]);
    const runs = (await request('GET', `/api/cron/jobs/${ok.id}/runs`)).body.runs;
    expect(runs).toMatchObject([
      { trigger: 'schedule', status: 'success', scheduled_for: slot.toISOString() },
    ]);
    const nextRun = Date.parse((await request('GET', `/api/cron/jobs/${ok.id}`)).body.next_run);
    expect(nextRun).toBeGreaterThan(Date.now());
    expect(nextRun % 300_000).toBe(0);
    for (const job of [later, off]) {
      expect((await request('GET', `/api/cron/jobs/${job.id}/runs`)).body.runs).toEqual([]);
    }
    expect((await request('POST', '/api/cron/run')).body).toMatchObject({
      executed: 0,
      results: [],
    });
  });
});
