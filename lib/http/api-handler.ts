import middy from '@middy/core';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import * as z from 'zod';
import type { AppContext } from '../app-context';
import type { Caller } from '../identity/caller';
import type { Log } from '../logger';
import { withFields } from '../engine/execute';
import {
  type ApiEvent,
  type CallerResolver,
  identifyCaller,
  jsonBody,
  normalizeHeaders,
  problemResponses,
  requestLog,
  securityHeaders,
} from './middleware';
import { parseInput } from './parse-input';
import type { Access } from './route-table';

export interface ApiRequest {
  params: Record<string, string>;
  query: Record<string, string>;
  /** The parsed JSON body; undefined when there was none. */
  body: unknown;
  requestId: string;
  /**
   * Who is calling (never taken from the body). On a public route (health) nobody is identified:
   * a caller with no tenant and no admin rights, which the job service scopes to nothing.
   */
  caller: Caller;
  /** Milliseconds until the platform stops this invocation. */
  remainingMs: () => number;
}

export interface ApiResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type RouteHandler = ((request: ApiRequest, app: AppContext) => Promise<ApiResponse>) & {
  /** The query parameters the route reads; a route without this refuses any parameter. */
  readonly query?: z.ZodObject;
};

/** A route that reads query parameters: they are validated by `query` and handed over parsed. */
export function routeWithQuery<Query extends z.ZodObject>(
  query: Query,
  handle: (request: ApiRequest, app: AppContext, query: z.output<Query>) => Promise<ApiResponse>,
): RouteHandler {
  return Object.assign(
    (request: ApiRequest, app: AppContext) =>
      handle(request, app, parseInput(query, request.query)),
    { query },
  );
}

// An unknown parameter is refused rather than ignored: `POST /jobs?dry_run=true` must not create.
const noQuery = z.strictObject({});

export interface ApiHandlerOptions {
  app: () => Promise<AppContext>;
  log: Log;
  /** The route's access rule (route table). */
  access: Access;
  /** Local bearer tokens or the API Gateway authorizer context. */
  identify: CallerResolver;
}

const NOBODY: Caller = Object.freeze({ subject: 'anonymous', tenant_id: null, admin: false });

export type ApiGatewayHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** The one middleware stack every HTTP route runs in, on Lambda and on the local server alike. */
export function createApiHandler(
  route: RouteHandler,
  options: ApiHandlerOptions,
): ApiGatewayHandler {
  return middy<ApiEvent, APIGatewayProxyStructuredResultV2>()
    .use(requestLog(options.log))
    .use(securityHeaders())
    .use(problemResponses(options.log))
    .use(normalizeHeaders())
    .use(identifyCaller(options.access, options.identify))
    .use(jsonBody())
    .handler(async (event, context) => {
      const query = (event.queryStringParameters ?? {}) as Record<string, string>;
      if (!route.query) parseInput(noQuery, query);
      const response = await route(
        {
          params: (event.pathParameters ?? {}) as Record<string, string>,
          query,
          body: event.parsedBody,
          requestId: event.requestContext.requestId,
          caller: { ...(event.caller ?? NOBODY), request_id: event.requestContext.requestId },
          remainingMs: () => context.getRemainingTimeInMillis(),
        },
        withRequestLog(await options.app(), event.requestContext.requestId),
      );
      return {
        statusCode: response.status,
        headers: {
          ...(response.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...response.headers,
        },
        ...(response.body === undefined ? {} : { body: JSON.stringify(response.body) }),
      };
    }) as ApiGatewayHandler;
}

/** The app as one request sees it: every line it logs (a failed run's too) names the request. */
function withRequestLog(app: AppContext, requestId: string): AppContext {
  return { ...app, log: withFields(app.log, { request_id: requestId }) };
}
