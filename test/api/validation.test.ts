import { beforeAll, describe, expect, it } from 'vitest';
import { errorPaths, expectProblem, startTestServer, type TestResponse } from '../helpers/server';

const server = await startTestServer();
const { request, snapshot } = server;

const valid = { name: 'valid job', schedule: 'daily', function_name: 'markUsersOffline' };
let existingId = '';

beforeAll(async () => {
  const created = await request('POST', '/api/cron/jobs', {
    body: { ...valid, name: 'existing', tenant_id: 'acme', metadata: { timeout_minutes: 10 } },
  });
  expect(created.status).toBe(201);
  existingId = created.body.id;
});

/** Sends the request and asserts a 400 naming `path`, with the database unchanged. */
async function expectRefused(
  send: () => Promise<TestResponse>,
  path: string,
  message?: RegExp,
): Promise<TestResponse> {
  const before = await snapshot();
  const response = await send();
  expectProblem(response, 400);
  expect(errorPaths(response), response.text).toContain(path);
  const error = response.body.errors.find((e: { path: string }) => e.path === path);
  expect(error.message.length).toBeGreaterThan(0);
  if (message) expect(error.message).toMatch(message);
  expect(response.body.detail).toContain(error.message);
  expect(await snapshot()).toBe(before);
  return response;
}

const past = 'at:2020-01-01T09:00:00';
const nul = 'a\u0000b';
const deep = (depth: number): Record<string, unknown> => {
  let value: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < depth; i++) value = { a: value };
  return value;
};

// [what, the invalid fields, the path named]: each is refused by POST (with the other required
// fields valid) and by PUT (alone, against an existing job).
const fieldCases: Array<[string, Record<string, unknown>, string, RegExp?]> = [
  ['empty name', { name: '' }, 'name'],
  ['201-character name', { name: 'n'.repeat(201) }, 'name'],
  ['name with NUL', { name: nul }, 'name', /NUL/],
  ['name with an unpaired surrogate', { name: 'x\ud800' }, 'name'],
  ['name a number', { name: 5 }, 'name'],
  ['name null', { name: null }, 'name'],
  ['every_7_minutes', { schedule: 'every_7_minutes' }, 'schedule', /2, 3, 4, 5, 6/],
  ['cron minute 61', { schedule: 'cron:61 * * * *' }, 'schedule', /minute/],
  ['cron hour 24', { schedule: 'cron:0 24 * * *' }, 'schedule', /hour/],
  ['cron month 13', { schedule: 'cron:0 0 1 13 *' }, 'schedule', /month/],
  ['cron 7 fields', { schedule: 'cron:* * * * * * *' }, 'schedule', /7 fields/],
  ['30 February', { schedule: 'cron:0 0 30 2 *' }, 'schedule', /never/],
  ['L listed twice', { schedule: 'cron:0 0 L,L * *' }, 'schedule', /duplicate values found: L$/],
  [
    '# in a list',
    { schedule: 'cron:0 0 * * 1#2,3#4' },
    'schedule',
    /"0 0 \* \* 1#2,3#4": Constraint error, invalid dayOfWeek `#` and `,` special characters are incompatible$/,
  ],
  ['#6', { schedule: 'cron:0 0 * * MON#6' }, 'schedule', /"MON#6" needs #1 to #5 after the day/],
  ['W', { schedule: 'cron:0 0 15W * *' }, 'schedule', /"15W" is not supported/],
  ['at: in the past', { schedule: past }, 'schedule', /past/],
  ['at: not a date', { schedule: 'at:2026-02-30T09:00' }, 'schedule'],
  ['unknown schedule', { schedule: 'fortnightly' }, 'schedule', /every_minute/],
  ['schedule with whitespace', { schedule: ' daily' }, 'schedule', /whitespace/],
  ['empty schedule', { schedule: '' }, 'schedule'],
  ['schedule a boolean', { schedule: true }, 'schedule'],
  ['timezone Mars/Base', { timezone: 'Mars/Base' }, 'timezone', /Mars\/Base/],
  ['empty timezone', { timezone: '' }, 'timezone'],
  ['timezone an array', { timezone: ['UTC'] }, 'timezone'],
  ['unregistered function_name', { function_name: 'cleanupOldRecords' }, 'function_name'],
  ['function_name null', { function_name: null }, 'function_name'],
  ['metadata an array', { metadata: [] }, 'metadata'],
  ['metadata a string', { metadata: 'retention_days=30' }, 'metadata'],
  ['metadata null', { metadata: null }, 'metadata'],
  ['config out of range', { metadata: { timeout_minutes: -1 } }, 'metadata.timeout_minutes'],
  ['config of wrong type', { metadata: { timeout_minutes: '5' } }, 'metadata.timeout_minutes'],
  ['config key unknown', { metadata: { retention_days: 5 } }, 'metadata.retention_days'],
  ['metadata string with NUL', { metadata: { note: nul } }, 'metadata.note', /NUL/],
  ['metadata key with NUL', { metadata: { [nul]: 1 } }, `metadata.${nul}`],
  ['metadata too deep', { metadata: deep(40) }, `metadata${'.a'.repeat(32)}`, /nested/],
  ['timeout_seconds 0', { timeout_seconds: 0 }, 'timeout_seconds'],
  ['timeout_seconds 841', { timeout_seconds: 841 }, 'timeout_seconds'],
  ['timeout_seconds 1.5', { timeout_seconds: 1.5 }, 'timeout_seconds'],
  ['timeout_seconds "60"', { timeout_seconds: '60' }, 'timeout_seconds'],
  ['timeout_seconds -1', { timeout_seconds: -1 }, 'timeout_seconds'],
  ['timeout_seconds 1e308', { timeout_seconds: 1e308 }, 'timeout_seconds'],
  ['101-character tenant_id', { tenant_id: 't'.repeat(101) }, 'tenant_id'],
  ['empty tenant_id', { tenant_id: '' }, 'tenant_id'],
  ['tenant_id a number', { tenant_id: 42 }, 'tenant_id'],
  ['is_active "true"', { is_active: 'true' }, 'is_active'],
  ['is_active 1', { is_active: 1 }, 'is_active'],
  ['precise "yes"', { precise: 'yes' }, 'precise'],
  ['overlap "sometimes"', { overlap: 'sometimes' }, 'overlap', /queue_one/],
  ['overlap null', { overlap: null }, 'overlap'],
  ['max_concurrent_runs 0', { max_concurrent_runs: 0 }, 'max_concurrent_runs'],
  ['max_concurrent_runs 101', { max_concurrent_runs: 101 }, 'max_concurrent_runs'],
  ['max_concurrent_runs 1.5', { max_concurrent_runs: 1.5 }, 'max_concurrent_runs'],
  [
    'max_concurrent_runs 2 without allow',
    { max_concurrent_runs: 2 },
    'max_concurrent_runs',
    /allow/,
  ],
  ['priority 11', { priority: 11 }, 'priority'],
  ['priority -11', { priority: -11 }, 'priority'],
  ['priority 0.5', { priority: 0.5 }, 'priority'],
  ['priority "1"', { priority: '1' }, 'priority'],
  ['after: without a job', { schedule: 'after:' }, 'schedule', /at least one job/],
  ['after: not a job id', { schedule: 'after:job-a' }, 'schedule', /not a job id/],
  [
    'after: a job twice',
    { schedule: `after:${'0b5c3a8e-6f1d-4c2b-9a7e-2f4d6c8b1a30,'.repeat(2).slice(0, -1)}` },
    'schedule',
    /more than once/,
  ],
  [
    'after: a job that does not exist',
    { schedule: 'after:0b5c3a8e-6f1d-4c2b-9a7e-2f4d6c8b1a30' },
    'schedule',
    /no job 0b5c3a8e/,
  ],
  ['unknown field', { retention_days: 30 }, 'retention_days', /unknown field/],
  ['engine column', { next_run: '2030-01-01T00:00:00Z' }, 'next_run', /unknown field/],
  ['id', { id: '00000000-0000-4000-8000-000000000000' }, 'id', /unknown field/],
];

describe('POST /jobs refuses invalid input with a 400 naming the field, changing nothing', () => {
  it.each(fieldCases)('%s', async (_what, fields, path, message) => {
    await expectRefused(
      () => request('POST', '/api/cron/jobs', { body: { ...valid, ...fields } }),
      path,
      message,
    );
  });

  it.each(['name', 'schedule', 'function_name'])('a missing %s', async (field) => {
    const body: Record<string, unknown> = { ...valid };
    delete body[field];
    await expectRefused(() => request('POST', '/api/cron/jobs', { body }), field);
  });

  it.each([
    ['an array', []],
    ['a string', 'job'],
    ['null', null],
    ['a number', 1],
  ])('a body that is %s', async (_what, body) => {
    await expectRefused(() => request('POST', '/api/cron/jobs', { body }), '');
  });

  it('no body at all', async () => {
    await expectRefused(() => request('POST', '/api/cron/jobs'), '');
  });

  it('an unregistered function_name: the error names it and lists the registered ones', async () => {
    const response = await expectRefused(
      () =>
        request('POST', '/api/cron/jobs', {
          body: { ...valid, function_name: 'cleanupOldRecords' },
        }),
      'function_name',
    );
    expect(response.body.detail).toContain('cleanupOldRecords');
    for (const name of server.app.registry.names()) expect(response.body.detail).toContain(name);
  });

  it('reports every invalid field at once', async () => {
    const shape = await expectRefused(
      () =>
        request('POST', '/api/cron/jobs', {
          body: { ...valid, name: '', tenant_id: '', timeout_seconds: 0, extra: 1 },
        }),
      'name',
    );
    expect(errorPaths(shape).sort()).toEqual(['extra', 'name', 'tenant_id', 'timeout_seconds']);
    const meaning = await expectRefused(
      () =>
        request('POST', '/api/cron/jobs', {
          body: {
            ...valid,
            schedule: 'every_7_minutes',
            timezone: 'Mars/Base',
            metadata: { timeout_minutes: 0, retention_days: 1 },
          },
        }),
      'schedule',
    );
    expect(errorPaths(meaning).sort()).toEqual([
      'metadata.retention_days',
      'metadata.timeout_minutes',
      'schedule',
      'timezone',
    ]);
  });

  it('accepts the limits themselves', async () => {
    const response = await request('POST', '/api/cron/jobs', {
      body: {
        ...valid,
        name: 'n'.repeat(200),
        tenant_id: 't'.repeat(100),
        timeout_seconds: 840,
        metadata: { timeout_minutes: 1440 },
      },
    });
    expect(response.status, response.text).toBe(201);
    const minimal = await request('POST', '/api/cron/jobs', {
      body: { ...valid, name: 'x', timeout_seconds: 1, timezone: 'Pacific/Kiritimati' },
    });
    expect(minimal.status, minimal.text).toBe(201);
    for (const body of [response.body, minimal.body]) {
      expect((await request('DELETE', `/api/cron/jobs/${body.id}`)).status).toBe(204);
    }
  });
});

describe('PUT /jobs/{id} applies the same rules', () => {
  it.each(fieldCases)('%s', async (_what, fields, path, message) => {
    await expectRefused(
      () => request('PUT', `/api/cron/jobs/${existingId}`, { body: fields }),
      path,
      message,
    );
  });

  it.each([
    ['an array', []],
    ['a string', 'job'],
    ['null', null],
  ])('a body that is %s', async (_what, body) => {
    await expectRefused(() => request('PUT', `/api/cron/jobs/${existingId}`, { body }), '');
  });

  it('a config that no longer fits when only function_name changes', async () => {
    await expectRefused(
      () =>
        request('PUT', `/api/cron/jobs/${existingId}`, {
          body: { function_name: 'cleanOldActivities' },
        }),
      'metadata.timeout_minutes',
      /unknown field/,
    );
  });

  it('activating a one-off job whose time has passed', async () => {
    const created = await request('POST', '/api/cron/jobs', {
      body: { ...valid, name: 'one-off', schedule: past, is_active: false },
    });
    expect(created.status, created.text).toBe(201);
    await expectRefused(
      () => request('PUT', `/api/cron/jobs/${created.body.id}`, { body: { is_active: true } }),
      'schedule',
      /past/,
    );
  });
});

describe("Quartz's L, nL and n#k", () => {
  it.each([
    // The fifth Monday of February: 29 February on a Monday, next in 2044.
    ['cron:0 0 * 2 MON#5', '2044-02-29T00:00:00.000Z'],
    ['cron:0 0 L 2 *', null],
    ['cron:0 0 * * 5L', null],
    ['cron:0 0 1,15,L * *', null],
  ])('POST accepts %s with the next run the sweep would use', async (schedule, next) => {
    const response = await request('POST', '/api/cron/jobs', {
      body: { ...valid, name: `quartz ${schedule}`, schedule, timezone: 'UTC' },
    });
    expect(response.status, response.text).toBe(201);
    expect(response.body.schedule).toBe(schedule);
    if (next) expect(response.body.next_run).toBe(next);
    else expect(Date.parse(response.body.next_run)).toBeGreaterThan(Date.now());
  });
});

describe('at: at the end of the calendar', () => {
  const last = 'at:9999-12-31T23:59:59';

  it('POST refuses at:9999-12-31T23:59:59 west of UTC with a 400, and accepts it east of UTC', async () => {
    for (const timezone of ['America/New_York', 'Pacific/Honolulu', 'Etc/GMT+1']) {
      await expectRefused(
        () =>
          request('POST', '/api/cron/jobs', {
            body: { ...valid, name: `end ${timezone}`, schedule: last, timezone },
          }),
        'schedule',
        /after 9999-12-31T23:59:59Z/,
      );
    }
    const east = await request('POST', '/api/cron/jobs', {
      body: { ...valid, name: 'end of time in Tokyo', schedule: last, timezone: 'Asia/Tokyo' },
    });
    expect(east.status, east.text).toBe(201);
    expect(east.body.next_run).toBe('9999-12-31T14:59:59.000Z');
  });

  it('PUT refuses it too, whether the schedule or only the zone changes', async () => {
    await expectRefused(
      () =>
        request('PUT', `/api/cron/jobs/${existingId}`, {
          body: { schedule: last, timezone: 'America/Los_Angeles' },
        }),
      'schedule',
      /after 9999-12-31T23:59:59Z/,
    );
    const utc = await request('POST', '/api/cron/jobs', {
      body: { ...valid, name: 'end of time in UTC', schedule: last, timezone: 'UTC' },
    });
    expect(utc.status, utc.text).toBe(201);
    await expectRefused(
      () =>
        request('PUT', `/api/cron/jobs/${utc.body.id}`, { body: { timezone: 'America/Chicago' } }),
      'schedule',
      /in America\/Chicago is \+010000-01-01T05:59:59/,
    );
  });
});

describe('query parameters', () => {
  it.each([
    ['limit=0', 'limit'],
    ['limit=201', 'limit'],
    ['limit=-1', 'limit'],
    ['limit=1.5', 'limit'],
    ['limit=ten', 'limit'],
    ['limit=', 'limit'],
    ['limit=1&limit=2', 'limit'],
    ['limit=0x10', 'limit'],
    ['limit=1e1', 'limit'],
    ['limit=%2016', 'limit'],
    ['limit=%2B16', 'limit'],
    ['limit=16.0', 'limit'],
    ['limit=0b11', 'limit'],
    ['is_active=yes', 'is_active'],
    ['is_active=1', 'is_active'],
    ['is_active=TRUE', 'is_active'],
    ['tenant_id=', 'tenant_id'],
    [`tenant_id=${'t'.repeat(101)}`, 'tenant_id'],
    ['tenant_id=a%00b', 'tenant_id'],
    ['function_name=%00', 'function_name'],
    ['cursor=bad', 'cursor'],
    [`cursor=${Buffer.from('123.not-a-uuid').toString('base64url')}`, 'cursor'],
    ['cursor=', 'cursor'],
    ['sort=name', 'sort'],
    ['__proto__=1', '__proto__'],
    ['toString=1', 'toString'],
  ])('GET /jobs?%s', async (query, path) => {
    await expectRefused(() => request('GET', `/api/cron/jobs?${query}`), path);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=201', 'limit'],
    ['limit=abc', 'limit'],
    ['status=erroneous', 'status'],
    ['state=error', 'state'],
  ])('GET /jobs/{id}/runs?%s', async (query, path) => {
    await expectRefused(() => request('GET', `/api/cron/jobs/${existingId}/runs?${query}`), path);
  });

  it('reads limit as decimal digits, leading zeros included', async () => {
    for (let i = 0; i < 3; i++) {
      const created = await request('POST', '/api/cron/jobs', {
        body: { ...valid, name: `paging ${i}` },
      });
      expect(created.status, created.text).toBe(201);
    }
    const page = await request('GET', '/api/cron/jobs?limit=002');
    expect(page.status, page.text).toBe(200);
    expect(page.body.jobs).toHaveLength(2);
  });

  it('refuses unknown parameters on every route, and changes nothing', async () => {
    const { routeTable } = await import('../../lib/http/route-table');
    for (const route of routeTable) {
      const path = route.path.replace('{id}', existingId);
      const refused = await expectRefused(
        () =>
          request(route.method, `${path}?dry_run=true`, {
            body:
              route.method === 'POST' || route.method === 'PUT'
                ? { ...valid, name: `${route.name} dry` }
                : undefined,
          }),
        'dry_run',
        /unknown/,
      );
      expect(refused.status, `${route.method} ${route.path}`).toBe(400);
    }
    const listed = await request('GET', `/api/cron/jobs?limit=200`);
    expect(listed.body.jobs.map((job: { name: string }) => job.name)).not.toContain(
      'create-job dry',
    );
  });

  it('accepts the limits themselves', async () => {
    for (const path of [
      '/api/cron/jobs?limit=1',
      '/api/cron/jobs?limit=200',
      `/api/cron/jobs/${existingId}/runs?limit=1`,
      `/api/cron/jobs/${existingId}/runs?limit=200`,
    ]) {
      expect((await request('GET', path)).status, path).toBe(200);
    }
  });
});
