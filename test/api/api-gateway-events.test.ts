import { randomUUID } from 'node:crypto';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context';
import { createBuiltInRegistry } from '../../lib/executors/built-ins';
import { createApiHandler } from '../../lib/http/api-handler';
import { bearerTokenCallers } from '../../lib/http/identify';
import { MAX_BODY_BYTES } from '../../lib/http/middleware';
import { parseLocalTokens } from '../../lib/identity/local-tokens';
import { routeHandlers } from '../../lib/http/routes';
import { capturingLog } from '../helpers/log';
import { createTestDatabase } from '../helpers/database';

// The middleware stack as API Gateway drives it: events the local server never produces (header
// names in any case, base64 bodies, no Node parsing in front), sent straight to the handler every
// Lambda and the local server share.

const { sql } = await createTestDatabase();
const { log, lines } = capturingLog();
const app: AppContext = {
  sql,
  registry: createBuiltInRegistry(),
  log,
  settings: { sweepIntervalSeconds: 300, sweepConcurrency: 4 },
};
const TOKEN = 'events-test-token-3b7e';
const handlerOptions = {
  app: async () => app,
  log,
  identify: bearerTokenCallers(parseLocalTokens(undefined, TOKEN)),
  access: 'tenant',
} as const;
const createJob = createApiHandler(routeHandlers['create-job'], handlerOptions);
const health = createApiHandler(routeHandlers.health, { ...handlerOptions, access: 'public' });

const context = { getRemainingTimeInMillis: () => 30_000 } as Context;

function event(
  options: {
    headers?: Record<string, string>;
    body?: string;
    isBase64Encoded?: boolean;
    method?: string;
    path?: string;
  } = {},
): APIGatewayProxyEventV2 {
  const method = options.method ?? 'POST';
  const path = options.path ?? '/api/cron/jobs';
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: options.headers ?? {},
    requestContext: {
      requestId: randomUUID(),
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'test' },
    } as APIGatewayProxyEventV2['requestContext'],
    ...(options.body === undefined ? {} : { body: options.body }),
    isBase64Encoded: options.isBase64Encoded ?? false,
  };
}

const jobBody = () =>
  JSON.stringify({
    name: `job ${randomUUID()}`,
    schedule: 'daily',
    function_name: 'cleanOldActivities',
  });

async function send(handler: typeof createJob, sent: APIGatewayProxyEventV2) {
  const result = (await handler(sent, context)) as APIGatewayProxyStructuredResultV2 & {
    headers: Record<string, string>;
  };
  const body = result.body ? JSON.parse(result.body) : undefined;
  return { status: result.statusCode, headers: result.headers, body };
}

const authorized = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

describe('API Gateway events through the shared middleware', () => {
  it('reads header names in any case', async () => {
    const response = await send(
      createJob,
      event({
        headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
        body: jobBody(),
      }),
    );
    expect(response.status, JSON.stringify(response.body)).toBe(201);
  });

  it('decodes a base64 body', async () => {
    const response = await send(
      createJob,
      event({
        headers: authorized,
        body: Buffer.from(jobBody()).toString('base64'),
        isBase64Encoded: true,
      }),
    );
    expect(response.status, JSON.stringify(response.body)).toBe(201);
  });

  it('accepts JSON media types with parameters and +json suffixes, and refuses others with 415', async () => {
    for (const type of ['application/json; charset=utf-8', 'application/vnd.crm+json']) {
      const response = await send(
        createJob,
        event({ headers: { ...authorized, 'content-type': type }, body: jobBody() }),
      );
      expect(response.status, type).toBe(201);
    }
    for (const type of ['text/plain', 'application/jsonx', 'application/x-www-form-urlencoded']) {
      const response = await send(
        createJob,
        event({ headers: { ...authorized, 'content-type': type }, body: jobBody() }),
      );
      expect(response.status, type).toBe(415);
      expect(response.body.detail).toBe('send the body as application/json');
    }
    const untyped = await send(
      createJob,
      event({ headers: { authorization: `Bearer ${TOKEN}` }, body: jobBody() }),
    );
    expect(untyped.status).toBe(415);
  });

  it(`refuses a body over ${MAX_BODY_BYTES} bytes with 413, and takes one of exactly that size`, async () => {
    const padded = (size: number) => {
      const base = jobBody().slice(0, -1);
      return `${base},"metadata":{"pad":"${'x'.repeat(size - base.length - 23)}"}}`;
    };
    const exact = padded(MAX_BODY_BYTES);
    expect(Buffer.byteLength(exact)).toBe(MAX_BODY_BYTES);
    const atLimit = await send(createJob, event({ headers: authorized, body: exact }));
    expect(atLimit.status).not.toBe(413);
    const over = await send(
      createJob,
      event({ headers: authorized, body: padded(MAX_BODY_BYTES + 1) }),
    );
    expect(over.status).toBe(413);
    expect(over.body.detail).toBe(`the body is larger than ${MAX_BODY_BYTES} bytes`);
  });

  it('refuses a declared content-length over the limit before reading, and trusts only a plain number', async () => {
    const declared = (length: string) =>
      send(
        createJob,
        event({ headers: { ...authorized, 'content-length': length }, body: jobBody() }),
      );
    const over = await declared(String(MAX_BODY_BYTES + 1));
    expect(over.status).toBe(413);
    expect(over.body.detail).toBe(`the body is larger than ${MAX_BODY_BYTES} bytes`);
    // At the limit, or not a plain decimal number: the body's real size decides.
    for (const length of [
      String(MAX_BODY_BYTES),
      ` ${MAX_BODY_BYTES + 1}`,
      `${MAX_BODY_BYTES + 1} `,
      '1e9',
    ]) {
      expect((await declared(length)).status, JSON.stringify(length)).toBe(201);
    }
  });

  it('refuses a tenant caller on an admin route with 403, and serves an admin', async () => {
    const tenantToken = 'events-tenant-token-5c1d';
    const options = {
      ...handlerOptions,
      identify: bearerTokenCallers(parseLocalTokens(`${tenantToken}:alice:acme`, TOKEN)),
      access: 'admin',
    } as const;
    const system = createApiHandler(routeHandlers['get-system'], options);
    const get = (token: string) =>
      send(
        system,
        event({
          method: 'GET',
          path: '/api/cron/system',
          headers: { authorization: `Bearer ${token}` },
        }),
      );
    const tenant = await get(tenantToken);
    expect(tenant.status).toBe(403);
    expect(tenant.body.detail).toBe('this route is for admins only');
    expect((await get(TOKEN)).status).toBe(200);
  });

  it('refuses bytes that are not UTF-8 and text that is not JSON with 400', async () => {
    const notUtf8 = await send(
      createJob,
      event({
        headers: authorized,
        body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64'),
        isBase64Encoded: true,
      }),
    );
    expect(notUtf8.status).toBe(400);
    expect(notUtf8.body.detail).toBe('the body is not valid UTF-8');
    const notJson = await send(createJob, event({ headers: authorized, body: '{"name":' }));
    expect(notJson.status).toBe(400);
    expect(notJson.body.detail).toBe('the body is not valid JSON');
  });

  it('checks the token before reading the body: 401 with a challenge, then 403', async () => {
    const missing = await send(createJob, event({ body: '{' }));
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer');
    const wrong = await send(
      createJob,
      event({ headers: { authorization: 'Bearer nope', 'content-type': 'text/plain' }, body: '{' }),
    );
    expect(wrong.status).toBe(403);
    expect(wrong.body.detail).toBe('the bearer token is not valid');
  });

  it('sets every security header on successes and on problems', async () => {
    const expected = {
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
    };
    const ok = await send(health, event({ method: 'GET', path: '/api/cron/health' }));
    expect(ok.status).toBe(200);
    expect(ok.headers).toMatchObject({ ...expected, 'content-type': 'application/json' });
    const problem = await send(createJob, event({ headers: authorized, body: '[' }));
    expect(problem.status).toBe(400);
    expect(problem.headers).toMatchObject({
      ...expected,
      'content-type': 'application/problem+json',
    });
  });

  it('logs one line per request with its id, method, path, status and duration', async () => {
    lines.length = 0;
    const succeeded = event({ headers: authorized, body: jobBody() });
    const refused = event({ headers: authorized, body: '[' });
    const t0 = performance.now();
    await send(createJob, succeeded);
    await send(createJob, refused);
    const elapsed = performance.now() - t0;
    const requests = lines.filter((line) => line.message === 'request');
    expect(requests).toEqual([
      {
        level: 'info',
        message: 'request',
        extra: {
          request_id: succeeded.requestContext.requestId,
          method: 'POST',
          path: '/api/cron/jobs',
          status: 201,
          duration_ms: expect.any(Number),
        },
      },
      {
        level: 'info',
        message: 'request',
        extra: {
          request_id: refused.requestContext.requestId,
          method: 'POST',
          path: '/api/cron/jobs',
          status: 400,
          duration_ms: expect.any(Number),
        },
      },
    ]);
    for (const line of requests) {
      // Measured within the call: never negative, never more than the test saw pass.
      expect(line.extra.duration_ms as number).toBeGreaterThanOrEqual(0);
      expect(line.extra.duration_ms as number).toBeLessThanOrEqual(Math.ceil(elapsed));
    }
    // A refused request is not an error of the service: nothing at error level.
    expect(lines.filter((line) => line.level === 'error')).toEqual([]);
  });
});
