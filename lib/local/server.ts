import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import * as z from 'zod';
import type { AppContext } from '../app-context';
import { HttpProblem } from '../http/problem';
import { createApiHandler, routeWithQuery, type ApiGatewayHandler } from '../http/api-handler';
import { MAX_BODY_BYTES, type ApiEvent } from '../http/middleware';
import { bearerTokenCallers } from '../http/identify';
import { routeTable, type Route } from '../http/route-table';
import { routeHandlers } from '../http/routes';
import type { LocalTokens } from '../identity/local-tokens';
import type { Log } from '../logger';
import { consoleFile } from './console-assets';

export interface LocalServerOptions {
  app: AppContext;
  log: Log;
  host: string;
  port: number;
  /** The callers of CRON_API_TOKENS / CRON_API_TOKEN; none (the default): the server is open. */
  tokens?: LocalTokens | undefined;
  /** The built console, served at / (lib/local/console-assets.ts); absent: the API only. */
  consoleDir?: string | undefined;
}

export interface LocalServer {
  url: string;
  close(): Promise<void>;
}

// A local request may take as long as the longest Lambda invocation.
const LOCAL_INVOCATION_MS = 900_000;

interface CompiledRoute {
  definition: Route;
  pattern: RegExp;
  handler: ApiGatewayHandler;
}

/**
 * Serves the route table over plain HTTP by turning each request into the API Gateway HTTP API
 * (payload v2) event AWS would send, running the same middleware stack and handler, and writing
 * the result back. What works here works behind API Gateway.
 */
export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const app = async () => options.app;
  const identify = bearerTokenCallers(options.tokens ?? []);
  const routes: CompiledRoute[] = routeTable.map((definition: Route) => ({
    definition,
    pattern: new RegExp(`^${definition.path.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)')}$`),
    handler: createApiHandler(routeHandlers[definition.name], {
      app,
      log: options.log,
      access: definition.access,
      identify,
    }),
  }));
  // No route, so no query to check: the answer is 404 or 405 whatever the parameters.
  const fallback = (status: 404 | 405, detail: string, headers?: Record<string, string>) =>
    createApiHandler(
      routeWithQuery(z.looseObject({}), async () => {
        throw new HttpProblem(status, detail, undefined, headers);
      }),
      { app, log: options.log, access: 'public', identify },
    );
  const notFound = fallback(404, 'no such route: see /api/cron/openapi.json');
  // A 405 says which methods the path does take (RFC 9110 requires the Allow header).
  const notAllowed = new Map<string, ApiGatewayHandler>();
  for (const { path } of routeTable) {
    const allow = routeTable.filter((route) => route.path === path).map((route) => route.method);
    notAllowed.set(
      path,
      fallback(405, `this route takes ${allow.join(', ')}`, { allow: allow.join(', ') }),
    );
  }

  const server: Server = createServer(async (request, response) => {
    try {
      const url = requestUrl(request.url);
      const method = (request.method ?? 'GET').toUpperCase();
      if (
        options.consoleDir &&
        (method === 'GET' || method === 'HEAD') &&
        !url.pathname.startsWith('/api/')
      ) {
        const file = await consoleFile(options.consoleDir, url.pathname);
        if (file) {
          response.writeHead(file.status, {
            ...file.headers,
            'content-length': String(file.body.length),
          });
          response.end(method === 'HEAD' ? undefined : file.body);
          return;
        }
      }
      let handler = notFound;
      let routeKey = '$default';
      let pathParameters: Record<string, string> | undefined;
      for (const route of routes) {
        const match = route.pattern.exec(url.pathname);
        if (!match) continue;
        handler = notAllowed.get(route.definition.path)!;
        if (route.definition.method !== method) continue;
        const params = decodeParams(match.groups);
        if (!params) {
          handler = notFound;
          break;
        }
        handler = route.handler;
        routeKey = `${method} ${route.definition.path}`;
        pathParameters = params;
        break;
      }
      const event: ApiEvent = toApiGatewayEvent(request, url, method, routeKey, pathParameters);
      event.readBody = async () => {
        Object.assign(event, bodyFields(await readCappedBody(request)));
      };
      const result = await handler(event, lambdaContext(event.requestContext.requestId));
      // A body left unread (refused before or while reading it) is not drained: the connection
      // closes once the answer is written, so a client cannot make the server read 300 MB.
      if (!request.complete) response.shouldKeepAlive = false;
      response.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
      response.end(
        result.body === undefined
          ? undefined
          : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8'),
      );
    } catch (error) {
      options.log.error('local server could not answer a request', {
        error: (error as Error).message,
      });
      if (!response.headersSent)
        response.writeHead(500, { 'content-type': 'application/problem+json' });
      response.end(
        JSON.stringify({
          type: 'about:blank',
          title: 'Internal Server Error',
          status: 500,
          detail: 'the request could not be completed; it has been logged',
        }),
      );
    }
  });
  // Requests Node cannot parse (a head over 16 KiB, bytes that are not HTTP) still get a problem.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const body = JSON.stringify({
      type: 'about:blank',
      title: status === 431 ? 'Request Header Fields Too Large' : 'Bad Request',
      status,
      detail:
        status === 431 ? 'the request head is larger than 16 KiB' : 'the request is not valid HTTP',
    });
    socket.end(
      `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
        `content-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
        `connection: close\r\n\r\n${body}`,
    );
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

/**
 * The request target as a URL. `new URL(target, base)` would read `//host/...` as a host, so an
 * origin-form target is appended to the base instead; an absolute-form one keeps its path.
 */
function requestUrl(target: string | undefined): URL {
  try {
    if (target?.startsWith('/')) return new URL(`http://local${target}`);
    const absolute = new URL(target ?? '/');
    return new URL(`http://local${absolute.pathname}${absolute.search}`);
  } catch {
    return new URL('http://local/');
  }
}

function decodeParams(
  groups: Record<string, string> | undefined,
): Record<string, string> | undefined {
  try {
    return Object.fromEntries(
      Object.entries(groups ?? {}).map(([name, value]) => [name, decodeURIComponent(value)]),
    );
  } catch {
    return undefined;
  }
}

/**
 * Reads the body until its end or until it passes the limit, then stops reading (the request is
 * paused, not destroyed, so the answer can still be written): at most one chunk past the limit is
 * read, and one byte past it kept, enough for the middleware to answer 413.
 */
function readCappedBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      request.off('data', onData).off('end', stop).off('close', stop);
      request.pause();
      resolve(size === 0 ? undefined : Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES + 1));
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > MAX_BODY_BYTES) stop();
    };
    request.on('data', onData).on('end', stop).on('close', stop);
  });
}

// Like API Gateway, bytes that are not text travel base64-encoded.
function bodyFields(body: Buffer | undefined): Pick<ApiEvent, 'body' | 'isBase64Encoded'> {
  if (body === undefined) return { isBase64Encoded: false };
  return isUtf8(body)
    ? { body: body.toString('utf8'), isBase64Encoded: false }
    : { body: body.toString('base64'), isBase64Encoded: true };
}

function toApiGatewayEvent(
  request: IncomingMessage,
  url: URL,
  method: string,
  routeKey: string,
  pathParameters: Record<string, string> | undefined,
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  // API Gateway joins repeated query parameters with commas. A Map, so that names such as
  // __proto__ or toString are parameters like any other.
  const joined = new Map<string, string>();
  for (const [name, value] of url.searchParams) {
    const previous = joined.get(name);
    joined.set(name, previous === undefined ? value : `${previous},${value}`);
  }
  const query = Object.fromEntries(joined);
  const now = new Date();
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(pathParameters ? { pathParameters } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: false,
  };
}

function lambdaContext(requestId: string): Context {
  const deadline = Date.now() + LOCAL_INVOCATION_MS;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'local',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:local',
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: 'local',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
