import { beforeAll, describe, expect, it } from 'vitest';
import { routeTable } from '../../lib/http/route-table';
import { expectProblem, startTestServer } from '../helpers/server';
import { waitFor } from '../helpers/wait';

const TOKEN = 'local-test-token-5f1c';
const server = await startTestServer({ apiToken: TOKEN });
const { request, snapshot } = server;

let jobId = '';
let runId = '';
let destinationId = '';
let ruleId = '';
beforeAll(async () => {
  const created = await request('POST', '/api/cron/jobs', {
    body: { name: 'guarded', schedule: 'daily', function_name: 'markUsersOffline' },
  });
  expect(created.status).toBe(201);
  jobId = created.body.id;
  const [run] = await server.sql<{ id: string }[]>`
    insert into cron_job_run (job_id, trigger, status, finished_at)
    values (${jobId}, 'manual', 'success', now()) returning id`;
  runId = run!.id;
  const [destination] = await server.sql<{ id: string }[]>`
    insert into cron_alert_destination (name, kind, target)
    values ('ops', 'email', 'ops@example.com') returning id`;
  destinationId = destination!.id;
  const [rule] = await server.sql<{ id: string }[]>`
    insert into cron_alert_rule (destination_id, events) values (${destinationId}, ${['run.failed']})
    returning id`;
  ruleId = rule!.id;
});

/** The id a route's `{id}` stands for. */
function idFor(route: (typeof routeTable)[number]): string {
  if (route.path.startsWith('/api/cron/alerts/destinations/')) return destinationId;
  if (route.path.startsWith('/api/cron/alerts/rules/')) return ruleId;
  return jobId;
}

const SAMPLE_BODIES: Partial<Record<(typeof routeTable)[number]['name'], () => unknown>> = {
  'create-job': () => ({
    name: `new ${Math.random()}`,
    schedule: 'daily',
    function_name: 'markUsersOffline',
  }),
  'update-job': () => ({ timeout_seconds: 120 }),
  'pause-job': () => ({ reason: 'maintenance' }),
  'backfill-job': () => ({
    from: '2026-01-01T00:00:00Z',
    to: '2026-01-02T00:00:00Z',
    dry_run: true,
  }),
  'create-alert-destination': () => ({ kind: 'email', name: 'new', email: 'new@example.com' }),
  'update-alert-destination': () => ({ name: 'renamed' }),
  'create-alert-rule': () => ({ destination_id: destinationId, events: ['run.failed'] }),
  'update-alert-rule': () => ({ enabled: false }),
};

/** A request for each route of the route table, with a valid body where one is needed. */
function sample(route: (typeof routeTable)[number]) {
  const path =
    route.path.replace('{id}', idFor(route)).replace('{run_id}', runId) +
    (route.name === 'preview-schedule' ? '?schedule=daily' : '');
  return { path, body: SAMPLE_BODIES[route.name]?.() };
}

const guarded = routeTable.filter((route) => route.access !== 'public');
// Deleting last (a rule before its destination), so every other route still finds its target.
const DELETES = ['delete-alert-rule', 'delete-alert-destination', 'delete-job'];
const ordered = [
  ...guarded.filter((r) => !DELETES.includes(r.name)),
  ...DELETES.map((name) => guarded.find((r) => r.name === name)!),
];

describe('with CRON_API_TOKEN set', () => {
  it('every route but health is in the route table as guarded', () => {
    expect(
      routeTable.filter((route) => route.access === 'public').map((route) => route.name),
    ).toEqual(['health']);
  });

  it.each(guarded.map((route) => [route.method, route.path, route] as const))(
    '%s %s answers 401 without the header and 403 with a wrong token, changing nothing',
    async (method, _path, route) => {
      const { path, body } = sample(route);
      const before = await snapshot();
      const missing = await request(method, path, { body, headers: { authorization: '' } });
      expectProblem(missing, 401);
      expect(missing.headers['www-authenticate']).toBe('Bearer');
      for (const authorization of [
        'Bearer wrong-token',
        `Bearer ${TOKEN}x`,
        `Bearer ${TOKEN.slice(0, -1)}`,
        `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}`,
        TOKEN,
        'Bearer',
        'Bearer ',
      ]) {
        expectProblem(await request(method, path, { body, headers: { authorization } }), 403);
      }
      expect(await snapshot()).toBe(before);
    },
  );

  it('every guarded route works with the right token', async () => {
    for (const route of ordered) {
      for (const authorization of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`]) {
        const { path, body } = sample(route);
        const response = await request(route.method, path, { body, headers: { authorization } });
        expect(response.status, `${route.name}: ${response.text}`).toBeLessThan(300);
        // Run-now answers 202 and runs in the background: a second one while it runs is a 409.
        if (response.status === 202) {
          await waitFor('the accepted run to finish', async () => {
            const run = await request('GET', response.headers.location!, {
              headers: { authorization },
            });
            return run.body.status !== 'running' || undefined;
          });
        }
        if (DELETES.includes(route.name)) break;
      }
    }
  });

  it('health needs no token, and ignores a wrong one', async () => {
    for (const authorization of ['', 'Bearer wrong-token']) {
      const response = await request('GET', '/api/cron/health', { headers: { authorization } });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ status: 'ok' });
    }
  });

  it('an unknown route is a 404 and a wrong method a 405 either way, revealing nothing', async () => {
    for (const authorization of ['', `Bearer ${TOKEN}`]) {
      expectProblem(await request('GET', '/api/cron/nope', { headers: { authorization } }), 404);
      expectProblem(await request('DELETE', '/api/cron/jobs', { headers: { authorization } }), 405);
    }
  });
});
