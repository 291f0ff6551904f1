import { describe, expect, it } from 'vitest';
import { builtInExecutors } from '../../lib/executors/built-ins';
import { createRegistry } from '../../lib/executors/registry';
import { testExecutors } from '../helpers/jobs';
import { expectProblem, startTestServer } from '../helpers/server';

// Each action performed as two different subjects, read back exactly, diffs included.
const token = (name: string) => `${name}-token-0123456789`;
const server = await startTestServer({
  tokens: [
    `${token('alice')}:alice:acme`,
    `${token('carol')}:carol:acme`,
    `${token('bob')}:bob:globex`,
    `${token('root')}:root:*`,
    `${token('dave')}:dave:*`,
  ].join(','),
  registry: createRegistry([...builtInExecutors, ...testExecutors]),
});
const { request, sql } = server;
const as = (name: string) => ({ authorization: `Bearer ${token(name)}` });

interface Entry {
  id: string;
  job_id: string;
  tenant_id: string | null;
  action: string;
  actor: string;
  actor_tenant_id: string | null;
  request_id: string | null;
  at: string;
  changes: Record<string, { before?: unknown; after?: unknown }>;
}

async function audit(jobId: string, who: string): Promise<Entry[]> {
  const response = await request('GET', `/api/cron/jobs/${jobId}/audit`, { headers: as(who) });
  expect(response.status, response.text).toBe(200);
  return response.body.entries;
}

describe('audit trail', () => {
  it('records create, update, run and delete with actor, tenant, request id and field-level diffs; secrets redacted', async () => {
    const created = await request('POST', '/api/cron/jobs', {
      body: {
        name: 'audited',
        schedule: 'daily',
        function_name: 'noop',
        metadata: { api_key: 'k-first-secret', batch: 5 },
      },
      headers: as('alice'),
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body.id as string;

    const renamed = await request('PUT', `/api/cron/jobs/${id}`, {
      body: { name: 'audited 2', metadata: { api_key: 'k-second-secret' } },
      headers: as('carol'),
    });
    expect(renamed.status, renamed.text).toBe(200);
    const ran = await request('POST', `/api/cron/jobs/${id}/run`, { headers: as('carol') });
    expect(ran.status, ran.text).toBeLessThan(300);
    const runId = (ran.body.run_id ?? ran.body.id) as string;
    const slowed = await request('PUT', `/api/cron/jobs/${id}`, {
      body: { timeout_seconds: 90, is_active: false },
      headers: as('root'),
    });
    expect(slowed.status, slowed.text).toBe(200);
    // A write that changes nothing the audit tracks still leaves an entry, with no changes.
    const same = await request('PUT', `/api/cron/jobs/${id}`, {
      body: { timeout_seconds: 90 },
      headers: as('dave'),
    });
    expect(same.status, same.text).toBe(200);

    const entries = await audit(id, 'alice');
    expect(entries.map((e) => [e.action, e.actor, e.actor_tenant_id, e.tenant_id])).toEqual([
      ['update', 'dave', null, 'acme'],
      ['update', 'root', null, 'acme'],
      ['run', 'carol', 'acme', 'acme'],
      ['update', 'carol', 'acme', 'acme'],
      ['create', 'alice', 'acme', 'acme'],
    ]);
    const [unchanged, root, run, carol, create] = entries as [Entry, Entry, Entry, Entry, Entry];
    expect(unchanged.changes).toEqual({});
    expect(root.changes).toEqual({
      timeout_seconds: { before: 60, after: 90 },
      is_active: { before: true, after: false },
    });
    expect(run.changes).toEqual({ run_id: { after: runId } });
    expect(carol.changes).toEqual({
      name: { before: 'audited', after: 'audited 2' },
      'metadata.api_key': { before: '[redacted]', after: '[redacted]' },
    });
    expect(create.changes).toMatchObject({
      name: { after: 'audited' },
      schedule: { after: 'daily' },
      function_name: { after: 'noop' },
      tenant_id: { after: 'acme' },
      timeout_seconds: { after: 60 },
      'metadata.api_key': { after: '[redacted]' },
      'metadata.batch': { after: 5 },
    });
    for (const change of Object.values(create.changes)) expect(change).not.toHaveProperty('before');
    for (const entry of entries) {
      expect(entry.job_id).toBe(id);
      expect(entry.request_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(Date.parse(entry.at)).not.toBeNaN();
    }
    // No secret value is stored anywhere in the trail.
    const [stored] = await sql<{ text: string }[]>`
      select coalesce(string_agg(changes::text, ' '), '') as text from cron_job_audit`;
    expect(stored!.text).not.toMatch(/k-first-secret|k-second-secret/);

    // Scoped like the job: another tenant gets a 404, as for a job that does not exist.
    expectProblem(await request('GET', `/api/cron/jobs/${id}/audit`, { headers: as('bob') }), 404);

    const deleted = await request('DELETE', `/api/cron/jobs/${id}`, { headers: as('dave') });
    expect(deleted.status).toBe(204);
    // Gone for the tenant; admins still read its audit and its runs until retention.
    expectProblem(
      await request('GET', `/api/cron/jobs/${id}/audit`, { headers: as('alice') }),
      404,
    );
    expectProblem(await request('GET', `/api/cron/jobs/${id}/runs`, { headers: as('alice') }), 404);
    const afterDelete = await audit(id, 'root');
    expect(afterDelete.map((e) => [e.action, e.actor])).toEqual([
      ['delete', 'dave'],
      ...entries.map((e) => [e.action, e.actor]),
    ]);
    expect(afterDelete[0]!.changes).toMatchObject({
      name: { before: 'audited 2' },
      timeout_seconds: { before: 90 },
      'metadata.api_key': { before: '[redacted]' },
    });
    const runs = await request('GET', `/api/cron/jobs/${id}/runs`, { headers: as('root') });
    expect(runs.status).toBe(200);
    expect(runs.body.runs.map((r: { id: string }) => r.id)).toEqual([runId]);

    // The admin-wide listing: filters by job, actor and tenant; pages by next_before.
    const list = async (query: string) => {
      const response = await request('GET', `/api/cron/audit${query}`, { headers: as('root') });
      expect(response.status, response.text).toBe(200);
      return response.body as { entries: Entry[]; next_before: string | null };
    };
    expect((await list(`?job_id=${id}`)).entries).toEqual(afterDelete);
    expect((await list('?actor=carol')).entries.map((e) => e.action)).toEqual(['run', 'update']);
    expect((await list('?tenant_id=globex')).entries).toEqual([]);
    const first = await list(`?job_id=${id}&limit=4`);
    expect(first.entries).toEqual(afterDelete.slice(0, 4));
    const second = await list(`?job_id=${id}&limit=4&before=${first.next_before}`);
    expect(second.entries).toEqual(afterDelete.slice(4));
    expect(second.next_before).toBeNull();
    // Tenants cannot list the trail.
    expectProblem(await request('GET', '/api/cron/audit', { headers: as('alice') }), 403);
  });

  it('a refused write leaves no entry', async () => {
    const before = await sql`select count(*)::int as n from cron_job_audit`;
    const refused = await request('POST', '/api/cron/jobs', {
      body: { name: 'x', schedule: 'nope', function_name: 'noop' },
      headers: as('alice'),
    });
    expectProblem(refused, 400);
    const after = await sql`select count(*)::int as n from cron_job_audit`;
    expect(after[0]!.n).toBe(before[0]!.n);
  });
});
