import * as z from 'zod/mini';
import { createEgressClient, type EgressClient } from '../egress/http-client';
import { signMessage } from '../egress/signing';
import { defineExecutor } from './types';

// A header name per RFC 9110 (token characters).
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
// Set by the executor, or credentials: a header's value is part of the job's metadata, which the
// API returns to every reader of the job, so credentials belong in the signing secret instead.
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'authorization',
  'proxy-authorization',
  'cookie',
]);
const EXCERPT_CHARACTERS_IN_ERROR = 500;

export type HttpRequestConfig = z.output<ReturnType<typeof httpRequestConfig>>;

function httpRequestConfig(egress: EgressClient) {
  return z.strictObject({
    url: z.string().check(
      z.maxLength(2048),
      z.superRefine((url, ctx) => {
        const problem = egress.checkUrl(url);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
      z.describe(
        'http or https URL to call. Addresses that are not public (private, loopback, link-local, ' +
          'unique-local, CGNAT, metadata) are refused, here and again after DNS resolution at run time.',
      ),
    ),
    method: z
      ._default(z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']), 'POST')
      .check(z.describe('HTTP method.')),
    headers: z
      ._default(
        z.record(
          z.string().check(z.regex(HEADER_NAME, 'must be an HTTP header name')),
          z
            .string()
            .check(z.maxLength(4096), z.regex(/^[^\r\n]*$/, 'must not contain line breaks')),
        ),
        {},
      )
      .check(
        z.superRefine((headers, ctx) => {
          for (const name of Object.keys(headers)) {
            if (RESERVED_HEADERS.has(name.toLowerCase())) {
              ctx.addIssue({
                code: 'custom',
                path: [name],
                message:
                  'set by the executor, or a credential (header values are returned by the API): ' +
                  "authenticate the call with the job's signing secret",
              });
            }
          }
        }),
        z.describe('Extra request headers. content-type defaults to application/json with a body.'),
      ),
    body: z
      .optional(z.unknown())
      .check(z.describe('JSON sent as the request body (not for GET). Omitted: no body.')),
    request_timeout_seconds: z
      ._default(z.number().check(z.int(), z.gte(1), z.lte(840)), 30)
      .check(
        z.describe(
          "Seconds to wait for the response; the job's timeout_seconds still ends the run first if shorter.",
        ),
      ),
    max_response_bytes: z
      ._default(z.number().check(z.int(), z.gte(0), z.lte(65536)), 2048)
      .check(
        z.describe('How much of the response body is kept on the run (the rest is not read).'),
      ),
  });
}

/**
 * Calls a URL: builds the request from the job's config, signs it per Standard Webhooks with the
 * job's secret, sends it through the egress guard, and records the response status and a bounded
 * excerpt. A non-2xx answer (redirects are not followed) fails the run, so retries and alerts
 * apply to it as to any failure.
 */
export function createHttpRequestExecutor(egress: EgressClient = createEgressClient()) {
  return defineExecutor({
    name: 'httpRequest',
    description:
      'Calls url with method, headers and a JSON body, signed per Standard Webhooks ' +
      "(webhook-id, webhook-timestamp, webhook-signature) with the job's signing secret. Only " +
      'public addresses are reached. Returns { status, response_excerpt, truncated, duration_ms }; ' +
      'a status outside 200-299 fails the run with the status and the excerpt.',
    needsSecret: true,
    configSchema: httpRequestConfig(egress),
    async run({ config, signal, secret, log }) {
      const signingSecret = await secret();
      if (!signingSecret) {
        throw new Error('the job has no signing secret: set one with PUT {"secret":"whsec_…"}');
      }
      const body =
        config.body === undefined || config.method === 'GET' ? '' : JSON.stringify(config.body);
      const headers: Record<string, string> = {
        'user-agent': 'crm-cron',
        ...(body === '' ? {} : { 'content-type': 'application/json' }),
        ...config.headers,
        ...signMessage(signingSecret, body),
      };
      const started = performance.now();
      const response = await egress.request({
        method: config.method,
        url: config.url,
        headers,
        ...(body === '' ? {} : { body }),
        signal,
        timeoutMs: config.request_timeout_seconds * 1000,
        maxResponseBytes: config.max_response_bytes,
      });
      const duration_ms = Math.round(performance.now() - started);
      const host = new URL(config.url).host;
      if (response.status < 200 || response.status > 299) {
        const excerpt = response.body.slice(0, EXCERPT_CHARACTERS_IN_ERROR);
        throw new Error(`HTTP ${response.status} from ${host}${excerpt ? `: ${excerpt}` : ''}`);
      }
      log.info('http request done', { host, status: response.status, duration_ms });
      return {
        status: response.status,
        response_excerpt: response.body,
        truncated: response.truncated,
        duration_ms,
      };
    },
  });
}
