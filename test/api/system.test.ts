import { describe, expect, it } from 'vitest';
import { sweep } from '../../lib/engine/sweep';
import { silentLog } from '../../lib/logger';
import { expectProblem, startTestServer } from '../helpers/server';
import { testRegistry } from '../helpers/jobs';

const server = await startTestServer({ registry: testRegistry, sweepIntervalSeconds: 60 });

async function createJob(name: string, function_name: string) {
  const response = await server.request('POST', '/api/cron/jobs', {
    body: { name, schedule: 'daily', function_name },
  });
  expect(response.status).toBe(201);
  return response.body.id as string;
}

describe('GET /api/cron/system', () => {
  it('shows the last sweep, the jobs that are due and how late, and the failures of the last day', async () => {
    const before = await server.request('GET', '/api/cron/system');
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({
      sweep_interval_seconds: 60,
      last_sweep: null,
      jobs: { total: 0, active: 0, inactive: 0, failing: 0 },
      runs: { running: 0, failed_24h: 0, timed_out_24h: 0, lost_24h: 0 },
      due: { jobs: 0, oldest_next_run: null, lag_seconds: 0 },
    });

    const failing = await createJob('fails', 'fail');
    const late = await createJob('late', 'noop');
    await createJob('paused', 'noop');
    await server.request('PUT', `/api/cron/jobs/${late}`, { body: { is_active: false } });
    await server.request('PUT', `/api/cron/jobs/${late}`, { body: { is_active: true } });
    await server.sql`update cron_job set next_run = now() - interval '10 minutes' where id = ${late}`;
    const due = await server.request('GET', '/api/cron/system');
    expect(due.body.due).toEqual({
      jobs: 1,
      oldest_next_run: expect.any(String),
      lag_seconds: expect.any(Number),
    });
    expect(due.body.due.lag_seconds).toBeGreaterThanOrEqual(600);

    await server.sql`update cron_job set next_run = now() - interval '1 minute' where id = ${failing}`;
    await sweep({ sql: server.sql, registry: testRegistry, log: silentLog }, { concurrency: 2 });
    const after = await server.request('GET', '/api/cron/system');
    expect(after.body).toMatchObject({
      last_sweep: {
        finished_at: expect.any(String),
        summary: { executed: 2, succeeded: 1, failed: 1 },
      },
      jobs: { total: 3, active: 3, inactive: 0, failing: 1 },
      runs: { running: 0, failed_24h: 1, timed_out_24h: 0, lost_24h: 0 },
      due: { jobs: 0, lag_seconds: 0 },
    });
    expect(after.body.last_sweep.summary).not.toHaveProperty('results');
  });

  it('refuses query parameters', async () => {
    expectProblem(await server.request('GET', '/api/cron/system?x=1'), 400);
  });
});
