import middy from '@middy/core';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import * as z from 'zod';
import type { AppContext } from '../app-context';
import type { Log } from '../logger';
import { withFields } from '../engine/execute';
import {
  type ApiEvent,
  bearerAuth,
  jsonBody,
  normalizeHeaders,
  problemResponses,
  requestLog,
  securityHeaders,
} from './middleware';
import { parseInput } from './parse-input';

export interface ApiRequest {
  params: Record<string, string>;
  query: Record<string, string>;
  /** The parsed JSON body; undefined when there was none. */
  body: unknown;
  requestId: string;
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
  /** Local stack only: the bearer token every route but health requires. */
  apiToken?: string | undefined;
  auth: boolean;
}

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
    .use(bearerAuth(options.apiToken, options.auth))
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
