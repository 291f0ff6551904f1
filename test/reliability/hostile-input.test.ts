import { SYSTEM_CALLER } from '../../lib/identity/caller';
import { parseLocalTokens } from '../../lib/identity/local-tokens';
import { Agent, request as httpRequest } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context';
import { createBuiltInRegistry } from '../../lib/executors/built-ins';
import { createJob } from '../../lib/jobs/service';
import { startLocalServer, type LocalServer } from '../../lib/local/server';
import { silentLog } from '../../lib/logger';
import { createTestDatabase } from '../helpers/database';
import { waitFor } from '../helpers/wait';
import { figures, seconds } from './helpers';

// Scenario 7: an API on the internet gets garbage. Generated requests over every route of the
// real local server, half of them with the valid bearer token: no 5xx, every refusal an RFC 9457
// problem document that leaks nothing, and a refused request leaves the database exactly as it
// was (every row of every table, compared as text before and after each request).
const REQUESTS = Number(process.env.RELIABILITY_REQUESTS ?? 10_000);
const SEED = Number(process.env.RELIABILITY_SEED ?? Date.now() % 2_147_483_647);
const TOKEN = 'reliability-token-0123456789abcdef';

const { sql } = await createTestDatabase();
const app: AppContext = {
  sql,
  registry: createBuiltInRegistry(),
  log: silentLog,
  settings: { sweepIntervalSeconds: 300, sweepConcurrency: 4 },
};
let server: LocalServer;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
/** Job ids the generator can aim at: seeded ones, then whatever the fuzz itself creates. */
const knownIds: string[] = [];
let fingerprintSql = '';

beforeAll(async () => {
  for (const [index, function_name] of app.registry.names().entries()) {
    const { job } = await createJob(app, SYSTEM_CALLER, {
      name: `seed ${index}`,
      schedule: index === 0 ? 'every_minute' : 'daily',
      function_name,
      tenant_id: index === 1 ? 'tenant-a' : null,
      // The only built-in without a default for every config field.
      ...(function_name === 'httpRequest'
        ? { metadata: { url: 'https://hooks.example.com/x' } }
        : {}),
    });
    knownIds.push(job.id);
  }
  // Every row of every table in the schema, as text, in a stable order, hashed.
  const tables = await sql<{ name: string }[]>`
    select quote_ident(tablename) as name from pg_tables
    where schemaname = current_schema() order by tablename`;
  fingerprintSql = `select md5(${tables
    .map(
      ({ name }) =>
        `'${name}:' || coalesce((select md5(string_agg(t::text, E'\\n' order by t::text)) from ${name} t), '')`,
    )
    .join(` || E'\\n' || `)}) as fingerprint`;
  server = await startLocalServer({
    app,
    log: silentLog,
    host: '127.0.0.1',
    port: 0,
    tokens: parseLocalTokens(undefined, TOKEN),
  });
});

afterAll(async () => {
  agent.destroy();
  await server?.close();
});

async function fingerprint(): Promise<string> {
  const [row] = await sql.unsafe<{ fingerprint: string }[]>(fingerprintSql, [], { prepare: true });
  return row!.fingerprint;
}

// ---------------------------------------------------------------------------------------------
// The generator

const AUTH = {
  valid: `Bearer ${TOKEN}`,
  none: undefined,
  wrong: 'Bearer reliability-token-0123456789abcdeX',
  empty: 'Bearer ',
  basic: `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}`,
  'no scheme': TOKEN,
  'token prefix': `Bearer ${TOKEN.slice(0, -1)}`,
  long: `Bearer ${'x'.repeat(4000)}`,
} as const;
type AuthKind = keyof typeof AUTH;

/** Percent-encodes the UTF-8 bytes of any string, unpaired surrogates included (as U+FFFD). */
function percentEncode(value: string): string {
  let encoded = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const char = String.fromCharCode(byte);
    encoded += /[A-Za-z0-9\-._~]/.test(char)
      ? char
      : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}

const nasty = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '\ud800',
    '\u202e',
    "'; drop table cron_job; --",
    '${jndi:ldap://x}',
    '<script>alert(1)</script>',
    '../../etc/passwd',
    '%00',
    'null',
    'undefined',
    '__proto__',
    'constructor',
    '9'.repeat(400),
    'x'.repeat(201),
    'x'.repeat(70_000),
  ),
);

/** Mostly `valid`, sometimes `hostile`: requests get past the first check often enough to reach the deep ones. */
const mostly = <T, U>(valid: fc.Arbitrary<T>, hostile: fc.Arbitrary<U>) =>
  fc.oneof({ weight: 9, arbitrary: valid }, { weight: 1, arbitrary: hostile });

const anyJson = fc.jsonValue({ maxDepth: 4 });

const schedule = mostly(
  fc.constantFrom(
    'every_minute',
    'every_5_minutes',
    'hourly',
    'every_3_hours',
    'daily',
    'weekly',
    'monthly',
    'cron:0 2 * * *',
    'cron:*/15 * * * *',
    'cron:0 0 0 * * *',
    'cron:0 0 L * *',
    'cron:0 0 * * 5#5',
    'at:2099-12-01T09:00:00',
    'at:2026-03-08T02:30',
  ),
  fc.oneof(
    fc.constantFrom(
      'every_7_minutes',
      'cron:0 0 30 2 *',
      'cron:61 * * * *',
      'cron:H * * * *',
      'cron:* * * * * * *',
      'cron:0 0 1 * 1',
      'cron: 0 2 * * *',
      'at:2000-01-01T00:00',
      'at:2026-02-30T00:00',
      'at:99999-01-01T00:00',
      ' daily',
    ),
    fc
      .array(
        fc.constantFrom('*', '0', '59', '*/5', '1-5', 'L', '?', 'MON', '#', ',', '99', '-1', '*/0'),
        { maxLength: 7 },
      )
      .map((fields) => `cron:${fields.join(' ')}`),
    nasty,
    anyJson,
  ),
);

const timezone = mostly(
  fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'Etc/GMT-14'),
  fc.oneof(fc.constantFrom('utc', 'Mars/Olympus', 'Europe/../UTC', '+01:00'), nasty, anyJson),
);

const functionName = mostly(
  fc.constantFrom('markUsersOffline', 'cleanOldActivities', 'syncDenormalizedFields'),
  fc.oneof(fc.constantFrom('nope', 'MarkUsersOffline', 'constructor'), nasty, anyJson),
);

const metadata = mostly(
  fc.constantFrom(
    {},
    {},
    {},
    { execution_count: 999, last_error: 'forged' },
    { retention_days: 30 },
    { timeout_minutes: 5 },
  ),
  fc.oneof(
    fc.constantFrom(
      { retention_days: -1 },
      { retention_days: '30' },
      { retention_days: 1e308 },
      { mappings: [] },
      { mappings: [{ table: 'users', column: 'x' }] },
      { mappings: [{ table: 'pg_authid', column: 'rolpassword' }] },
    ),
    fc.dictionary(fc.oneof(fc.string({ maxLength: 12 }), nasty), anyJson, { maxKeys: 4 }),
    anyJson,
  ),
);

const jobFields = {
  name: mostly(
    fc.integer({ min: 0, max: 60 }).map((n) => `fuzz ${n}`),
    fc.oneof(fc.constantFrom('', 'seed 0', 'x'.repeat(201)), nasty, anyJson),
  ),
  schedule,
  function_name: functionName,
  timezone,
  is_active: mostly(fc.boolean(), anyJson),
  metadata,
  tenant_id: mostly(
    fc.constantFrom(null, 'tenant-a', 'tenant-b'),
    fc.oneof(fc.constantFrom('', 'x'.repeat(101)), nasty, anyJson),
  ),
  timeout_seconds: mostly(
    fc.integer({ min: 1, max: 840 }),
    fc.constantFrom(0, -1, 841, 1.5, 1e308, '60', null, true),
  ),
  precise: mostly(fc.boolean(), anyJson),
};

/** A job body: usually a complete create body, sometimes any subset, sometimes with fields the API does not have. */
const jobBody = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record(jobFields, {
      requiredKeys: ['name', 'schedule', 'function_name'],
    }),
  },
  { weight: 3, arbitrary: fc.record(jobFields, { requiredKeys: [] }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.record(jobFields, { requiredKeys: [] }),
        fc.constantFrom(
          { id: '00000000-0000-0000-0000-000000000000' },
          { next_run: '2000-01-01T00:00:00Z' },
          { last_run: null },
          { created_at: 'yesterday' },
          { extra: 1 },
        ),
      )
      .map(([fields, extra]) => ({ ...fields, ...extra })),
  },
);

const body = fc.oneof(
  { weight: 12, arbitrary: jobBody.map((value) => JSON.stringify(value)) },
  { weight: 2, arbitrary: anyJson.map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: nasty },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '{"name":',
      '{"name":"a","name":"b","schedule":"daily","function_name":"cleanOldActivities"}',
      '{"__proto__":{"is_active":false},"name":"proto","schedule":"daily","function_name":"cleanOldActivities"}',
      '{"constructor":{"prototype":{"x":1}},"name":"ctor","schedule":"daily","function_name":"cleanOldActivities"}',
      `{"name":"deep","schedule":"daily","function_name":"cleanOldActivities","metadata":${'['.repeat(3000)}${']'.repeat(3000)}}`,
      `{"name":"big","schedule":"daily","function_name":"cleanOldActivities","metadata":{"x":"${'y'.repeat(70_000)}"}}`,
      '\ufeff{}',
      '[]',
      'null',
      '1e999999',
    ),
  },
);

// Path segments stay short enough that the request head fits Node's 16 KiB limit; a test below
// covers a head over the limit on its own.
const short = nasty.filter((value) => value.length <= 300);

const idSegment = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 999 }).map((n) => `known:${n}`) },
  { weight: 2, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: short.map(percentEncode) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '%ZZ',
      '%00',
      '%ED%A0%80',
      '%C0%AF',
      '..',
      '%2e%2e',
      '%2F',
      'a/b',
      'known:0/',
      '00000000-0000-0000-0000-000000000000',
      '00000000-0000-0000-0000-00000000000G',
    ),
  },
);

const ROUTE_CALLS = [
  ['GET', '/api/cron/health'],
  ['GET', '/api/cron/openapi.json'],
  ['GET', '/api/cron/executors'],
  ['GET', '/api/cron/jobs'],
  ['POST', '/api/cron/jobs'],
  ['POST', '/api/cron/jobs'],
  ['POST', '/api/cron/jobs'],
  ['GET', '/api/cron/jobs/{id}'],
  ['PUT', '/api/cron/jobs/{id}'],
  ['PUT', '/api/cron/jobs/{id}'],
  ['DELETE', '/api/cron/jobs/{id}'],
  ['POST', '/api/cron/jobs/{id}/run'],
  ['GET', '/api/cron/jobs/{id}/runs'],
  ['POST', '/api/cron/run'],
] as const;
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE'];

const call = fc.oneof(
  // A route's own method.
  {
    weight: 8,
    arbitrary: fc
      .tuple(fc.constantFrom(...ROUTE_CALLS), idSegment)
      .map(([[method, template], id]) => ({ method, path: template.replace('{id}', id) })),
  },
  // Another method on a real route.
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(...METHODS), fc.constantFrom(...ROUTE_CALLS), idSegment)
      .map(([method, [, template], id]) => ({ method, path: template.replace('{id}', id) })),
  },
  // Paths no route has.
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...METHODS),
        fc.oneof(
          fc
            .array(fc.oneof(fc.constantFrom('api', 'cron', 'jobs', '', '.', '..'), idSegment), {
              maxLength: 6,
            })
            .map((segments) => `/${segments.join('/')}`),
          fc.constantFrom(
            '/',
            '//api/cron/jobs',
            '/api/cron/jobs/',
            '/API/CRON/JOBS',
            '/api/cron/jobs?',
            '/api/cron/jobs#x',
            '/api/cron/jobs;x',
            `/api/cron/${'a'.repeat(4000)}`,
          ),
        ),
      )
      .map(([method, path]) => ({ method, path })),
  },
);

const queryValue = fc.oneof(
  fc.constantFrom('true', 'false', '1', '0', '-1', '50', '200', '201', '1e2', '0x10', 'NaN', ''),
  fc.constantFrom('tenant-a', 'markUsersOffline'),
  fc.base64String({ maxLength: 80 }),
  short,
);
const query = fc.oneof(
  { weight: 3, arbitrary: fc.constant([] as Array<[string, string]>) },
  {
    weight: 2,
    arbitrary: fc.array(
      fc.tuple(
        fc.oneof(
          fc.constantFrom(
            'limit',
            'cursor',
            'is_active',
            'tenant_id',
            'function_name',
            '__proto__',
            'constructor',
            'toString',
            'hasOwnProperty',
          ),
          short,
        ),
        queryValue,
      ),
      { maxLength: 4 },
    ),
  },
);

const contentType = mostly(
  fc.constantFrom('application/json', 'application/json; charset=utf-8'),
  fc.constantFrom(
    undefined,
    'APPLICATION/JSON',
    'application/merge-patch+json',
    'application/problem+json',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/jsonx',
    '',
  ),
);

const hostileRequest = fc
  .record({
    call,
    query,
    auth: fc.oneof(
      { weight: 7, arbitrary: fc.constant<AuthKind>('valid') },
      {
        weight: 7,
        arbitrary: fc.constantFrom<AuthKind>(
          'none',
          'wrong',
          'empty',
          'basic',
          'no scheme',
          'token prefix',
          'long',
        ),
      },
    ),
    contentType,
    body: fc.option(body, { freq: 4 }),
  })
  .map(({ call: { method, path }, ...rest }) => ({ method, path, ...rest }));
type HostileRequest = typeof hostileRequest extends fc.Arbitrary<infer T> ? T : never;

// ---------------------------------------------------------------------------------------------
// Sending and judging

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

function send(method: string, target: string, headers: Record<string, string>, payload?: Buffer) {
  const url = new URL(server.url);
  return new Promise<Answer>((resolve, reject) => {
    const req = httpRequest(
      { agent, host: url.hostname, port: url.port, method, path: target, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function target(request: HostileRequest): string {
  const resolved = request.path.replace(
    /known:(\d+)/g,
    (_, n: string) => knownIds[Number(n) % knownIds.length]!,
  );
  if (request.query.length === 0) return resolved;
  const search = request.query
    .map(([key, value]) => `${percentEncode(key)}=${percentEncode(value)}`)
    .join('&');
  return `${resolved}${resolved.includes('?') ? '&' : '?'}${search}`;
}

const ROUTES = [
  { method: 'GET', pattern: /^\/api\/cron\/health$/, auth: false },
  { method: 'GET', pattern: /^\/api\/cron\/openapi\.json$/, auth: true },
  { method: 'GET', pattern: /^\/api\/cron\/executors$/, auth: true },
  { method: 'GET', pattern: /^\/api\/cron\/jobs$/, auth: true },
  { method: 'POST', pattern: /^\/api\/cron\/jobs$/, auth: true },
  { method: 'GET', pattern: /^\/api\/cron\/jobs\/[^/]+$/, auth: true },
  { method: 'PUT', pattern: /^\/api\/cron\/jobs\/[^/]+$/, auth: true },
  { method: 'DELETE', pattern: /^\/api\/cron\/jobs\/[^/]+$/, auth: true },
  { method: 'POST', pattern: /^\/api\/cron\/jobs\/[^/]+\/run$/, auth: true },
  { method: 'GET', pattern: /^\/api\/cron\/jobs\/[^/]+\/runs$/, auth: true },
  { method: 'POST', pattern: /^\/api\/cron\/run$/, auth: true },
];

// SQL is looked for within one JSON string: prose across fields (an OpenAPI description saying
// "Set when …" after an operation named update-job) is not a statement.
const LEAK =
  /\n\s+at |node_modules|PostgresError|\bselect\b[^"]*\bfrom\b|\binsert into\b|\bupdate\b[^"]*\bset\b/i;

const stats = {
  requests: 0,
  byAuth: new Map<string, number>(),
  byStatus: new Map<number, number>(),
  refused: 0,
  serverErrors: 0,
  changedByRefused: 0,
  notProblems: 0,
  created: 0,
};
let current: string | undefined;
/** Broken rules, by rule: how often, and the first request that broke it. */
const violations = new Map<string, { count: number; example: string }>();

function violated(rule: string, example: string): void {
  const known = violations.get(rule);
  if (known) known.count += 1;
  else violations.set(rule, { count: 1, example });
}

function isProblemDocument(answer: Answer, method: string): boolean {
  if (!/^application\/problem\+json/.test(answer.contentType)) return false;
  if (method === 'HEAD') return true;
  try {
    const problem = JSON.parse(answer.text) as Record<string, unknown>;
    const errors = problem.errors;
    return (
      typeof problem.type === 'string' &&
      typeof problem.title === 'string' &&
      problem.status === answer.status &&
      typeof problem.detail === 'string' &&
      (errors === undefined ||
        (Array.isArray(errors) &&
          errors.every(
            (e: { path?: unknown; message?: unknown }) =>
              typeof e.path === 'string' && typeof e.message === 'string',
          )))
    );
  } catch {
    return false;
  }
}

/**
 * Sends one generated request and checks every rule, recording what it breaks instead of
 * stopping, so one run reports every kind of failure with its count and a first example.
 */
async function judge(request: HostileRequest): Promise<void> {
  const headers: Record<string, string> = {};
  const authorization = AUTH[request.auth];
  if (authorization !== undefined) headers.authorization = authorization;
  if (request.contentType !== undefined) headers['content-type'] = request.contentType;
  const payload = request.body === null ? undefined : Buffer.from(request.body);
  if (payload) headers['content-length'] = String(payload.length);
  const to = target(request);

  // Only our requests write to this database, one at a time: the state after one is the state
  // before the next.
  const before = (current ??= await fingerprint());
  const answer = await send(request.method, to, headers, payload);
  // An accepted run-now (202) goes on in the background: let it finish first, so the next
  // request's "before" is not moved by it.
  if (answer.status === 202) {
    await waitFor('the accepted run to finish', async () => {
      const [row] = await sql<{ running: number }[]>`
        select count(*)::int as running from cron_job_run where status = 'running'`;
      return row!.running === 0 || undefined;
    });
  }
  const after = (current = await fingerprint());

  stats.requests += 1;
  stats.byAuth.set(request.auth, (stats.byAuth.get(request.auth) ?? 0) + 1);
  stats.byStatus.set(answer.status, (stats.byStatus.get(answer.status) ?? 0) + 1);
  const example =
    `${request.method} ${to.slice(0, 300)} [auth ${request.auth}, content-type ` +
    `${request.contentType}, body ${request.body?.slice(0, 200)}] -> ${answer.status} ` +
    `${answer.text.slice(0, 300)}`;

  if (answer.status >= 500) {
    stats.serverErrors += 1;
    violated(`${answer.status} response`, example);
  }
  if (answer.text.includes(TOKEN)) violated('the token is echoed', example);
  if (LEAK.test(answer.text)) violated('a stack trace or SQL text leaks', example);

  if (answer.status >= 400) {
    stats.refused += 1;
    if (before !== after) {
      stats.changedByRefused += 1;
      violated('a refused request changed the database', example);
    }
    if (!isProblemDocument(answer, request.method)) {
      stats.notProblems += 1;
      violated('a refusal is not a problem document', example);
    }
  } else if (request.method !== 'HEAD' && answer.status !== 204) {
    try {
      const parsed = JSON.parse(answer.text) as { id?: string };
      if (!/^application\/json/.test(answer.contentType)) throw new Error('not JSON');
      if (answer.status === 201 && parsed.id) {
        stats.created += 1;
        if (knownIds.length < 100) knownIds.push(parsed.id);
      }
    } catch {
      violated('a success is not JSON', example);
    }
  }

  // Without the token, every authenticated route refuses with 401 or 403, whatever else is wrong.
  const pathname = to.startsWith('/') ? to.split(/[?#]/)[0]! : '';
  const route = ROUTES.find((r) => r.method === request.method && r.pattern.test(pathname));
  if (
    route?.auth &&
    request.auth !== 'valid' &&
    !pathname.includes('%') &&
    !pathname.includes('/.')
  ) {
    if (answer.status !== 401 && answer.status !== 403) {
      violated('an authenticated route answered without a valid token', example);
    }
  }
}

describe('hostile input', () => {
  it(`${REQUESTS} generated requests over every route, with and without a valid token`, async () => {
    const started = performance.now();
    await fc.assert(fc.asyncProperty(hostileRequest, judge), { numRuns: REQUESTS, seed: SEED });
    const elapsed = performance.now() - started;
    const statuses = [...stats.byStatus.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, n]) => `${status}:${n}`)
      .join(' ');
    const valid = stats.byAuth.get('valid') ?? 0;
    figures(
      `hostile input: ${stats.requests} requests (seed ${SEED}; ${valid} with the valid token, ` +
        `${stats.requests - valid} without): 5xx responses ${stats.serverErrors}, ` +
        `refusals ${stats.refused} (not problem documents ${stats.notProblems}), rows changed by ` +
        `refused requests ${stats.changedByRefused}, jobs created ${stats.created}; ` +
        `statuses ${statuses}; ${seconds(elapsed)}`,
    );
    for (const [rule, { count, example }] of violations) {
      figures(`hostile input: VIOLATION ${rule} (x${count}), first: ${example}`);
    }
    expect(Object.fromEntries(violations)).toEqual({});
    expect(stats.requests).toBe(REQUESTS);
  }, 240_000);
});

describe('hostile input below HTTP parsing', () => {
  /** Writes raw bytes and returns the raw response: requests no HTTP client would send. */
  function raw(bytes: string): Promise<string> {
    const url = new URL(server.url);
    return new Promise((resolve, reject) => {
      const socket = tcpConnect(Number(url.port), url.hostname);
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      socket.end(bytes);
    });
  }

  function expectProblemResponse(response: string, status: number): void {
    const split = response.indexOf('\r\n\r\n');
    const head = split < 0 ? response : response.slice(0, split);
    let body = split < 0 ? '' : response.slice(split + 4);
    if (/transfer-encoding: chunked/i.test(head)) {
      let decoded = '';
      for (let size = parseInt(body, 16); size > 0; size = parseInt(body, 16)) {
        const start = body.indexOf('\r\n') + 2;
        decoded += body.slice(start, start + size);
        body = body.slice(start + size + 2);
      }
      body = decoded;
    }
    expect(head, response.slice(0, 300)).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(head.toLowerCase(), response.slice(0, 300)).toContain(
      'content-type: application/problem+json',
    );
    expect(JSON.parse(body || 'null'), response.slice(0, 300)).toMatchObject({
      type: expect.any(String),
      title: expect.any(String),
      status,
      detail: expect.any(String),
    });
  }

  it('a request head over 16 KiB is refused with a problem document', async () => {
    const before = await fingerprint();
    const response = await raw(
      `GET /api/cron/jobs?tenant_id=${'x'.repeat(20_000)} HTTP/1.1\r\nHost: local\r\n` +
        `Authorization: Bearer ${TOKEN}\r\n\r\n`,
    );
    expect(await fingerprint()).toBe(before);
    expectProblemResponse(response, 431);
  });

  it('a request-target starting with // is a path, not a host: no 500, no other route', async () => {
    const before = await fingerprint();
    // new URL('//%/x', base) throws: the local server answered 500.
    const invalidHost = await raw(
      `GET //%/api/cron/jobs HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n`,
    );
    // new URL('//x/api/cron/health', base) is host x, path /api/cron/health: the wrong route.
    const otherRoute = await raw(
      `GET //x/api/cron/health HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n`,
    );
    expect(await fingerprint()).toBe(before);
    expectProblemResponse(invalidHost, 404);
    expectProblemResponse(otherRoute, 404);
  });

  it('bytes that are not HTTP are refused with a problem document', async () => {
    const before = await fingerprint();
    const response = await raw('GARBAGE /api/cron/jobs \u0001\r\n\r\n');
    expect(await fingerprint()).toBe(before);
    expectProblemResponse(response, 400);
  });
});
