import { describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/server';

const server = await startTestServer();

describe('a job whose executor is gone', () => {
  it('can be switched off (the runbook advice), but not on, nor given a config', async () => {
    const [job] = await server.sql<{ id: string }[]>`
      insert into cron_job (name, schedule, function_name, metadata, next_run)
      values ('Orphan', 'hourly', 'removedExecutor', '{"keep":1,"execution_count":4}', now())
      returning id`;
    const off = await server.request('PUT', `/api/cron/jobs/${job!.id}`, {
      body: { is_active: false },
    });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ is_active: false, next_run: null });
    expect(off.body.metadata).toEqual({ keep: 1, execution_count: 4 });

    const before = await server.snapshot();
    for (const body of [{ is_active: true }, { is_active: false, metadata: { keep: 2 } }]) {
      const refused = await server.request('PUT', `/api/cron/jobs/${job!.id}`, { body });
      expect(refused.status).toBe(400);
      expect(refused.body.errors[0].path).toBe('function_name');
    }
    expect(await server.snapshot()).toBe(before);

    // Repointed to a registered executor, it may run again; the old executor's key is removed
    // (a PUT's metadata is merged into the stored config, null removes a key).
    const repointed = await server.request('PUT', `/api/cron/jobs/${job!.id}`, {
      body: { function_name: 'markUsersOffline', metadata: { keep: null }, is_active: true },
    });
    expect(repointed.status, repointed.text).toBe(200);
    expect(repointed.body.is_active).toBe(true);
  });
});
