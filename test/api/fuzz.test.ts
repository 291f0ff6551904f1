import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { builtInExecutors } from '../../lib/executors/built-ins';
import { createRegistry } from '../../lib/executors/registry';
import { testExecutors } from '../helpers/jobs';
import { expectProblem, startTestServer, type TestResponse } from '../helpers/server';

// Property tests: whatever a client sends, the answer is a 2xx or a 4xx problem document, never a
// 5xx; every response is also checked against the OpenAPI document by `request`.
const server = await startTestServer({
  registry: createRegistry([
    ...builtInExecutors,
    ...testExecutors.filter((e) => e.name !== 'hang'),
  ]),
});
const { request } = server;

const jobIds: string[] = [];
beforeAll(async () => {
  for (const [name, function_name] of [
    ['fuzz target a', 'noop'],
    ['fuzz target b', 'markUsersOffline'],
    ['fuzz target c', 'cleanOldActivities'],
  ]) {
    const response = await request('POST', '/api/cron/jobs', {
      body: { name, schedule: 'hourly', function_name, tenant_id: 'fuzz' },
    });
    expect(response.status).toBe(201);
    jobIds.push(response.body.id);
  }
});

function expectHandled(response: TestResponse, what: () => string): void {
  const problem = /^application\/problem\+json/.test(response.headers['content-type'] ?? '');
  if (response.status >= 500 || (response.status >= 400 && !problem)) {
    throw new Error(`${what()} → ${response.status} ${response.text.slice(0, 500)}`);
  }
  if (response.status >= 400) expectProblem(response, response.status, []);
}

const nasty = fc.constantFrom(
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff x',
  '😀',
  "'; drop table cron_job; --",
  '%00',
  '../..',
  'null',
  'undefined',
  '__proto__',
  'constructor',
  'x'.repeat(201),
  'x'.repeat(2000),
);
const text = fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 30 }), nasty);
const number = fc.oneof(
  fc.integer({ min: -2000, max: 2000 }),
  fc.double(),
  fc.constantFrom(0, -0, 1, 60, 840, 841, 1e308, -1e308, 5e-324, 2 ** 53, -1),
);
const executorName = fc.constantFrom(
  'noop',
  'fail',
  'sleep',
  'markUsersOffline',
  'cleanOldActivities',
  'syncDenormalizedFields',
  'cleanupOldRecords',
);
const schedule = fc.oneof(
  fc.constantFrom(
    'every_minute',
    'every_5_minutes',
    'every_7_minutes',
    'hourly',
    'every_6_hours',
    'daily',
    'weekly',
    'monthly',
    'at:2099-01-01T00:00',
    'at:2020-01-01T00:00',
  ),
  fc
    .tuple(
      fc.constantFrom('', '*', '0', '59', '60', '*/5', '1-5', 'L', '?', 'MON', '5#3', '-1'),
      fc.constantFrom('*', '0', '23', '24', '*/2'),
      fc.constantFrom('*', '1', '31', '32', 'L', '?'),
      fc.constantFrom('*', '1', '12', '13', 'JAN'),
      fc.constantFrom('*', '0', '7', '8', 'SUN', '?'),
    )
    .map((fields) => `cron:${fields.join(' ')}`),
  fc.string().map((s) => `cron:${s}`),
  fc.string().map((s) => `at:${s}`),
  text,
);
const timezone = fc.oneof(
  fc.constantFrom('UTC', 'Europe/Berlin', 'Asia/Kolkata', 'America/New_York', 'Mars/Base', 'utc'),
  text,
);
const metadata = fc.oneof(
  fc.record(
    {
      timeout_minutes: fc.oneof(number, text),
      retention_days: fc.oneof(number, text),
      batch_size: number,
      dry_run: fc.oneof(fc.boolean(), text),
      ms: fc.integer({ min: 0, max: 5 }),
      mappings: fc.oneof(fc.jsonValue(), fc.array(fc.object(), { maxLength: 2 })),
      execution_count: number,
    },
    { requiredKeys: [] },
  ),
  fc.object({ maxDepth: 3 }),
  fc.jsonValue({ maxDepth: 3 }),
);
const anyValue = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }) },
  { weight: 1, arbitrary: nasty },
);
const field = <T>(plausible: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 4, arbitrary: plausible }, { weight: 1, arbitrary: anyValue });

/** Bodies near the real shape, so that many pass the first checks and some create jobs. */
const plausibleBody = fc.record(
  {
    name: field(fc.oneof(fc.string({ minLength: 1, maxLength: 30 }), text)),
    schedule: field(schedule),
    function_name: field(fc.oneof(executorName, text)),
    timezone: field(timezone),
    is_active: field(fc.boolean()),
    metadata: field(metadata),
    tenant_id: field(fc.oneof(fc.constantFrom(null, 'acme', 'globex'), text)),
    timeout_seconds: field(number),
    precise: field(fc.boolean()),
    next_run: anyValue,
    extra: anyValue,
  },
  { requiredKeys: [] },
);
/** A valid job (config matching its executor), with up to two fields then replaced by junk. */
const validJob = fc
  .tuple(
    fc.record(
      {
        name: fc.string({ minLength: 1, maxLength: 40 }),
        schedule: fc.constantFrom(
          'every_minute',
          'every_5_minutes',
          'hourly',
          'every_6_hours',
          'daily',
          'weekly',
          'monthly',
          'at:2099-01-01T00:00',
          'cron:0 2 * * *',
          'cron:*/10 * * * 1-5',
        ),
      },
      { requiredKeys: ['name', 'schedule'] },
    ),
    fc.oneof(
      fc.record({ function_name: fc.constant('noop'), metadata: fc.object({ maxDepth: 2 }) }),
      fc.record(
        {
          function_name: fc.constant('markUsersOffline'),
          metadata: fc.record(
            { timeout_minutes: fc.integer({ min: 1, max: 1440 }) },
            { requiredKeys: [] },
          ),
        },
        { requiredKeys: ['function_name'] },
      ),
      fc.record(
        {
          function_name: fc.constant('cleanOldActivities'),
          metadata: fc.record(
            {
              retention_days: fc.integer({ min: 1, max: 36500 }),
              batch_size: fc.integer({ min: 1, max: 10000 }),
              dry_run: fc.boolean(),
            },
            { requiredKeys: [] },
          ),
        },
        { requiredKeys: ['function_name'] },
      ),
    ),
    fc.record(
      {
        timezone: fc.constantFrom('UTC', 'Europe/Berlin', 'Asia/Kolkata', 'America/New_York'),
        is_active: fc.boolean(),
        tenant_id: fc.oneof(fc.constantFrom(null, 'acme', 'globex'), fc.string({ minLength: 1 })),
        timeout_seconds: fc.integer({ min: 1, max: 840 }),
        precise: fc.boolean(),
      },
      { requiredKeys: [] },
    ),
    fc.array(
      fc.tuple(
        fc.constantFrom(
          'name',
          'schedule',
          'function_name',
          'timezone',
          'is_active',
          'metadata',
          'tenant_id',
          'timeout_seconds',
          'precise',
          'extra',
        ),
        fc.oneof(anyValue, text, number, schedule, metadata),
      ),
      { maxLength: 2 },
    ),
  )
  .map(([required, executor, optional, junk]) => ({
    ...required,
    ...executor,
    ...optional,
    ...Object.fromEntries(junk),
  }));

const body = fc.oneof(
  { weight: 6, arbitrary: validJob },
  { weight: 3, arbitrary: plausibleBody },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.object({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);
const rawBody = (value: unknown): string | undefined => {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
};

const queryValue = fc.oneof(
  fc.constantFrom('true', 'false', '0', '1', '50', '200', '201', '-1', '1e308', 'NaN', 'acme'),
  fc.integer({ min: -5, max: 300 }).map(String),
  text,
);
const queryName = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.constantFrom('is_active', 'tenant_id', 'function_name', 'limit', 'cursor'),
  },
  { weight: 1, arbitrary: text },
);
const query = fc.array(fc.tuple(queryName, queryValue), { maxLength: 4 }).map((pairs) => {
  const params = new URLSearchParams();
  for (const [name, value] of pairs) params.append(name, value);
  return params.toString();
});
const rawQuery = fc.oneof(
  { weight: 4, arbitrary: query },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 40 }).map(encodeURI) },
);
/** Every UTF-8 byte percent-encoded; unlike encodeURIComponent it takes unpaired surrogates. */
const percentEncode = (value: string) =>
  [...Buffer.from(value)].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');
const someId = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(0, 1, 2).map((i) => jobIds[i]!) },
  { weight: 1, arbitrary: fc.constant(randomUUID()) },
  { weight: 1, arbitrary: text.map(percentEncode) },
);

// Requests are sent two at a time; numRuns add up to about 1500 cases, 3000 requests.
const settings = { numRuns: 0, interruptAfterTimeLimit: 25_000, markInterruptAsFailure: false };

describe('no input produces a 5xx', () => {
  it('generated bodies, POSTed and PUT', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(body, someId, async (value, id) => {
        const payload = rawBody(value);
        const options = payload === undefined ? {} : { rawBody: payload };
        const [created, updated] = await Promise.all([
          request('POST', '/api/cron/jobs', options),
          request('PUT', `/api/cron/jobs/${id}`, options),
        ]);
        expectHandled(created, () => `POST ${payload}`);
        expectHandled(updated, () => `PUT ${id} ${payload}`);
      }),
      { ...settings, numRuns: 900 },
    );
  });

  it(
    'generated query strings for GET /jobs and GET /jobs/{id}/runs',
    { timeout: 60_000 },
    async () => {
      await fc.assert(
        fc.asyncProperty(rawQuery, someId, async (search, id) => {
          const [jobs, runs] = await Promise.all([
            request('GET', `/api/cron/jobs?${search}`),
            request('GET', `/api/cron/jobs/${id}/runs?${search}`),
          ]);
          expectHandled(jobs, () => `GET /jobs?${search}`);
          expectHandled(runs, () => `GET /jobs/${id}/runs?${search}`);
        }),
        { ...settings, numRuns: 600 },
      );
    },
  );

  it('generated cursors taken from real pages and then altered', async () => {
    const first = await request('GET', '/api/cron/jobs?limit=1');
    const cursor = first.body.next_cursor as string;
    expect(cursor).toEqual(expect.any(String));
    const decoded = Buffer.from(cursor, 'base64url').toString();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string().map((s) => decoded + s),
          fc.string().map((s) => s + decoded),
          fc.nat({ max: decoded.length }).map((n) => decoded.slice(0, n)),
          fc
            .oneof(fc.integer({ min: -1e15, max: 1e15 }).map(String), fc.constant('9'.repeat(17)))
            .map((n) => `${n}.${decoded.split('.')[1]}`),
        ),
        async (altered) => {
          const search = new URLSearchParams({
            cursor: Buffer.from(altered).toString('base64url'),
          });
          expectHandled(await request('GET', `/api/cron/jobs?${search}`), () => altered);
        },
      ),
      { ...settings, numRuns: 150 },
    );
  });
});
