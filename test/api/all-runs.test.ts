import { describe, expect, it } from 'vitest';
import { builtInExecutors } from '../../lib/executors/built-ins';
import { createRegistry } from '../../lib/executors/registry';
import { insertJob, testExecutors } from '../helpers/jobs';
import { startTestServer } from '../helpers/server';

const server = await startTestServer({
  registry: createRegistry([...builtInExecutors, ...testExecutors]),
});
const { sql } = server;

const acmeNoop = await insertJob(sql, {
  name: 'acme noop',
  function_name: 'noop',
  tenant_id: 'acme',
});
const acmeFail = await insertJob(sql, {
  name: 'acme fail',
  function_name: 'fail',
  tenant_id: 'acme',
});
const globalNoop = await insertJob(sql, { name: 'global noop', function_name: 'noop' });
// 30 runs, one a minute going back from a fixed instant, spread over the three jobs.
const base = Date.parse('2026-11-01T12:00:00Z');
const jobsInOrder = [acmeNoop, acmeFail, globalNoop];
for (let i = 0; i < 30; i += 1) {
  const job = jobsInOrder[i % 3]!;
  const status = job === acmeFail ? 'error' : 'success';
  await sql`
    insert into cron_job_run (job_id, scheduled_for, trigger, status, started_at, finished_at, duration_ms, error)
    values (${job}, ${new Date(base - i * 60_000)}, 'schedule', ${status}, ${new Date(base - i * 60_000)},
      ${new Date(base - i * 60_000 + 500)}, 500, ${status === 'error' ? 'boom' : null})`;
}

const get = (query: string) => server.request('GET', `/api/cron/runs${query}`);

describe('GET /api/cron/runs', () => {
  it('lists runs across jobs newest first, with the job name, tenant and executor', async () => {
    const response = await get('?limit=5');
    expect(response.status).toBe(200);
    expect(response.body.runs).toHaveLength(5);
    const starts = response.body.runs.map((run: { started_at: string }) =>
      Date.parse(run.started_at),
    );
    expect(starts).toEqual([...starts].sort((a, b) => b - a));
    expect(response.body.runs[0]).toMatchObject({
      job_id: acmeNoop,
      job_name: 'acme noop 1',
      tenant_id: 'acme',
      function_name: 'noop',
      started_at: new Date(base).toISOString(),
    });
    expect(response.body.next_cursor).toEqual(expect.any(String));
  });

  it('filters by status, tenant, executor and time range', async () => {
    const failed = await get('?status=error');
    expect(failed.body.runs).toHaveLength(10);
    expect(new Set(failed.body.runs.map((run: { job_id: string }) => run.job_id))).toEqual(
      new Set([acmeFail]),
    );

    const acme = await get('?tenant_id=acme&limit=200');
    expect(acme.body.runs).toHaveLength(20);
    const noop = await get('?function_name=noop&limit=200');
    expect(noop.body.runs).toHaveLength(20);
    const acmeNoopRuns = await get('?function_name=noop&tenant_id=acme&limit=200');
    expect(acmeNoopRuns.body.runs).toHaveLength(10);

    // [from, to): the 10 runs started in the ten minutes before base - 5 min.
    const from = new Date(base - 15 * 60_000).toISOString();
    const to = new Date(base - 5 * 60_000).toISOString();
    const window = await get(`?from=${from}&to=${to}&limit=200`);
    expect(window.body.runs).toHaveLength(10);
    for (const run of window.body.runs) {
      expect(Date.parse(run.started_at)).toBeGreaterThanOrEqual(Date.parse(from));
      expect(Date.parse(run.started_at)).toBeLessThan(Date.parse(to));
    }
  });

  it('pages with next_cursor without duplicates or gaps', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page += 1) {
      const response = await get(`?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      expect(response.status).toBe(200);
      seen.push(...response.body.runs.map((run: { id: string }) => run.id));
      cursor = response.body.next_cursor;
      if (!cursor) break;
    }
    expect(seen).toHaveLength(30);
    expect(new Set(seen).size).toBe(30);
  });

  it.each([
    ['?status=exploded', 'status'],
    ['?from=yesterday', 'from'],
    ['?cursor=bm90LWEtY3Vyc29y', 'cursor'],
    ['?limit=0', 'limit'],
    ['?job=1', 'job'],
  ])('refuses %s with a 400 naming %s', async (query, path) => {
    const response = await get(query);
    expect(response.status).toBe(400);
    expect(response.body.errors.map((error: { path: string }) => error.path)).toContain(path);
  });
});
