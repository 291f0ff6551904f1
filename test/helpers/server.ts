import { request as httpRequest, Agent, type IncomingHttpHeaders } from 'node:http';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { afterAll, expect } from 'vitest';
import type { AlertSettings } from '../../lib/alerts/settings';
import type { AppContext } from '../../lib/app-context';
import type { Sql } from '../../lib/db';
import { createBuiltInRegistry } from '../../lib/executors/built-ins';
import type { ExecutorRegistry } from '../../lib/executors/registry';
import { routeTable } from '../../lib/http/route-table';
import { parseLocalTokens } from '../../lib/identity/local-tokens';
import { startLocalServer } from '../../lib/local/server';
import { silentLog, type Log } from '../../lib/logger';
import { createInProcessRunQueue } from '../../lib/engine/in-process-run-queue';
import { createTestDatabase } from './database';
import { waitFor } from './wait';

export interface TestResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Parsed JSON when the response is JSON, otherwise its text ('' when empty). */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

export interface RequestOptions {
  /** Sent as JSON with content-type application/json. */
  body?: unknown;
  /** Sent verbatim; set content-type yourself (default application/json). */
  rawBody?: string | Buffer;
  /** Extra headers; an empty value removes one the helper would set (content-type, authorization). */
  headers?: Record<string, string>;
}

export interface TestServer {
  url: string;
  sql: Sql;
  app: AppContext;
  /** The OpenAPI document the server serves; every response of `request` is checked against it. */
  openApi: OpenApiDocument;
  request(method: string, path: string, options?: RequestOptions): Promise<TestResponse>;
  /** A deterministic dump of cron_job and cron_job_run, for "the database is unchanged" checks. */
  snapshot(): Promise<string>;
  /**
   * POST /jobs/{id}/run (which must answer 202 with a Location), then GETs that Location until
   * the run has finished: returns that last GET's response.
   */
  runNow(jobId: string): Promise<TestResponse>;
  /** Resolves once every run queued by run-now has finished and been recorded. */
  runsSettled(): Promise<void>;
}

/**
 * The real local server over a fresh migrated database of the calling test file. Requests go over
 * real HTTP (node:http, so paths and bytes are sent exactly as given), and each response is
 * checked against the served OpenAPI document before the test sees it.
 */
export async function startTestServer(
  options: {
    /** CRON_API_TOKEN: one admin token, which `request` sends unless told otherwise. */
    apiToken?: string;
    /** CRON_API_TOKENS: `token:subject:tenant` entries, comma-separated (`*` = admin). */
    tokens?: string;
    registry?: ExecutorRegistry;
    sweepIntervalSeconds?: number;
    /** Where the server and the handlers log; silent by default. */
    log?: Log;
    /** How alert destinations are checked (a test's loopback receiver needs the override). */
    alerts?: AlertSettings;
  } = {},
): Promise<TestServer> {
  const { sql, appSql } = await createTestDatabase();
  const log = options.log ?? silentLog;
  const registry = options.registry ?? createBuiltInRegistry();
  // Run-now's runs start in this process after the answer, as npm start does without workers.
  const runQueue = createInProcessRunQueue({ sql: appSql, registry, log });
  const app: AppContext = {
    // The app logs in as the app role, as in AWS; `sql` (the owner) is the test's.
    sql: appSql,
    registry,
    log,
    runQueue,
    settings: { sweepIntervalSeconds: options.sweepIntervalSeconds ?? 300, sweepConcurrency: 4 },
    alerts: options.alerts,
  };
  const tokens = parseLocalTokens(options.tokens, options.apiToken);
  const server = await startLocalServer({
    app,
    log,
    host: '127.0.0.1',
    port: 0,
    tokens,
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  afterAll(async () => {
    agent.destroy();
    await server.close();
    await runQueue.close();
  });

  const send = (method: string, path: string, requestOptions: RequestOptions = {}) =>
    rawRequest(agent, server.url, method, path, requestOptions, options.apiToken);
  const docResponse = await send('GET', '/api/cron/openapi.json', {
    headers: tokens[0] ? { authorization: `Bearer ${tokens[0].token}` } : {},
  });
  if (docResponse.status !== 200) throw new Error(`openapi.json: ${docResponse.status}`);
  const openApi = docResponse.body as OpenApiDocument;
  const checker = openApiChecker(openApi);

  return {
    url: server.url,
    sql,
    app,
    openApi,
    request: async (method, path, requestOptions) => {
      const response = await send(method, path, requestOptions);
      checker.check(method, path, response);
      return response;
    },
    runNow: async (jobId) => {
      const queued = await send('POST', `/api/cron/jobs/${jobId}/run`);
      checker.check('POST', `/api/cron/jobs/${jobId}/run`, queued);
      if (queued.status !== 202 || typeof queued.headers.location !== 'string') {
        throw new Error(`run-now answered ${queued.status}: ${queued.text}`);
      }
      const location = queued.headers.location;
      return waitFor('the queued run to finish', async () => {
        const run = await send('GET', location);
        checker.check('GET', location, run);
        return run.status === 200 && run.body.status !== 'running' ? run : undefined;
      });
    },
    runsSettled: () => runQueue.idle(),
    snapshot: async () => {
      const jobs = await sql`select to_jsonb(j) as row from cron_job j order by id`;
      const runs = await sql`select to_jsonb(r) as row from cron_job_run r order by id`;
      return JSON.stringify({ jobs: jobs.map((r) => r.row), runs: runs.map((r) => r.row) });
    },
  };
}

function rawRequest(
  agent: Agent,
  base: string,
  method: string,
  path: string,
  options: RequestOptions,
  apiToken: string | undefined,
): Promise<TestResponse> {
  const url = new URL(base);
  const headers: Record<string, string> = {};
  let payload: Buffer | undefined;
  if (options.rawBody !== undefined) {
    payload = Buffer.isBuffer(options.rawBody) ? options.rawBody : Buffer.from(options.rawBody);
    headers['content-type'] = 'application/json';
  } else if (options.body !== undefined) {
    payload = Buffer.from(JSON.stringify(options.body));
    headers['content-type'] = 'application/json';
  }
  if (payload) headers['content-length'] = String(payload.length);
  // The token (when the server has one) unless the test sends its own authorization header.
  if (apiToken && !(options.headers && 'authorization' in options.headers)) {
    headers.authorization = `Bearer ${apiToken}`;
  }
  Object.assign(headers, options.headers);
  for (const [name, value] of Object.entries(headers)) if (value === '') delete headers[name];
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { agent, host: url.hostname, port: url.port, method, path, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const type = res.headers['content-type'] ?? '';
          let body: unknown = text;
          if (/json/.test(type) && text !== '') {
            try {
              body = JSON.parse(text);
            } catch {
              body = text;
            }
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

// ---------------------------------------------------------------------------------------------
// OpenAPI checks

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, unknown>; responses?: Record<string, unknown> };
}

interface OpenApiResponse {
  description: string;
  headers?: Record<string, unknown>;
  content?: Record<string, { schema: unknown }>;
}

interface OpenApiOperation {
  operationId: string;
  responses: Record<string, OpenApiResponse | { $ref: string } | undefined>;
}

const DOC_ID = 'https://crm-cron.test/openapi.json';

/** Validates responses against the operations of an OpenAPI 3.1 document. */
export function openApiChecker(doc: OpenApiDocument) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(withoutSchemaKeywords(doc) as object, DOC_ID);
  const compiled = new Map<string, ValidateFunction>();
  const validator = (pointer: string) => {
    let validate = compiled.get(pointer);
    if (!validate) {
      validate = ajv.compile({ $ref: `${DOC_ID}#${pointer}` });
      compiled.set(pointer, validate);
    }
    return validate;
  };

  /**
   * Asserts that a response is one the document declares for the operation (`routePath` in the
   * document's syntax, e.g. `/api/cron/jobs/{id}`): a declared status, the declared media type
   * and a body valid against its schema; no body where none is declared.
   */
  const checkOperation = (
    method: string,
    routePath: string,
    response: Pick<TestResponse, 'status' | 'body' | 'headers' | 'text'>,
  ): void => {
    const where = `${method} ${routePath} → ${response.status}`;
    const operation = doc.paths[routePath]?.[method.toLowerCase()];
    expect(operation, `${where}: operation in the document`).toBeDefined();
    const listed = operation!.responses[String(response.status)];
    expect(listed, `${where}: status declared in the document`).toBeDefined();
    // A shared response (components.responses) is declared by reference.
    const shared = listed && '$ref' in listed ? listed.$ref.replace(/^#/, '') : undefined;
    const declared = shared
      ? (doc.components.responses?.[shared.split('/').at(-1)!] as OpenApiResponse | undefined)
      : (listed as OpenApiResponse | undefined);
    expect(declared, `${where}: ${shared} in the document`).toBeDefined();
    const content = declared!.content;
    if (!content) {
      expect(response.text, `${where}: no body`).toBe('');
      return;
    }
    const type = (response.headers['content-type'] ?? '').split(';')[0]!.trim();
    expect(Object.keys(content), `${where}: media type`).toContain(type);
    const pointer = `${shared ?? `/paths/${escapePointer(routePath)}/${method.toLowerCase()}/responses/${response.status}`}/content/${escapePointer(type)}/schema`;
    expectMatchesSchema(validator(pointer), response.body, where);
  };

  /**
   * Checks the response to a concrete request path. Requests that address no operation (unknown
   * route, wrong method) must get a 404 or 405 problem document.
   */
  const check = (method: string, path: string, response: TestResponse): void => {
    // Resolved as the server resolves it (dot segments, `//host` forms).
    const { pathname } = new URL(path, 'http://local');
    const matching = routeTable.filter((route) =>
      new RegExp(`^${route.path.replace(/\{\w+\}/g, '[^/]+')}$`).test(pathname),
    );
    const route = matching.find((candidate) => candidate.method === method.toUpperCase());
    if (!route) {
      const where = `${method} ${path} → ${response.status}`;
      expect(response.status, where).toBe(matching.length > 0 ? 405 : 404);
      expectMatchesSchema(validator('/components/schemas/Problem'), response.body, where);
      if (response.status === 405) {
        expect(response.headers.allow, `${where}: Allow`).toBe(
          matching.map((candidate) => candidate.method).join(', '),
        );
      }
      return;
    }
    checkOperation(route.method, route.path, response);
  };

  return { check, checkOperation };
}

const checkers = new WeakMap<OpenApiDocument, ReturnType<typeof openApiChecker>>();

/**
 * Asserts a body matches the response schema the document declares for an operation and status.
 * For one-off checks: `startTestServer().request` already checks every response it returns.
 */
export function expectMatchesOpenApi(
  doc: OpenApiDocument,
  method: string,
  routePath: string,
  status: number,
  body: unknown,
  contentType = status < 400 ? 'application/json' : 'application/problem+json',
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  let checker = checkers.get(doc);
  if (!checker) {
    checker = openApiChecker(doc);
    checkers.set(doc, checker);
  }
  checker.checkOperation(method, routePath, {
    status,
    headers: { 'content-type': contentType },
    body,
    text,
  });
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function expectMatchesSchema(validate: ValidateFunction, body: unknown, where: string): void {
  const valid = validate(body);
  expect(
    valid ? [] : validate.errors,
    `${where}: body matches the OpenAPI schema\n${JSON.stringify(body)?.slice(0, 2000)}`,
  ).toEqual([]);
}

// Each zod-generated component carries its own `$schema`; ajv wants it on the root only.
function withoutSchemaKeywords(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSchemaKeywords);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== '$schema')
      .map(([key, inner]) => [key, withoutSchemaKeywords(inner)]),
  );
}

/**
 * Asserts the response is an RFC 9457 problem document with this status that leaks nothing.
 * `echoes`: text the request sent, which the detail may quote back.
 */
export function expectProblem(response: TestResponse, status: number, echoes: string[] = []): void {
  const where = `${response.status} ${response.text.slice(0, 500)}`;
  expect(response.status, where).toBe(status);
  expect(response.headers['content-type'], where).toMatch(/^application\/problem\+json/);
  expect(response.body, where).toMatchObject({
    type: expect.any(String),
    title: expect.any(String),
    status,
    detail: expect.any(String),
  });
  expectNoLeak(response, echoes);
}

/** No stack trace, SQL text or driver name in a response, beyond what the request sent. */
export function expectNoLeak(response: TestResponse, echoes: string[] = []): void {
  let detail = (response.body as { detail?: unknown } | undefined)?.detail;
  let text = response.text;
  for (const echo of echoes.filter((e) => e !== '')) {
    for (const form of [echo, JSON.stringify(echo).slice(1, -1)]) {
      detail = typeof detail === 'string' ? detail.split(form).join('') : detail;
      text = text.split(form).join('');
    }
  }
  if (typeof detail === 'string') {
    expect(detail).not.toMatch(/at .*\.ts:|select |insert |postgres/i);
  }
  expect(text).not.toMatch(/\n\s+at .*\.[jt]s:\d+|node_modules|PostgresError/);
}

/** The field paths of a 400 problem's `errors`. */
export function errorPaths(response: TestResponse): string[] {
  const errors = (response.body as { errors?: Array<{ path: string }> }).errors ?? [];
  return errors.map((error) => error.path);
}
