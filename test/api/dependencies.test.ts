import { beforeEach, describe, expect, it } from 'vitest';
import { builtInExecutors } from '../../lib/executors/built-ins';
import { createRegistry } from '../../lib/executors/registry';
import { testExecutors } from '../helpers/jobs';
import { waitFor } from '../helpers/wait';
import { errorPaths, expectProblem, startTestServer, type TestResponse } from '../helpers/server';

// after: schedules, overlap and priority through the HTTP API: what is accepted and stored, what
// is refused (400 or 409 naming the problem, the database unchanged), and a dependency run seen
// in the run history.

const TOKENS = {
  acme: 'acme-token-0123456789',
  globex: 'globex-token-0123456789',
  admin: 'admin-token-0123456789',
};
const server = await startTestServer({
  tokens: `${TOKENS.acme}:alice:acme,${TOKENS.globex}:bob:globex,${TOKENS.admin}:root:*`,
  registry: createRegistry([...builtInExecutors, ...testExecutors]),
});
const { request, snapshot, sql } = server;
const as = (who: keyof typeof TOKENS) => ({ authorization: `Bearer ${TOKENS[who]}` });

beforeEach(async () => {
  await sql`truncate cron_job cascade`;
});

async function create(
  who: keyof typeof TOKENS,
  name: string,
  schedule: string,
  extra: Record<string, unknown> = {},
): Promise<TestResponse> {
  return request('POST', '/api/cron/jobs', {
    body: { name, schedule, function_name: 'noop', ...extra },
    headers: as(who),
  });
}

async function created(who: keyof typeof TOKENS, name: string, schedule: string) {
  const response = await create(who, name, schedule);
  expect(response.status, response.text).toBe(201);
  return response.body as { id: string };
}

/** The request is refused with `status`, naming `path` (400) or matching `detail`; nothing changes. */
async function expectRefused(
  send: () => Promise<TestResponse>,
  status: 400 | 409,
  expected: { path?: string; detail: RegExp },
) {
  const before = await snapshot();
  const response = await send();
  expectProblem(response, status);
  if (expected.path) expect(errorPaths(response)).toContain(expected.path);
  expect(response.body.detail).toMatch(expected.detail);
  expect(await snapshot()).toBe(before);
}

describe('after: schedules through the API', () => {
  it('creates an after: job: active, no next_run, and its preview says it has no time slots', async () => {
    const a = await created('acme', 'A', 'hourly');
    const b = await create('acme', 'B', `after:${a.id}`);
    expect(b.status, b.text).toBe(201);
    expect(b.body).toMatchObject({
      schedule: `after:${a.id}`,
      is_active: true,
      next_run: null,
      precise: false,
      overlap: 'skip',
      max_concurrent_runs: 1,
      priority: 0,
    });
    const next = await request('GET', `/api/cron/jobs/${b.body.id}/next?count=5`, {
      headers: as('acme'),
    });
    expect(next.status).toBe(200);
    expect(next.body.slots).toEqual([]);
    expect(next.body.note).toMatch(/no time slots.*runs once each time job .* succeeded/);
    const preview = await request(
      'GET',
      `/api/cron/schedules/preview?schedule=after:${a.id},${b.body.id}`,
      { headers: as('acme') },
    );
    expect(preview.status).toBe(200);
    expect(preview.body.slots).toEqual([]);
    expect(preview.body.note).toMatch(/all of jobs/);
    const hourly = await request('GET', '/api/cron/schedules/preview?schedule=hourly&count=1', {
      headers: as('acme'),
    });
    expect(hourly.body.note).toBeUndefined();
  });

  it('refuses a cycle with 400, directly or through other jobs, and changes nothing', async () => {
    const a = await created('acme', 'A', 'hourly');
    const b = await created('acme', 'B', `after:${a.id}`);
    const c = await created('acme', 'C', `after:${b.id}`);
    await expectRefused(
      () =>
        request('PUT', `/api/cron/jobs/${a.id}`, {
          body: { schedule: `after:${c.id}` },
          headers: as('acme'),
        }),
      400,
      { path: 'schedule', detail: /cycle/ },
    );
    await expectRefused(
      () =>
        request('PUT', `/api/cron/jobs/${a.id}`, {
          body: { schedule: `after:${b.id}` },
          headers: as('admin'),
        }),
      400,
      { path: 'schedule', detail: /cycle/ },
    );
    await expectRefused(
      () =>
        request('PUT', `/api/cron/jobs/${b.id}`, {
          body: { schedule: `after:${b.id}` },
          headers: as('acme'),
        }),
      400,
      { path: 'schedule', detail: /after itself/ },
    );
    // Not a cycle: C may also wait for A (a diamond).
    const diamond = await request('PUT', `/api/cron/jobs/${c.id}`, {
      body: { schedule: `after:${b.id},${a.id}` },
      headers: as('acme'),
    });
    expect(diamond.status, diamond.text).toBe(200);
  });

  it("refuses another tenant's job (or a global job's tenant job) exactly like a missing one", async () => {
    const acmeJob = await created('acme', 'A', 'hourly');
    const globalJob = await created('admin', 'G', 'hourly');
    await expectRefused(() => create('globex', 'B', `after:${acmeJob.id}`), 400, {
      path: 'schedule',
      detail: new RegExp(`no job ${acmeJob.id} in tenant "globex"`),
    });
    await expectRefused(() => create('acme', 'B', `after:${globalJob.id}`), 400, {
      path: 'schedule',
      detail: /no job .* in tenant "acme"/,
    });
    await expectRefused(() => create('admin', 'B', `after:${acmeJob.id}`), 400, {
      path: 'schedule',
      detail: /no job .* in the global jobs/,
    });
    // Moving an after: job away from its upstream jobs' tenant is refused too.
    const b = await created('acme', 'B', `after:${acmeJob.id}`);
    await expectRefused(
      () =>
        request('PUT', `/api/cron/jobs/${b.id}`, {
          body: { tenant_id: 'globex' },
          headers: as('admin'),
        }),
      400,
      { path: 'schedule', detail: /own tenant/ },
    );
  });

  it('refuses with 409 to delete or move a job that an after: schedule names', async () => {
    const a = await created('acme', 'A', 'hourly');
    const b = await created('acme', 'B', `after:${a.id}`);
    await expectRefused(
      () => request('DELETE', `/api/cron/jobs/${a.id}`, { headers: as('acme') }),
      409,
      { detail: new RegExp(`"B" \\(${b.id}\\) names job ${a.id}`) },
    );
    await expectRefused(
      () =>
        request('PUT', `/api/cron/jobs/${a.id}`, {
          body: { tenant_id: 'globex' },
          headers: as('admin'),
        }),
      409,
      { detail: /change their schedules first/ },
    );
    // Once B no longer names it, A goes.
    const changed = await request('PUT', `/api/cron/jobs/${b.id}`, {
      body: { schedule: 'daily' },
      headers: as('acme'),
    });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.body.next_run).not.toBeNull();
    const deleted = await request('DELETE', `/api/cron/jobs/${a.id}`, { headers: as('acme') });
    expect(deleted.status).toBe(204);
  });

  it('refuses precise: true on an after: job, naming precise', async () => {
    const a = await created('acme', 'A', 'hourly');
    await expectRefused(() => create('acme', 'B', `after:${a.id}`, { precise: true }), 400, {
      path: 'precise',
      detail: /no time slots/,
    });
  });

  it('runs the dependent after a successful run-now of its upstream job, recording the trigger', async () => {
    const a = await created('acme', 'A', 'hourly');
    const b = await created('acme', 'B', `after:${a.id}`);
    const ran = await request('POST', `/api/cron/jobs/${a.id}/run`, { headers: as('acme') });
    // Run-now is asynchronous: it answers 202 and the run finishes in the background.
    expect(ran.status, ran.text).toBe(202);
    await waitFor('the upstream run to finish', async () => {
      const run = await request('GET', ran.headers.location!, { headers: as('acme') });
      return run.body.status === 'success' ? run : undefined;
    });
    const swept = await request('POST', '/api/cron/run', { headers: as('admin') });
    expect(swept.status, swept.text).toBe(200);
    const runs = await request('GET', `/api/cron/jobs/${b.id}/runs`, { headers: as('acme') });
    expect(runs.body.runs).toEqual([
      expect.objectContaining({
        trigger: 'dependency',
        status: 'success',
        triggered_by: ran.body.id,
      }),
    ]);
    const all = await request('GET', '/api/cron/runs?limit=10', { headers: as('acme') });
    expect(all.body.runs[0]).toMatchObject({ job_id: b.id, triggered_by: ran.body.id });
  });
});

describe('overlap and priority through the API', () => {
  it('stores overlap, max_concurrent_runs and priority, and brings max_concurrent_runs back to 1 when leaving allow', async () => {
    const job = await create('acme', 'J', 'hourly', {
      overlap: 'allow',
      max_concurrent_runs: 4,
      priority: -3,
    });
    expect(job.status, job.text).toBe(201);
    expect(job.body).toMatchObject({ overlap: 'allow', max_concurrent_runs: 4, priority: -3 });
    const queued = await request('PUT', `/api/cron/jobs/${job.body.id}`, {
      body: { overlap: 'queue_one', priority: 10 },
      headers: as('acme'),
    });
    expect(queued.status, queued.text).toBe(200);
    expect(queued.body).toMatchObject({
      overlap: 'queue_one',
      max_concurrent_runs: 1,
      priority: 10,
    });
    await expectRefused(
      () =>
        request('PUT', `/api/cron/jobs/${job.body.id}`, {
          body: { max_concurrent_runs: 3 },
          headers: as('acme'),
        }),
      400,
      { path: 'max_concurrent_runs', detail: /unless overlap is "allow"/ },
    );
  });
});
