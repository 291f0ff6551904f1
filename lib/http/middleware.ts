import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors';
import type { Caller } from '../identity/caller';
import type { Log } from '../logger';
import { HttpProblem, problemDocument } from './problem';
import type { Access } from './route-table';

/** The API Gateway v2 event once `jsonBody` has parsed its body. */
export type ApiEvent = APIGatewayProxyEventV2 & {
  parsedBody?: unknown;
  /**
   * Local server only: reads the body into `body` (at most one byte past MAX_BODY_BYTES). It is
   * called by `jsonBody`, after authorization, so a refused request's body is never read.
   */
  readBody?: () => Promise<void>;
  /** Who is calling, once `identifyCaller` has run (not on public routes). */
  caller?: Caller;
};
type Middleware = MiddlewareObj<ApiEvent, APIGatewayProxyStructuredResultV2>;

export const MAX_BODY_BYTES = 64 * 1024;

/** Lower-cases header names, as HTTP says they are case-insensitive and API Gateway may not. */
export const normalizeHeaders = (): Middleware => ({
  before: ({ event }) => {
    event.headers = Object.fromEntries(
      Object.entries(event.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
    );
  },
});

/**
 * Finds out who is calling, and what from; throws the 401/403 problem when it cannot tell. Local
 * bearer tokens and the API Gateway authorizer context are the two implementations
 * (lib/http/identify.ts); the body is never consulted.
 */
export type CallerResolver = (event: ApiEvent) => Caller;

/**
 * Resolves the caller once per request into `event.caller`, and applies the route's access rule:
 * public routes skip identification, admin routes refuse non-admins with 403.
 */
export const identifyCaller = (access: Access, resolve: CallerResolver): Middleware => ({
  before: ({ event }) => {
    if (access === 'public') return;
    const caller = resolve(event);
    if (access === 'admin' && !caller.admin) {
      throw new HttpProblem(403, 'this route is for admins only');
    }
    event.caller = caller;
  },
});

/**
 * Parses a JSON body into `event.parsedBody`. A body that is too large gets 413, one declared as
 * anything but JSON 415, malformed JSON (or bytes that are not UTF-8, which JSON requires) 400.
 */
export const jsonBody = (): Middleware => ({
  before: async ({ event }) => {
    // A declared length over the limit is refused before a byte of the body is read.
    const declared = event.headers['content-length'];
    if (declared !== undefined && /^[0-9]+$/.test(declared) && Number(declared) > MAX_BODY_BYTES) {
      throw new HttpProblem(413, `the body is larger than ${MAX_BODY_BYTES} bytes`);
    }
    await event.readBody?.();
    if (event.body === undefined || event.body === '') return;
    const bytes = Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
    if (bytes.length > MAX_BODY_BYTES) {
      throw new HttpProblem(413, `the body is larger than ${MAX_BODY_BYTES} bytes`);
    }
    const type = (event.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(type)) {
      throw new HttpProblem(415, 'send the body as application/json');
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new HttpProblem(400, 'the body is not valid UTF-8');
    }
    try {
      event.parsedBody = JSON.parse(text);
    } catch {
      throw new HttpProblem(400, 'the body is not valid JSON');
    }
  },
});

/**
 * Turns any error into an application/problem+json response. Domain errors map to their status;
 * anything unexpected becomes a 500 whose detail says nothing about the cause, which is logged
 * with the request id instead.
 */
export const problemResponses = (log: Log): Middleware => ({
  onError: (request) => {
    const requestId = request.event.requestContext?.requestId;
    const problem = toProblem(request.error);
    if (problem.status >= 500) {
      log.error('request failed', {
        request_id: requestId,
        error: request.error instanceof Error ? request.error.message : String(request.error),
        code: (request.error as { code?: unknown } | null)?.code,
      });
    }
    request.response = {
      statusCode: problem.status,
      headers: { 'content-type': 'application/problem+json', ...problem.headers },
      body: JSON.stringify(problemDocument(problem, requestId)),
    };
  },
});

function toProblem(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (error instanceof ValidationError) return new HttpProblem(400, error.message, error.errors);
  if (error instanceof NotFoundError) return new HttpProblem(404, error.message);
  if (error instanceof ForbiddenError) return new HttpProblem(403, error.message);
  if (error instanceof ConflictError) return new HttpProblem(409, error.message);
  return new HttpProblem(500, 'the request could not be completed; it has been logged');
}

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

export const securityHeaders = (): Middleware => {
  const add = ({ response }: { response: APIGatewayProxyStructuredResultV2 | null }) => {
    if (response) response.headers = { ...SECURITY_HEADERS, ...response.headers };
  };
  return { after: add, onError: add };
};

/** One structured line per request, success or failure. */
export const requestLog = (log: Log): Middleware => {
  const write = (request: Parameters<NonNullable<Middleware['after']>>[0]) => {
    const { event, response } = request;
    const { started = performance.now() } = request.internal as { started?: number };
    log.info('request', {
      request_id: event.requestContext?.requestId,
      method: event.requestContext?.http?.method,
      path: event.rawPath,
      status: response?.statusCode,
      duration_ms: Math.round(performance.now() - started),
    });
  };
  return {
    before: (request) => {
      (request.internal as { started?: number }).started = performance.now();
    },
    after: write,
    onError: write,
  };
};
