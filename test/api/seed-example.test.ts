import { describe, expect, it } from 'vitest';
import { createDemoSchema, loadDemoData } from '../../lib/demo-data';
import { errorPaths, expectProblem, startTestServer } from '../helpers/server';

// The "Create a New Job" request of the seed summary (cron-system-summary.md, Usage Examples),
// sent as its fetch() call sends it.
const seedRequest = {
  name: 'Custom Cleanup Job',
  schedule: 'daily',
  function_name: 'cleanupOldRecords',
  is_active: true,
  metadata: { retention_days: 30 },
};

const server = await startTestServer();
const { request, sql, snapshot } = server;
await createDemoSchema(sql);
await loadDemoData(sql);

describe('the seed summary’s "Create a New Job" request', () => {
  it('as written (cleanupOldRecords is not registered): 400 naming it and the registered ones', async () => {
    const before = await snapshot();
    const response = await request('POST', '/api/cron/jobs', {
      rawBody: JSON.stringify(seedRequest),
      headers: { 'content-type': 'application/json' },
    });
    expectProblem(response, 400);
    expect(errorPaths(response)).toEqual(['function_name']);
    const { message } = response.body.errors[0];
    expect(message).toContain('cleanupOldRecords');
    for (const name of ['cleanOldActivities', 'markUsersOffline', 'syncDenormalizedFields']) {
      expect(message).toContain(name);
      expect(response.body.detail).toContain(name);
    }
    expect(await snapshot()).toBe(before);
  });

  it('with a registered function_name: 201, and the job runs on the next sweep', async () => {
    const countOld = async () => {
      const [row] = await sql<{ n: number }[]>`select count(*)::int as n from activities
        where created_at < now() - interval '30 days'`;
      return row!.n;
    };
    const oldBefore = await countOld();
    expect(oldBefore).toBeGreaterThan(0);

    const created = await request('POST', '/api/cron/jobs', {
      body: { ...seedRequest, function_name: 'cleanOldActivities' },
    });
    expect(created.status, created.text).toBe(201);
    const job = created.body;
    expect(job).toMatchObject({
      name: 'Custom Cleanup Job',
      schedule: 'daily',
      function_name: 'cleanOldActivities',
      is_active: true,
      metadata: { retention_days: 30, batch_size: 1000, dry_run: false, execution_count: 0 },
    });
    expect(job.next_run).toMatch(/T00:00:00\.000Z$/);

    // Not due yet: a sweep now leaves it alone.
    expect((await request('POST', '/api/cron/run')).body).toMatchObject({ executed: 0 });
    // Midnight comes: its next_run is reached, and the next sweep runs it.
    await sql`update cron_job set next_run = now() - interval '1 second' where id = ${job.id}`;
    const sweep = await request('POST', '/api/cron/run');
    expect(sweep.status).toBe(200);
    expect(sweep.body).toMatchObject({ executed: 1, succeeded: 1, failed: 0 });
    expect(sweep.body.results).toEqual([
      {
        job_id: job.id,
        name: 'Custom Cleanup Job',
        status: 'success',
        duration_ms: expect.any(Number),
        result: { deleted: oldBefore },
      },
    ]);

    const runs = await request('GET', `/api/cron/jobs/${job.id}/runs`);
    expect(runs.body.runs).toMatchObject([
      { trigger: 'schedule', status: 'success', result: { deleted: oldBefore }, error: null },
    ]);
    expect(await countOld()).toBe(0);
    const after = (await request('GET', `/api/cron/jobs/${job.id}`)).body;
    expect(after.metadata).toMatchObject({ execution_count: 1, last_execution_status: 'success' });
    expect(after.next_run).toMatch(/T00:00:00\.000Z$/);
    expect(Date.parse(after.next_run)).toBeGreaterThan(Date.now());
  });

  it('the same request for a registered name without its metadata gets the defaults', async () => {
    const body: Record<string, unknown> = { ...seedRequest };
    delete body.metadata;
    const response = await request('POST', '/api/cron/jobs', {
      body: { ...body, name: 'Default cleanup', function_name: 'cleanOldActivities' },
    });
    expect(response.status).toBe(201);
    expect(response.body.metadata).toMatchObject({ retention_days: 365 });
  });
});
