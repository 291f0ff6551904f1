import { describe, expect, it } from 'vitest';
import { createRegistry } from '../../lib/executors/registry';
import { capturingLog } from '../helpers/log';
import { insertJob, testExecutors } from '../helpers/jobs';
import { startTestServer } from '../helpers/server';

const { log, lines } = capturingLog();

const server = await startTestServer({ registry: createRegistry(testExecutors), log });

describe('a failed run', () => {
  it('writes one error line with job, tenant, run, slot, attempt, status, error, stack and request id', async () => {
    const failing = await insertJob(server.sql, {
      name: 'Nightly export',
      function_name: 'fail',
      tenant_id: 'acme',
    });
    const hanging = await insertJob(server.sql, {
      name: 'Stuck',
      function_name: 'hang',
      timeout_seconds: 1,
    });
    await insertJob(server.sql, { name: 'Fine', function_name: 'noop' });
    lines.length = 0;

    const swept = await server.request('POST', '/api/cron/run');
    expect(swept.status).toBe(200);
    const requestId = String(swept.headers['x-request-id'] ?? '');
    const failures = lines.filter((line) => line.message === 'run failed');
    expect(failures).toHaveLength(2);
    expect(failures.every((line) => line.level === 'error')).toBe(true);

    const runs = await server.sql<{ id: string; job_id: string; scheduled_for: Date }[]>`
      select id, job_id, scheduled_for from cron_job_run where job_id in ${server.sql([failing, hanging])}`;
    const byJob = new Map(runs.map((run) => [run.job_id, run]));
    const failed = failures.find((line) => line.extra.job_id === failing)!;
    expect(failed.extra).toMatchObject({
      job_name: 'Nightly export 1',
      tenant_id: 'acme',
      run_id: byJob.get(failing)!.id,
      scheduled_for: byJob.get(failing)!.scheduled_for.toISOString(),
      attempt: 1,
      status: 'error',
      error: 'boom',
    });
    // The error is already its full message: no separate detail.
    expect(failed.extra).not.toHaveProperty('error_detail');
    expect(failed.extra.stack).toMatch(/^Error: boom\n\s+at /);
    expect(String(failed.extra.stack).split('\n').length).toBeLessThanOrEqual(8);
    expect(failed.extra.request_id).toEqual(expect.any(String));
    if (requestId) expect(failed.extra.request_id).toBe(requestId);

    const timedOut = failures.find((line) => line.extra.job_id === hanging)!;
    expect(timedOut.extra).toMatchObject({
      status: 'timeout',
      error: 'timed out after 1 s',
      tenant_id: null,
    });
    // A successful run writes no error line.
    expect(lines.filter((line) => line.level === 'error')).toHaveLength(2);
  });
});
