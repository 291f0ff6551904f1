import { beforeAll, describe, expect, it } from 'vitest';
import { routeTable } from '../../lib/http/route-table';
import { expectProblem, startTestServer } from '../helpers/server';

const TOKEN = 'local-test-token-5f1c';
const server = await startTestServer({ apiToken: TOKEN });
const { request, snapshot } = server;

let jobId = '';
let runId = '';
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
});

/** A request for each route of the route table, with a valid body where one is needed. */
function sample(route: (typeof routeTable)[number]) {
  const path =
    route.path.replace('{id}', jobId).replace('{run_id}', runId) +
    (route.name === 'preview-schedule' ? '?schedule=daily' : '');
  const body =
    route.name === 'create-job'
      ? { name: `new ${Math.random()}`, schedule: 'daily', function_name: 'markUsersOffline' }
      : route.name === 'update-job'
        ? { timeout_seconds: 120 }
        : route.name === 'pause-job'
          ? { reason: 'maintenance' }
          : undefined;
  return { path, body };
}

const guarded = routeTable.filter((route) => route.access !== 'public');
// Deleting last, so every other route still finds the job.
const ordered = [
  ...guarded.filter((r) => r.name !== 'delete-job'),
  ...guarded.filter((r) => r.name === 'delete-job'),
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
        if (route.name === 'delete-job') break;
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
