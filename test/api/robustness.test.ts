import { ENGINE_METADATA_KEYS } from '../../lib/engine/metadata';
import { describe, expect, it } from 'vitest';
import { builtInExecutors } from '../../lib/executors/built-ins';
import { createRegistry } from '../../lib/executors/registry';
import { testExecutors } from '../helpers/jobs';
import { expectNoLeak, expectProblem, startTestServer, type TestResponse } from '../helpers/server';

const server = await startTestServer({
  registry: createRegistry([...builtInExecutors, ...testExecutors]),
});
const { request, sql, snapshot } = server;

const valid = { schedule: 'daily', function_name: 'noop' };
let counter = 0;
const uniqueName = () => `job ${++counter}`;

/** Anything but a 5xx: a success, or a 4xx problem document. */
function expectHandled(response: TestResponse, what: string, echoes: string[] = []): void {
  expect(response.status, `${what}: ${response.text.slice(0, 300)}`).toBeLessThan(500);
  if (response.status >= 400) expectProblem(response, response.status, echoes);
  expectNoLeak(response, echoes);
}

const injections = [
  "'; drop table cron_job; --",
  "' or '1'='1",
  '" or ""="',
  '1; select pg_sleep(5)',
  '$$; delete from cron_job_run; $$',
  "') union select id, name from cron_job --",
  '\\x27; truncate cron_job cascade; --',
  '%27%20or%201=1',
  "admin'--",
  "1' and extractvalue(1, concat(0x7e, version())) --",
  "'::jsonb ->> 'x",
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
];

/** Which jobs exist and how many runs: an injected `truncate`, `delete` or `drop` changes them. */
async function tableContents() {
  const jobs = await sql<{ id: string }[]>`select id from cron_job`;
  const [runs] = await sql<{ count: number }[]>`select count(*)::int as count from cron_job_run`;
  return { jobs: jobs.map((job) => job.id).sort(), runs: runs!.count };
}

describe('SQL injection strings', () => {
  it.each(injections)('in every body field: %s', async (text) => {
    const fields: Array<Record<string, unknown>> = [
      { name: text },
      { tenant_id: text },
      { schedule: text },
      { schedule: `cron:${text}` },
      { schedule: `at:${text}` },
      { function_name: text },
      { timezone: text },
      { metadata: { [text]: text } },
      { [text]: 1 },
    ];
    const before = await tableContents();
    const target = await request('POST', '/api/cron/jobs', {
      body: { ...valid, name: uniqueName() },
    });
    const createdIds: string[] = [target.body.id];
    for (const field of fields) {
      const created = await request('POST', '/api/cron/jobs', {
        body: { ...valid, name: uniqueName(), ...field },
      });
      expectHandled(created, JSON.stringify(field), [text]);
      if (created.status === 201) {
        createdIds.push(created.body.id);
        // Stored verbatim, as data.
        const fetched = await request('GET', `/api/cron/jobs/${created.body.id}`);
        expect(fetched.body).toMatchObject(field);
      }
      const updated = await request('PUT', `/api/cron/jobs/${target.body.id}`, { body: field });
      expectHandled(updated, `PUT ${JSON.stringify(field)}`, [text]);
    }
    // Exactly the jobs there were plus the ones created, and no run added or removed.
    expect(await tableContents()).toEqual({
      jobs: [...before.jobs, ...createdIds].sort(),
      runs: before.runs,
    });
  });

  it.each(injections)('in every query parameter and the path: %s', async (text) => {
    // A job to lose, so an injected delete or truncate would show.
    expect(
      (await request('POST', '/api/cron/jobs', { body: { ...valid, name: uniqueName() } })).status,
    ).toBe(201);
    const before = await snapshot();
    const value = encodeURIComponent(text);
    for (const path of [
      `/api/cron/jobs?tenant_id=${value}`,
      `/api/cron/jobs?function_name=${value}`,
      `/api/cron/jobs?is_active=${value}`,
      `/api/cron/jobs?limit=${value}`,
      `/api/cron/jobs?cursor=${value}`,
      `/api/cron/jobs?cursor=${Buffer.from(`1.${text}`).toString('base64url')}`,
      `/api/cron/jobs?${value}=1`,
      `/api/cron/jobs/${value}`,
      `/api/cron/jobs/${value}/runs`,
      `/api/cron/jobs/${value}/runs?limit=${value}`,
    ]) {
      expectHandled(await request('GET', path), path, [text]);
    }
    for (const method of ['PUT', 'DELETE', 'POST']) {
      const path = `/api/cron/jobs/${value}${method === 'POST' ? '/run' : ''}`;
      const response = await request(method, path, { body: { name: 'x' } });
      expectHandled(response, `${method} ${path}`, [text]);
    }
    const listed = await request('GET', `/api/cron/jobs?tenant_id=${value}`);
    if (listed.status === 200) {
      for (const job of listed.body.jobs) expect(job.tenant_id).toBe(text);
    }
    // Every request was refused or only read: both tables are exactly as they were.
    expect(await snapshot()).toBe(before);
  });
});

describe('wrong shapes, sizes and numbers', () => {
  it.each([
    ['an array body', []],
    ['an array of jobs', [{ ...valid, name: 'x' }]],
    ['metadata an array', { ...valid, name: 'x', metadata: [1, 2] }],
    ['metadata an array of objects', { ...valid, name: 'x', metadata: [{}] }],
    ['name an array', { ...valid, name: ['x'] }],
    ['name an object', { ...valid, name: { $ne: null } }],
    ['tenant_id an object', { ...valid, name: 'x', tenant_id: { toString: 'x' } }],
    ['schedule an object', { ...valid, name: 'x', schedule: { cron: '* * * * *' } }],
    ['timeout_seconds 1e308', { ...valid, name: 'x', timeout_seconds: 1e308 }],
    ['timeout_seconds -1e308', { ...valid, name: 'x', timeout_seconds: -1e308 }],
    ['timeout_seconds 2^53', { ...valid, name: 'x', timeout_seconds: 2 ** 53 }],
    ['timeout_seconds 5e-324', { ...valid, name: 'x', timeout_seconds: 5e-324 }],
    ['timeout_seconds -0', { ...valid, name: 'x', timeout_seconds: -0 }],
    [
      'config 1e308',
      {
        ...valid,
        name: 'x',
        function_name: 'markUsersOffline',
        metadata: { timeout_minutes: 1e308 },
      },
    ],
  ])('%s', async (_what, body) => {
    const before = await snapshot();
    const response = await request('POST', '/api/cron/jobs', { body });
    expectProblem(response, 400);
    expect(await snapshot()).toBe(before);
  });

  it.each([
    ['1e400', '{"name":"x","schedule":"daily","function_name":"noop","timeout_seconds":1e400}'],
    ['-1e400', '{"name":"x","schedule":"daily","function_name":"noop","timeout_seconds":-1e400}'],
    ['NaN', '{"name":"x","schedule":"daily","function_name":"noop","timeout_seconds":NaN}'],
    [
      'a 400-digit integer',
      `{"name":"x","schedule":"daily","function_name":"noop","timeout_seconds":${'9'.repeat(400)}}`,
    ],
    ['a duplicate key', '{"name":"x","name":"y","schedule":"daily","function_name":"nope"}'],
    [
      '__proto__',
      '{"name":"x","schedule":"daily","function_name":"noop","__proto__":{"is_active":false}}',
    ],
    [
      'constructor',
      '{"name":"x","schedule":"daily","function_name":"noop","constructor":{"prototype":{}}}',
    ],
  ])('numbers and keys only raw JSON can carry: %s', async (_what, body) => {
    const before = await snapshot();
    const response = await request('POST', '/api/cron/jobs', { rawBody: body });
    expectProblem(response, 400);
    expect(await snapshot()).toBe(before);
  });

  it('huge numbers and keys inside metadata are stored as given', async () => {
    const metadata = {
      big: 1e308,
      small: -1e308,
      tiny: 5e-324,
      nested: { list: [1, 'two', null] },
    };
    const response = await request('POST', '/api/cron/jobs', {
      body: { ...valid, name: uniqueName(), metadata },
    });
    expect(response.status, response.text).toBe(201);
    expect(response.body.metadata).toMatchObject(metadata);
  });

  it('deeply nested metadata is refused, whatever the depth, and so are deep fields', async () => {
    for (const depth of [33, 100, 1000, 10_000, 30_000]) {
      for (const [open, close] of [
        ['{"a":', '}'],
        ['[', ']'],
      ]) {
        const deep = `${open!.repeat(depth)}1${close!.repeat(depth)}`;
        for (const body of [
          `{"name":"deep","schedule":"daily","function_name":"noop","metadata":{"a":${deep}}}`,
          `{"name":${deep},"schedule":"daily","function_name":"noop"}`,
          deep,
        ]) {
          const before = await snapshot();
          const response = await request('POST', '/api/cron/jobs', { rawBody: body });
          expect([400, 413], `depth ${depth}: ${response.text.slice(0, 200)}`).toContain(
            response.status,
          );
          expectProblem(response, response.status);
          expect(await snapshot()).toBe(before);
        }
      }
    }
    const ok = await request('POST', '/api/cron/jobs', {
      rawBody: `{"name":"deep ok","schedule":"daily","function_name":"noop","metadata":${'{"a":'.repeat(32)}1${'}'.repeat(32)}}`,
    });
    expect(ok.status, ok.text).toBe(201);
  });

  it('huge metadata just under the body limit is stored and served', async () => {
    const metadata: Record<string, string> = {};
    for (let i = 0; i < 1300; i++) metadata[`key_${i}`] = 'v'.repeat(30);
    const body = { ...valid, name: uniqueName(), metadata };
    expect(JSON.stringify(body).length).toBeLessThan(64 * 1024);
    const response = await request('POST', '/api/cron/jobs', { body });
    expect(response.status, response.text.slice(0, 300)).toBe(201);
    const fetched = await request('GET', `/api/cron/jobs/${response.body.id}`);
    expect(Object.keys(fetched.body.metadata)).toHaveLength(1300 + ENGINE_METADATA_KEYS.length);
    expectHandled(await request('GET', '/api/cron/jobs?limit=200'), 'list');
  });
});

describe('time zones and cron fields', () => {
  it.each([
    'Mars/Base',
    'UTC+5',
    'GMT+25',
    'Etc/GMT+14',
    '+05:00',
    '../../etc/passwd',
    'Europe/../UTC',
    'europe/berlin',
    'America/New York',
    'z'.repeat(64),
    'z'.repeat(65),
    '\u0000',
    'Europe/Berlin\n',
    'ÜTC',
    '🕐',
  ])('timezone %j', async (timezone) => {
    const response = await request('POST', '/api/cron/jobs', {
      body: { ...valid, name: uniqueName(), timezone },
    });
    expectHandled(response, timezone);
  });

  it.each([
    'cron:60 * * * *',
    'cron:-1 * * * *',
    'cron:* 24 * * *',
    'cron:* * 0 * *',
    'cron:* * 32 * *',
    'cron:* * * 0 *',
    'cron:* * * 13 *',
    'cron:* * * * 8',
    'cron:60 * * * * *',
    'cron:*/0 * * * *',
    'cron:*/99999999999999999999 * * * *',
    'cron:99999999999999999999 * * * *',
    'cron:1-0 * * * *',
    'cron:59-1 * * * *',
    'cron:0 0 31 2 *',
    'cron:0 0 31 4,6,9,11 *',
    'cron:0 0 L * *',
    'cron:0 0 * * 5#6',
    'cron:0 0 * * 5L',
    'cron:0 0 ? * ?',
    'cron:0 0 1 * 1',
    'cron:H * * * *',
    'cron:@daily',
    'cron:',
    'cron: ',
    'cron:* * * * *\n* * * * *',
    'cron:,,,,, * * * *',
    'cron:*/1-5 * * * *',
    'cron:0 0 29 2 *',
    'cron:0 0 * JAN-DEC SUN-SAT',
    'cron:0 0 * FOO *',
    'at:2026-02-29T00:00',
    'at:99999-01-01T00:00',
    'at:1969-12-31T23:59',
    'at:2999-12-31T24:00',
    'at:2999-01-01T00:00:60',
    'at:2999-01-01T00:00Z',
    'at:2999-01-01',
    'every_0_minutes',
    'every_60_minutes',
    'every_1_hours',
    'every_24_hours',
    'every_-5_minutes',
    `every_${'9'.repeat(300)}_minutes`,
    // Names every JavaScript object has: no alias table may answer to them.
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    'valueOf',
  ])('schedule %j', async (schedule) => {
    const response = await request('POST', '/api/cron/jobs', {
      body: { ...valid, name: uniqueName(), schedule },
    });
    expectHandled(response, schedule);
    if (response.status === 201) {
      expect(response.body.schedule).toBe(schedule);
      expect(Date.parse(response.body.next_run)).toBeGreaterThan(Date.now());
    } else {
      expect(response.body.errors.map((e: { path: string }) => e.path)).toContain('schedule');
    }
  });
});

describe('invalid UTF-8 and odd paths', () => {
  it.each([
    ['a lone continuation byte', [0x80]],
    ['an invalid byte', [0xff]],
    ['an overlong slash', [0xc0, 0xaf]],
    ['a truncated sequence', [0xe2, 0x82]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['a code point past U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ])('a body with %s is refused with 400, changing nothing', async (_what, bytes) => {
    const job = await request('POST', '/api/cron/jobs', { body: { ...valid, name: uniqueName() } });
    const body = Buffer.concat([
      Buffer.from('{"name":"bad '),
      Buffer.from(bytes),
      Buffer.from('","schedule":"daily","function_name":"noop"}'),
    ]);
    const before = await snapshot();
    for (const [method, path] of [
      ['POST', '/api/cron/jobs'],
      ['PUT', `/api/cron/jobs/${job.body.id}`],
    ] as const) {
      const response = await request(method, path, { rawBody: body });
      expectProblem(response, 400);
      expect(response.body.detail).toMatch(/UTF-8/);
    }
    expect(await snapshot()).toBe(before);
  });

  it('a body with a byte order mark, and non-ASCII text, is read as UTF-8', async () => {
    const name = `Größe ✓ 日本 ${uniqueName()} 😀`;
    const body = Buffer.from(`\ufeff${JSON.stringify({ ...valid, name })}`);
    const response = await request('POST', '/api/cron/jobs', { rawBody: body });
    expect(response.status, response.text).toBe(201);
    expect(response.body.name).toBe(name);
  });

  it.each([
    '/api/cron/jobs/%E0%A4%A',
    '/api/cron/jobs/%E0%A4%A/runs',
    '/api/cron/jobs/..%2F..',
    '/api/cron/jobs/..%2F..%2Fhealth',
    '/api/cron/jobs/%2e%2e',
    '/api/cron/jobs/%2e%2e/%2e%2e/health',
    '/api/cron/jobs/%00',
    '/api/cron/jobs/%',
    '/api/cron/jobs/%25',
    '/api/cron/jobs/%ZZ',
    '/api/cron/jobs/%F0%9F%98%80',
    '/api/cron/jobs/%C3%A9t%C3%A9',
    '/api/cron/jobs/%FF%FE',
    '/api/cron/jobs/%ED%A0%80',
    `/api/cron/jobs/${'a'.repeat(4000)}`,
    '/api/cron/jobs/a;b=c',
    '/api/cron/jobs/%20',
    '/api/cron/jobs/%0d%0aSet-Cookie:%20x=y',
    '/api/cron/jobs?%',
    '/api/cron/jobs?cursor=%E0%A4%A',
    '/api/cron/jobs?limit=%F0%9F%98%80',
    '/api/cron/jobs?&&&=&=',
    '/api/cron/jobs?tenant_id=%ED%A0%80',
    '/api/cron/jobs?tenant_id=a&tenant_id=b',
    '//api/cron/jobs',
    '/api/cron/./jobs',
    '/api/cron/jobs/../health',
    '/api/cron%2Fjobs',
    '/api%00/cron/jobs',
    '*',
  ])('%s', async (path) => {
    for (const method of ['GET', 'PUT', 'DELETE', 'POST']) {
      const response = await request(method, path, method === 'PUT' ? { body: {} } : {});
      expectHandled(response, `${method} ${path}`);
      expect(response.headers['set-cookie']).toBeUndefined();
    }
  });
});
