import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../lib/http/middleware';
import { expectProblem, startTestServer, type TestResponse } from '../helpers/server';

const server = await startTestServer();
const { request, snapshot } = server;

const valid = { schedule: 'daily', function_name: 'cleanOldActivities' };

async function create(body: Record<string, unknown>) {
  const response = await request('POST', '/api/cron/jobs', { body: { ...valid, ...body } });
  expect(response.status, response.text).toBe(201);
  return response.body as { id: string; name: string; tenant_id: string | null };
}

/** The request is answered with a problem of this status, and the database is unchanged. */
async function expectRefused(status: number, send: () => Promise<TestResponse>) {
  const before = await snapshot();
  const response = await send();
  expectProblem(response, status);
  expect(await snapshot()).toBe(before);
  return response;
}

/** Every route that addresses one job, as [method, path for that id]. */
const jobRoutes = (id: string): Array<[string, string]> => [
  ['GET', `/api/cron/jobs/${id}`],
  ['PUT', `/api/cron/jobs/${id}`],
  ['DELETE', `/api/cron/jobs/${id}`],
  ['POST', `/api/cron/jobs/${id}/run`],
  ['GET', `/api/cron/jobs/${id}/runs`],
  ['GET', `/api/cron/jobs/${id}/runs/${randomUUID()}`],
];

describe('404', () => {
  it.each([
    ['an unknown id', randomUUID()],
    ['a malformed id', 'not-a-uuid'],
    ['an id one character short', randomUUID().slice(0, 35)],
    ['the nil uuid', '00000000-0000-0000-0000-000000000000'],
    ['a SQL fragment', encodeURIComponent("1' or '1'='1")],
  ])('for %s on every job route', async (_what, id) => {
    await create({ name: `decoy ${randomUUID()}` });
    for (const [method, path] of jobRoutes(id)) {
      const response = await expectRefused(404, () =>
        request(method, path, method === 'PUT' ? { body: { name: 'x' } } : {}),
      );
      expect(response.body.title).toBe('Not Found');
    }
  });

  it.each([
    ['GET', '/api/cron/nope'],
    ['GET', '/api/cron'],
    ['GET', '/'],
    ['GET', '/api/cron/jobs/'],
    ['GET', '/api/cron/jobs/x/runs/y/z'],
    ['POST', '/api/cron/jobs/x/y'],
    ['GET', '/api/cron/JOBS'],
  ])('for an unknown route: %s %s', async (method, path) => {
    const response = await expectRefused(404, () => request(method, path));
    expect(response.body.detail).toMatch(/no such route/);
  });
});

describe('405', () => {
  it.each([
    ['DELETE', '/api/cron/jobs'],
    ['PUT', '/api/cron/jobs'],
    ['PATCH', `/api/cron/jobs/${randomUUID()}`],
    ['POST', `/api/cron/jobs/${randomUUID()}`],
    ['GET', '/api/cron/run'],
    ['POST', '/api/cron/health'],
    ['DELETE', '/api/cron/executors'],
    ['GET', `/api/cron/jobs/${randomUUID()}/run`],
  ])('for a known route with another method: %s %s', async (method, path) => {
    const response = await expectRefused(405, () => request(method, path));
    expect(response.body.title).toBe('Method Not Allowed');
  });
});

describe('409', () => {
  it('a name taken in the same tenant; free in another tenant and among global jobs', async () => {
    await create({ name: 'Nightly', tenant_id: 'acme' });
    const taken = await expectRefused(409, () =>
      request('POST', '/api/cron/jobs', { body: { ...valid, name: 'Nightly', tenant_id: 'acme' } }),
    );
    expect(taken.body.detail).toMatch(/Nightly.*acme/);
    await create({ name: 'Nightly', tenant_id: 'globex' });
    await create({ name: 'Nightly' });
    await create({ name: 'nightly', tenant_id: 'acme' });
    const global = await expectRefused(409, () =>
      request('POST', '/api/cron/jobs', { body: { ...valid, name: 'Nightly', tenant_id: null } }),
    );
    expect(global.body.detail).toMatch(/global/);
  });

  it('renaming or moving a job onto a taken name', async () => {
    await create({ name: 'Taken', tenant_id: 'initech' });
    const other = await create({ name: 'Other', tenant_id: 'initech' });
    const elsewhere = await create({ name: 'Taken', tenant_id: 'umbrella' });
    await expectRefused(409, () =>
      request('PUT', `/api/cron/jobs/${other.id}`, { body: { name: 'Taken' } }),
    );
    await expectRefused(409, () =>
      request('PUT', `/api/cron/jobs/${elsewhere.id}`, { body: { tenant_id: 'initech' } }),
    );
    const renamed = await request('PUT', `/api/cron/jobs/${other.id}`, {
      body: { name: 'Other', tenant_id: 'initech' },
    });
    expect(renamed.status).toBe(200);
  });
});

describe('413, 415 and malformed JSON', () => {
  const bodyOfSize = (bytes: number) => {
    const prefix = JSON.stringify({ name: 'big', ...valid, metadata: { pad: '' } });
    return `${prefix.slice(0, -3)}${'x'.repeat(bytes - prefix.length)}"}}`;
  };

  it('refuses a body over 64 KiB with 413, on POST and PUT', async () => {
    const job = await create({ name: 'target' });
    const body = bodyOfSize(MAX_BODY_BYTES + 1);
    expect(Buffer.byteLength(body)).toBe(MAX_BODY_BYTES + 1);
    await expectRefused(413, () => request('POST', '/api/cron/jobs', { rawBody: body }));
    await expectRefused(413, () => request('PUT', `/api/cron/jobs/${job.id}`, { rawBody: body }));
    const huge = Buffer.alloc(5 * MAX_BODY_BYTES, 'x');
    await expectRefused(413, () => request('POST', '/api/cron/jobs', { rawBody: huge }));
    // Counted in bytes, not characters.
    const multibyte = JSON.stringify({ name: 'é'.repeat(MAX_BODY_BYTES / 2 + 10) });
    expect(multibyte.length).toBeLessThan(MAX_BODY_BYTES);
    await expectRefused(413, () => request('POST', '/api/cron/jobs', { rawBody: multibyte }));
  });

  it('reads a body of exactly 64 KiB', async () => {
    const body = bodyOfSize(MAX_BODY_BYTES);
    const response = await request('POST', '/api/cron/jobs', { rawBody: body });
    // Parsed and validated: the pad is not a cleanOldActivities setting.
    expectProblem(response, 400);
    expect(response.body.errors).toEqual([{ path: 'metadata.pad', message: 'unknown field' }]);
  });

  it.each([
    ['text/plain'],
    ['application/x-www-form-urlencoded'],
    ['multipart/form-data; boundary=x'],
    ['application/xml'],
    ['application/jsonp'],
    ['json'],
  ])('refuses a body sent as %s with 415', async (type) => {
    const body = JSON.stringify({ name: 'typed', ...valid });
    const response = await expectRefused(415, () =>
      request('POST', '/api/cron/jobs', { rawBody: body, headers: { 'content-type': type } }),
    );
    expect(response.body.detail).toMatch(/application\/json/);
  });

  it('refuses a body without a content type with 415', async () => {
    await expectRefused(415, () =>
      request('POST', '/api/cron/jobs', { rawBody: '{}', headers: { 'content-type': '' } }),
    );
  });

  it.each([
    ['application/json; charset=utf-8'],
    ['Application/JSON'],
    ['application/merge-patch+json'],
  ])('accepts JSON sent as %s', async (type) => {
    const body = JSON.stringify({ name: `typed ${type}`, ...valid });
    const response = await request('POST', '/api/cron/jobs', {
      rawBody: body,
      headers: { 'content-type': type },
    });
    expect(response.status, response.text).toBe(201);
  });

  it.each([
    ['{bad'],
    ['{"name": "x",}'],
    ["{'name': 'x'}"],
    ['{"name": "x"'],
    ['{"timeout_seconds": NaN}'],
    ['{"timeout_seconds": Infinity}'],
    ['{"name": "x"} trailing'],
    ['undefined'],
  ])('refuses malformed JSON with 400: %s', async (body) => {
    const response = await expectRefused(400, () =>
      request('POST', '/api/cron/jobs', { rawBody: body }),
    );
    expect(response.body.detail).toMatch(/not valid JSON/);
  });
});

describe('problem documents', () => {
  it('are RFC 9457 documents that never show a stack, SQL or a driver name', async () => {
    const job = await create({ name: 'problem source' });
    const responses = [
      await request('GET', '/api/cron/jobs/not-a-uuid'),
      await request('POST', '/api/cron/jobs', { body: { ...valid, name: 'problem source' } }),
      await request('POST', '/api/cron/jobs', { rawBody: '{' }),
      await request('PUT', `/api/cron/jobs/${job.id}`, { body: { schedule: 'fortnightly' } }),
      await request('GET', '/api/cron/jobs?cursor=c2VsZWN0IDE'),
      await request('DELETE', '/api/cron/jobs'),
    ];
    for (const response of responses) {
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(response.headers['content-type']).toBe('application/problem+json');
      expect(response.body).toEqual({
        type: 'about:blank',
        title: expect.any(String),
        status: response.status,
        detail: expect.any(String),
        instance: expect.stringMatching(/^urn:request:[0-9a-f-]{36}$/),
        ...(response.body.errors ? { errors: expect.any(Array) } : {}),
      });
      expect(response.body.detail).not.toMatch(/at .*\.ts:|select |insert |postgres/i);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
    }
  });
});

describe('what the OpenAPI document declares beyond the routes', () => {
  const doc = server.openApi as unknown as {
    security: Array<Record<string, string[]>>;
    paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    components: {
      securitySchemes: Record<string, Record<string, unknown>>;
      responses: Record<string, { headers?: Record<string, unknown> }>;
      schemas: Record<string, unknown>;
    };
  };

  it('declares 500 on every operation and 404, 405 with Allow as shared responses', () => {
    for (const [route, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        expect(operation.responses['500'], `${method} ${route}`).toEqual({
          $ref: '#/components/responses/ServerError',
        });
      }
    }
    expect(Object.keys(doc.components.responses).sort()).toEqual([
      'MethodNotAllowed',
      'NotFound',
      'ServerError',
    ]);
    expect(doc.components.responses.MethodNotAllowed!.headers).toHaveProperty('Allow');
  });

  it('declares the bearer token, IAM (SigV4) and JWT schemes, any one of them accepted', () => {
    expect(doc.components.securitySchemes).toMatchObject({
      bearer: { type: 'http', scheme: 'bearer' },
      sigv4: { type: 'apiKey', in: 'header', name: 'Authorization' },
      jwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
    });
    expect(doc.security).toEqual([{ bearer: [] }, { sigv4: [] }, { jwt: [] }]);
  });

  it('publishes no JSON Schema default on request bodies (generated clients would require them)', () => {
    for (const name of ['CreateJob', 'UpdateJob']) {
      expect(JSON.stringify(doc.components.schemas[name]), name).not.toContain('"default"');
    }
  });

  it('answers a wrong method with 405 and the methods the path takes in Allow', async () => {
    const response = await request('PATCH', '/api/cron/jobs');
    expectProblem(response, 405);
    expect(response.headers.allow).toBe('GET, POST');
    const job = await request('DELETE', '/api/cron/executors');
    expect(job.headers.allow).toBe('GET');
  });
});
