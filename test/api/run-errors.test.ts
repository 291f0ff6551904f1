import { describe, expect, it } from 'vitest';
import { createDemoSchema } from '../../lib/demo-data';
import type { Log } from '../../lib/logger';
import { startTestServer } from '../helpers/server';
import { waitFor } from '../helpers/wait';

// A failed run's error is what the job's tenant reads (runs, metadata.last_error, an auto-pause
// reason): it must not name the CRM's tables or columns. The full message stays in the
// failed-run log line, for operators.

const logged: Record<string, unknown>[] = [];
const keep = (_message: string, extra: Record<string, unknown> = {}) => void logged.push(extra);
const log: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: keep };

const token = (name: string) => `${name}-token-0123456789`;
const server = await startTestServer({
  tokens: [`${token('alice')}:alice:acme`, `${token('root')}:root:*`].join(','),
  log,
});
const { request, sql } = server;
const as = (name: string) => ({ authorization: `Bearer ${token(name)}` });
await createDemoSchema(sql);

/** Creates a job as alice (tenant acme), runs it now and returns its finished run. */
async function failedRunOf(body: Record<string, unknown>) {
  const created = await request('POST', '/api/cron/jobs', { headers: as('alice'), body });
  expect(created.status, created.text).toBe(201);
  const id: string = created.body.id;
  const ran = await request('POST', `/api/cron/jobs/${id}/run`, { headers: as('alice') });
  expect(ran.status, ran.text).toBeLessThan(300);
  const run = await waitFor('the manual run to finish', async () => {
    const runs = await request('GET', `/api/cron/jobs/${id}/runs`, { headers: as('alice') });
    expect(runs.status).toBe(200);
    return (runs.body.runs as { status: string; error: string | null }[]).find(
      (r) => r.status !== 'running',
    );
  });
  const job = await request('GET', `/api/cron/jobs/${id}`, { headers: as('alice') });
  return { id, run, job: job.body };
}

describe('failed runs, as a tenant caller reads them', () => {
  it('name no table or column when the database refuses a statement', async () => {
    await sql`alter table employees rename column metadata to presence`;
    try {
      const { id, run, job } = await failedRunOf({
        name: 'Offline (acme)',
        schedule: 'every_5_minutes',
        function_name: 'markUsersOffline',
      });
      expect(run.status).toBe('error');
      expect(run.error).toBe(
        "database error 42703 (undefined_column); details are in the run's log line for operators",
      );
      expect(job.metadata.last_error).toBe(run.error);
      const listed = await request('GET', `/api/cron/runs?tenant_id=acme`, {
        headers: as('alice'),
      });
      const texts = JSON.stringify([
        run.error,
        job.metadata.last_error,
        listed.body.runs.map((r: { error: string | null }) => r.error),
      ]);
      for (const name of ['employees', 'metadata', 'users', 'relation', 'column "']) {
        expect(texts).not.toContain(name);
      }
      // Operators find the full message in the run's log line.
      const line = logged.find((extra) => extra.job_id === id);
      expect(line?.error_detail).toBe('column "metadata" does not exist');
    } finally {
      await sql`alter table employees rename column presence to metadata`;
    }
  });

  it("name no table or column when an executor's own check fails", async () => {
    await sql`alter table contacts rename column account_name to account_label`;
    try {
      const { id, run } = await failedRunOf({
        name: 'Sync names (acme)',
        schedule: 'daily',
        function_name: 'syncDenormalizedFields',
      });
      expect(run.error).toBe('syncDenormalizedFields: a mapped column does not exist');
      const line = logged.find((extra) => extra.job_id === id);
      expect(line?.error_detail).toBe(
        'syncDenormalizedFields: column contacts.account_name does not exist',
      );
    } finally {
      await sql`alter table contacts rename column account_label to account_name`;
    }
  });
});
