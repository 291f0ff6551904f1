import { beforeEach, describe, expect, it } from 'vitest';
import { builtInExecutors } from '../../lib/executors/built-ins';
import { createRegistry } from '../../lib/executors/registry';
import { routeTable, type RouteName } from '../../lib/http/route-table';
import { testExecutors } from '../helpers/jobs';
import { expectProblem, startTestServer, type TestResponse } from '../helpers/server';

// Every route × {own tenant's job, another tenant's job, a global job} × {tenant caller, admin
// caller, no token, wrong token}, through real HTTP. Wherever a request is refused, the database
// is compared before and after.
const TOKENS = {
  tenant: 'acme-token-0123456789',
  other: 'globex-token-0123456789',
  admin: 'admin-token-0123456789',
};
const server = await startTestServer({
  tokens: `${TOKENS.tenant}:alice:acme,${TOKENS.other}:bob:globex,${TOKENS.admin}:root:*`,
  registry: createRegistry([...builtInExecutors, ...testExecutors]),
});
const { request, snapshot, sql } = server;

const targets = ['own', 'other', 'global'] as const;
type Target = (typeof targets)[number];
const tenantOf: Record<Target, string | null> = { own: 'acme', other: 'globex', global: null };

const callers = ['tenant', 'admin', 'none', 'wrong'] as const;
type CallerKind = (typeof callers)[number];
const authorization: Record<CallerKind, string> = {
  tenant: `Bearer ${TOKENS.tenant}`,
  admin: `Bearer ${TOKENS.admin}`,
  none: '',
  wrong: 'Bearer not-a-known-token-0000',
};

let jobs: Record<Target, string>;
let runs: Record<Target, string>;
let destinations: Record<Target, string>;
let rules: Record<Target, string>;
beforeEach(async () => {
  // A manual run queued by the previous case may still be writing its outcome.
  await server.runsSettled();
  await sql`truncate cron_job, cron_alert_destination cascade`;
  const ids = {} as Record<Target, string>;
  for (const target of targets) {
    const created = await request('POST', '/api/cron/jobs', {
      body: {
        name: `${target} job`,
        schedule: 'daily',
        function_name: 'noop',
        tenant_id: tenantOf[target],
      },
      headers: { authorization: authorization.admin },
    });
    expect(created.status, created.text).toBe(201);
    ids[target] = created.body.id;
  }
  jobs = ids;
  const runIds = {} as Record<Target, string>;
  for (const target of targets) {
    const [run] = await sql<{ id: string }[]>`
      insert into cron_job_run (job_id, trigger, status, finished_at)
      values (${jobs[target]}, 'manual', 'success', now()) returning id`;
    runIds[target] = run!.id;
  }
  runs = runIds;
  const destinationIds = {} as Record<Target, string>;
  const ruleIds = {} as Record<Target, string>;
  for (const target of targets) {
    const [destination] = await sql<{ id: string }[]>`
      insert into cron_alert_destination (tenant_id, name, kind, target)
      values (${tenantOf[target]}, ${`${target} mailbox`}, 'email', 'ops@example.com') returning id`;
    destinationIds[target] = destination!.id;
    const [rule] = await sql<{ id: string }[]>`
      insert into cron_alert_rule (tenant_id, destination_id, job_id, events)
      values (${tenantOf[target]}, ${destination!.id}, ${jobs[target]}, ${['run.failed']})
      returning id`;
    ruleIds[target] = rule!.id;
  }
  destinations = destinationIds;
  rules = ruleIds;
});

/** The request each route gets for a target; typed by route name, so a new route needs one. */
const samples: Record<RouteName, (target: Target) => { path: string; body?: unknown }> = {
  health: () => ({ path: '/api/cron/health' }),
  openapi: () => ({ path: '/api/cron/openapi.json' }),
  'list-jobs': (target) => ({
    path: `/api/cron/jobs${target === 'global' ? '' : `?tenant_id=${tenantOf[target]}`}`,
  }),
  'create-job': (target) => ({
    path: '/api/cron/jobs',
    body: { name: 'new', schedule: 'daily', function_name: 'noop', tenant_id: tenantOf[target] },
  }),
  'get-job': (target) => ({ path: `/api/cron/jobs/${jobs[target]}` }),
  'update-job': (target) => ({
    path: `/api/cron/jobs/${jobs[target]}`,
    body: { timeout_seconds: 120 },
  }),
  'delete-job': (target) => ({ path: `/api/cron/jobs/${jobs[target]}` }),
  'run-job-now': (target) => ({ path: `/api/cron/jobs/${jobs[target]}/run` }),
  'pause-job': (target) => ({
    path: `/api/cron/jobs/${jobs[target]}/pause`,
    body: { reason: 'maintenance' },
  }),
  'resume-job': (target) => ({ path: `/api/cron/jobs/${jobs[target]}/resume` }),
  'backfill-job': (target) => ({
    path: `/api/cron/jobs/${jobs[target]}/backfill`,
    body: { from: '2026-01-01T00:00:00Z', to: '2026-01-03T00:00:00Z', dry_run: true },
  }),
  'list-runs': (target) => ({ path: `/api/cron/jobs/${jobs[target]}/runs` }),
  'get-job-next-slots': (target) => ({ path: `/api/cron/jobs/${jobs[target]}/next` }),
  'preview-schedule': () => ({ path: '/api/cron/schedules/preview?schedule=daily' }),
  'list-all-runs': (target) => ({
    path: `/api/cron/runs${target === 'global' ? '' : `?tenant_id=${tenantOf[target]}`}`,
  }),
  'get-run': (target) => ({ path: `/api/cron/jobs/${jobs[target]}/runs/${runs[target]}` }),
  'get-run-log': (target) => ({ path: `/api/cron/jobs/${jobs[target]}/runs/${runs[target]}/log` }),
  'get-job-audit': (target) => ({ path: `/api/cron/jobs/${jobs[target]}/audit` }),
  'list-audit': (target) => ({
    path: `/api/cron/audit${target === 'global' ? '' : `?tenant_id=${tenantOf[target]}`}`,
  }),
  'run-sweep': () => ({ path: '/api/cron/run' }),
  'get-system': () => ({ path: '/api/cron/system' }),
  'list-executors': () => ({ path: '/api/cron/executors' }),
  'list-alert-destinations': (target) => ({
    path: `/api/cron/alerts/destinations${target === 'global' ? '' : `?tenant_id=${tenantOf[target]}`}`,
  }),
  'create-alert-destination': (target) => ({
    path: '/api/cron/alerts/destinations',
    body: { kind: 'email', name: 'new', email: 'new@example.com', tenant_id: tenantOf[target] },
  }),
  'get-alert-destination': (target) => ({
    path: `/api/cron/alerts/destinations/${destinations[target]}`,
  }),
  'update-alert-destination': (target) => ({
    path: `/api/cron/alerts/destinations/${destinations[target]}`,
    body: { name: 'renamed' },
  }),
  'delete-alert-destination': (target) => ({
    path: `/api/cron/alerts/destinations/${destinations[target]}`,
  }),
  'test-alert-destination': (target) => ({
    path: `/api/cron/alerts/destinations/${destinations[target]}/test`,
  }),
  'list-alert-rules': () => ({ path: '/api/cron/alerts/rules' }),
  'create-alert-rule': (target) => ({
    path: '/api/cron/alerts/rules',
    body: {
      destination_id: destinations[target],
      job_id: jobs[target],
      events: ['run.failed', 'job.recovered'],
      tenant_id: tenantOf[target],
    },
  }),
  'get-alert-rule': (target) => ({ path: `/api/cron/alerts/rules/${rules[target]}` }),
  'update-alert-rule': (target) => ({
    path: `/api/cron/alerts/rules/${rules[target]}`,
    body: { after_consecutive_failures: 3 },
  }),
  'delete-alert-rule': (target) => ({ path: `/api/cron/alerts/rules/${rules[target]}` }),
  'list-alert-deliveries': () => ({ path: '/api/cron/alerts/deliveries' }),
};

// Creating in a tenant other than the caller's (or a global one) is refused with 403.
const CREATES: RouteName[] = ['create-job', 'create-alert-destination', 'create-alert-rule'];

/** A 404's detail: the same as for an id that does not exist at all. */
function notFoundDetail(route: RouteName, target: Target): string {
  if (route.includes('alert-destination')) {
    return `no destination with id "${destinations[target]}"`;
  }
  if (route.includes('alert-rule')) return `no rule with id "${rules[target]}"`;
  return `no job with id "${jobs[target]}"`;
}

/** The status a tenant caller gets; admins succeed everywhere. */
function tenantStatus(route: RouteName, target: Target): 'ok' | 403 | 404 {
  const routeDefinition = routeTable.find((r) => r.name === route)!;
  if (routeDefinition.access === 'public') return 'ok';
  if (routeDefinition.access === 'admin') return 403;
  if (!routeDefinition.path.includes('{id}')) {
    // A create naming another tenant (or none, a global job) is refused; lists are scoped.
    return CREATES.includes(route) && target !== 'own' ? 403 : 'ok';
  }
  return target === 'own' ? 'ok' : 404;
}

function expected(route: RouteName, target: Target, caller: CallerKind): 'ok' | number {
  const access = routeTable.find((r) => r.name === route)!.access;
  if (access === 'public') return 'ok';
  if (caller === 'none') return 401;
  if (caller === 'wrong') return 403;
  if (caller === 'admin') return 'ok';
  return tenantStatus(route, target);
}

const cells = routeTable.flatMap((route) =>
  targets.flatMap((target) =>
    callers.map((caller) => [route.method, route.path, target, caller, route.name] as const),
  ),
);

describe('access matrix', () => {
  it.each(cells)('%s %s on a %s job as %s caller', async (method, _path, target, caller, name) => {
    const { path, body } = samples[name](target);
    const before = await snapshot();
    const response = await request(method, path, {
      body,
      headers: { authorization: authorization[caller] },
    });
    const want = expected(name, target, caller);
    if (want === 'ok') {
      expect(response.status, response.text).toBeGreaterThanOrEqual(200);
      expect(response.status, response.text).toBeLessThan(300);
      if (caller === 'tenant') expectOnlyOwnTenant(response);
    } else {
      expectProblem(response, want);
      expect(await snapshot(), 'a refused request changes nothing').toBe(before);
      // A 404 reads exactly as for an id that does not exist at all.
      if (want === 404) expect(response.body.detail).toBe(notFoundDetail(name, target));
    }
  });
});

/** Nothing in a tenant caller's response belongs to another tenant or to a global job. */
function expectOnlyOwnTenant(response: TestResponse) {
  const seen: unknown[] = [];
  const walk = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      // Jobs (objects with an id), not schemas that describe the field.
      if ('tenant_id' in value && typeof (value as { id?: unknown }).id === 'string')
        seen.push((value as { tenant_id: unknown }).tenant_id);
      Object.values(value).forEach(walk);
    }
  };
  walk(response.body);
  for (const tenant of seen) expect(tenant).toBe('acme');
  expect(response.text).not.toContain(jobs.other);
  expect(response.text).not.toContain(jobs.global);
}

describe('tenant scoping', () => {
  const as = (caller: CallerKind | 'other') =>
    caller === 'other'
      ? { authorization: `Bearer ${TOKENS.other}` }
      : { authorization: authorization[caller] };

  it('a tenant caller lists only its own jobs, whatever tenant_id it filters by; admins see all', async () => {
    const list = async (query: string, caller: CallerKind | 'other') => {
      const response = await request('GET', `/api/cron/jobs${query}`, { headers: as(caller) });
      expect(response.status).toBe(200);
      return (response.body.jobs as Array<{ id: string }>).map((job) => job.id).sort();
    };
    expect(await list('', 'tenant')).toEqual([jobs.own]);
    expect(await list('?tenant_id=globex', 'tenant')).toEqual([]);
    expect(await list('', 'other')).toEqual([jobs.other]);
    expect(await list('', 'admin')).toEqual([jobs.own, jobs.other, jobs.global].sort());
    expect(await list('?tenant_id=globex', 'admin')).toEqual([jobs.other]);
  });

  it('a create without tenant_id takes the caller’s tenant', async () => {
    const created = await request('POST', '/api/cron/jobs', {
      body: { name: 'mine', schedule: 'daily', function_name: 'noop' },
      headers: as('tenant'),
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body.tenant_id).toBe('acme');
  });

  it('moving a job between tenants is admin-only', async () => {
    const before = await snapshot();
    for (const tenant_id of ['globex', null]) {
      const moved = await request('PUT', `/api/cron/jobs/${jobs.own}`, {
        body: { tenant_id },
        headers: as('tenant'),
      });
      expectProblem(moved, 403);
    }
    expect(await snapshot()).toBe(before);
    // Naming its own tenant is no move.
    const same = await request('PUT', `/api/cron/jobs/${jobs.own}`, {
      body: { tenant_id: 'acme', timeout_seconds: 30 },
      headers: as('tenant'),
    });
    expect(same.status, same.text).toBe(200);
    const moved = await request('PUT', `/api/cron/jobs/${jobs.own}`, {
      body: { tenant_id: 'globex' },
      headers: as('admin'),
    });
    expect(moved.status, moved.text).toBe(200);
    expect(moved.body.tenant_id).toBe('globex');
    // Now it is the other tenant's, and gone for the first.
    expectProblem(
      await request('GET', `/api/cron/jobs/${jobs.own}`, { headers: as('tenant') }),
      404,
    );
    expect(
      (await request('GET', `/api/cron/jobs/${jobs.own}`, { headers: as('other') })).status,
    ).toBe(200);
  });
});
