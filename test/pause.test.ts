import { beforeEach, describe, expect, it } from 'vitest';
import type { TriggerPort, TriggerRequest } from '../lib/engine/triggers';
import { sweep } from '../lib/engine/sweep';
import { pauseJob } from '../lib/jobs/pause';
import { createJob } from '../lib/jobs/service';
import { silentLog } from '../lib/logger';
import { SYSTEM_CALLER } from '../lib/identity/caller';
import { testRegistry } from './helpers/jobs';
import { startTestServer } from './helpers/server';

// Pause and resume through the real HTTP API and the engine, on real PostgreSQL.
const server = await startTestServer({ registry: testRegistry, apiToken: 'ops-token-0123456789' });
const { sql, request, app } = server;

/** The exact-time trigger of each job as the port was last told; absent: none armed. */
const armed = new Map<string, Date>();
const triggers: TriggerPort = {
  arm: async (trigger: TriggerRequest) => void armed.set(trigger.job_id, trigger.next_run),
  disarm: async (jobId: string) => void armed.delete(jobId),
};
app.triggers = triggers;

beforeEach(async () => {
  armed.clear();
  await sql`truncate cron_job cascade`;
});

const create = async (body: Record<string, unknown>) => {
  const response = await request('POST', '/api/cron/jobs', {
    body: { name: 'job', schedule: 'every_5_minutes', function_name: 'noop', ...body },
  });
  expect(response.status).toBe(201);
  return response.body as { id: string; next_run: string };
};
const runCount = async (id: string) =>
  (await sql`select count(*)::int as n from cron_job_run where job_id = ${id}`)[0]!.n as number;

describe('POST /jobs/{id}/pause and /resume', () => {
  it('pauses with a reason: the job shows it, never runs, its trigger is removed; resume re-arms it', async () => {
    const job = await create({ precise: true });
    expect(armed.get(job.id)).toEqual(new Date(job.next_run));

    const paused = await request('POST', `/api/cron/jobs/${job.id}/pause`, {
      body: { reason: 'CRM maintenance' },
    });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({
      is_active: false,
      next_run: null,
      paused_reason: 'CRM maintenance',
      // The caller's subject: the CRON_API_TOKEN caller is `admin`.
      paused_by: 'admin',
      paused_until: null,
      paused_at: expect.any(String),
    });
    expect((await request('GET', `/api/cron/jobs/${job.id}`)).body).toEqual(paused.body);
    expect(armed.has(job.id)).toBe(false);

    await sweep({ ...app, log: silentLog }, { now: () => new Date(Date.now() + 86_400_000) });
    const manual = await request('POST', `/api/cron/jobs/${job.id}/run`);
    expect(manual.status).toBe(409);
    expect(manual.body.detail).toContain('paused (CRM maintenance)');
    expect(await runCount(job.id)).toBe(0);

    const resumed = await request('POST', `/api/cron/jobs/${job.id}/resume`);
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({
      is_active: true,
      paused_reason: null,
      paused_at: null,
      paused_by: null,
      paused_until: null,
    });
    expect(Date.parse(resumed.body.next_run)).toBeGreaterThan(Date.now() - 1000);
    expect(armed.get(job.id)).toEqual(new Date(resumed.body.next_run));

    const again = await request('POST', `/api/cron/jobs/${job.id}/resume`);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(resumed.body);

    const audit = await sql`
      select action, actor, changes from cron_job_audit
      where job_id = ${job.id} and action in ('pause', 'resume') order by at, id`;
    expect(audit).toEqual([
      {
        action: 'pause',
        actor: 'admin',
        changes: {
          paused_reason: { before: null, after: 'CRM maintenance' },
          paused_until: { before: null, after: null },
        },
      },
      {
        action: 'resume',
        actor: 'admin',
        changes: { paused_reason: { before: 'CRM maintenance', after: null } },
      },
    ]);
  });

  it('PUT is_active true ends a pause; PUT is_active false ends it without an end', async () => {
    const job = await create({});
    await request('POST', `/api/cron/jobs/${job.id}/pause`, {
      body: { reason: 'x', until: new Date(Date.now() + 3_600_000).toISOString() },
    });
    const off = await request('PUT', `/api/cron/jobs/${job.id}`, { body: { is_active: false } });
    expect(off.body).toMatchObject({ is_active: false, paused_at: null, paused_until: null });
    await request('POST', `/api/cron/jobs/${job.id}/pause`, { body: { reason: 'y' } });
    const on = await request('PUT', `/api/cron/jobs/${job.id}`, { body: { is_active: true } });
    expect(on.body).toMatchObject({ is_active: true, paused_reason: null });
    expect(on.body.next_run).not.toBeNull();
  });

  it('refuses a bad pause with a 400 that names the field, and changes nothing', async () => {
    const job = await create({});
    const before = await server.snapshot();
    const cases: Array<[unknown, string]> = [
      [{}, 'reason'],
      [{ reason: '   ' }, 'reason'],
      [{ reason: 'x', until: 'tomorrow' }, 'until'],
      [{ reason: 'x', until: '2020-01-01T00:00:00Z' }, 'until'],
      [{ reason: 'x', later: true }, 'later'],
    ];
    for (const [body, path] of cases) {
      const response = await request('POST', `/api/cron/jobs/${job.id}/pause`, { body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    const unknown = await request(
      'POST',
      `/api/cron/jobs/00000000-0000-4000-8000-000000000000/pause`,
      {
        body: { reason: 'x' },
      },
    );
    expect(unknown.status).toBe(404);
    expect(await server.snapshot()).toBe(before);
  });
});

describe('paused_until', () => {
  it('auto-resumes at the first sweep after it, from the first slot after it', async () => {
    const now = new Date('2026-11-28T10:07:30Z');
    const { job } = await createJob(
      app,
      SYSTEM_CALLER,
      { name: 'until', schedule: 'every_5_minutes', function_name: 'noop', precise: true },
      now,
    );
    const ops = { subject: 'ops', tenant_id: null, admin: true };
    await pauseJob(app, ops, job.id, { reason: 'deploy', until: '2026-11-28T11:02:00Z' }, now);
    const [paused] = await sql`select paused_by, paused_until from cron_job where id = ${job.id}`;
    expect(paused).toEqual({ paused_by: 'ops', paused_until: new Date('2026-11-28T11:02:00Z') });
    expect(armed.has(job.id)).toBe(false);
    const deps = { ...app, log: silentLog };

    expect(await sweep(deps, { now: () => new Date('2026-11-28T11:01:59Z') })).toMatchObject({
      executed: 0,
    });
    // The sweep after the end resumes it; its first slot after 11:02 (11:05) is not due yet.
    await sweep(deps, { now: () => new Date('2026-11-28T11:03:00Z') });
    const [resumed] = await sql`
      select is_active, next_run, paused_at, paused_reason from cron_job where id = ${job.id}`;
    expect(resumed).toEqual({
      is_active: true,
      next_run: new Date('2026-11-28T11:05:00Z'),
      paused_at: null,
      paused_reason: null,
    });
    expect(armed.get(job.id)).toEqual(new Date('2026-11-28T11:05:00Z'));
    expect(await sweep(deps, { now: () => new Date('2026-11-28T11:05:01Z') })).toMatchObject({
      executed: 1,
    });
    // The engine's resume is audited like one by hand, the engine as its actor.
    const audit = (await request('GET', `/api/cron/jobs/${job.id}/audit`)).body.entries;
    expect(audit.map((e: { action: string; actor: string }) => [e.action, e.actor])).toEqual([
      ['resume', 'engine'],
      ['pause', 'ops'],
      ['create', 'system'],
    ]);
    expect(audit[0].changes).toEqual({ paused_reason: { before: 'deploy', after: null } });
  });
});

describe('retry field and auto-pause through the API', () => {
  it('stores retry with defaults filled, refuses bad policies with the field named', async () => {
    const job = await create({ retry: { max_attempts: 3 }, pause_after_failures: 5 });
    const got = (await request('GET', `/api/cron/jobs/${job.id}`)).body;
    expect(got).toMatchObject({
      retry: {
        max_attempts: 3,
        backoff: 'exponential',
        initial_delay_seconds: 30,
        max_delay_seconds: 3600,
      },
      pause_after_failures: 5,
    });
    const cases: Array<[unknown, string]> = [
      [{ retry: { max_attempts: 11 } }, 'retry.max_attempts'],
      [{ retry: { max_attempts: 0 } }, 'retry.max_attempts'],
      [{ retry: { backoff: 'linear' } }, 'retry.backoff'],
      [
        { retry: { initial_delay_seconds: 600, max_delay_seconds: 60 } },
        'retry.initial_delay_seconds',
      ],
      [{ retry: { jitter: false } }, 'retry.jitter'],
      [{ pause_after_failures: 0 }, 'pause_after_failures'],
    ];
    for (const [body, path] of cases) {
      const response = await request('PUT', `/api/cron/jobs/${job.id}`, { body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    }
  });

  it('shows an auto-paused job in the API with actor engine and the last error, its failed runs listed', async () => {
    const job = await create({ function_name: 'fail', pause_after_failures: 1 });
    await sql`update cron_job set next_run = now() - interval '1 minute' where id = ${job.id}`;
    expect((await request('POST', '/api/cron/run')).body).toMatchObject({ failed: 1 });
    const got = (await request('GET', `/api/cron/jobs/${job.id}`)).body;
    expect(got).toMatchObject({
      is_active: false,
      paused_by: 'engine',
      paused_reason: '1 consecutive failed slots; last error: boom',
      metadata: expect.objectContaining({ consecutive_failures: 1 }),
    });
    const runs = (await request('GET', `/api/cron/jobs/${job.id}/runs`)).body.runs;
    expect(runs).toMatchObject([{ status: 'error', error: 'boom', attempt: 1 }]);
    // The auto-pause is in the audit trail, with the engine as its actor.
    const [pause] = (await request('GET', `/api/cron/jobs/${job.id}/audit`)).body.entries;
    expect(pause).toMatchObject({
      action: 'pause',
      actor: 'engine',
      actor_tenant_id: null,
      request_id: null,
      changes: {
        is_active: { before: true, after: false },
        paused_reason: { before: null, after: '1 consecutive failed slots; last error: boom' },
      },
    });
    expect((await request('POST', `/api/cron/jobs/${job.id}/resume`)).body).toMatchObject({
      is_active: true,
      paused_by: null,
    });
    const actions = (await request('GET', `/api/cron/jobs/${job.id}/audit`)).body.entries.map(
      (e: { action: string; actor: string }) => `${e.action} by ${e.actor}`,
    );
    expect(actions).toEqual(['resume by admin', 'pause by engine', 'create by admin']);
  });
});
