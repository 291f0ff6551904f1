import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { forbiddenAddressReason, type AddressPolicy } from './address-policy';

/** A call the egress guard refused before any byte left: the URL or its address is not allowed. */
export class EgressRefusedError extends Error {
  override name = 'EgressRefusedError';
}

export interface EgressRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** Aborts the call (the job's timeout); `timeoutMs` bounds it as well. */
  signal?: AbortSignal;
  timeoutMs: number;
  /** How much of the response body is kept; the rest is not read. */
  maxResponseBytes: number;
}

export interface EgressResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The first `maxResponseBytes` of the body, as UTF-8 text. */
  body: string;
  truncated: boolean;
  /** The address the connection went to. */
  address: string;
}

export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  );

export interface EgressClient {
  /** Checks a URL without resolving it: scheme, credentials, and literal addresses. */
  checkUrl(url: string): string | null;
  /**
   * checkUrl, then resolves the host as a call would and checks every address it resolves to:
   * for validating a stored URL up front (alert destinations). A call checks again when it is made.
   */
  checkResolved(url: string): Promise<string | null>;
  request(request: EgressRequest): Promise<EgressResponse>;
}

/**
 * Outbound HTTP(S) that only reaches public addresses. The host name is resolved once, every
 * address it resolves to must be public (one private answer refuses the call), and the
 * connection is pinned to the checked address: a DNS answer that changes between the check and
 * the connect (DNS rebinding) cannot redirect it. TLS still verifies the certificate against the
 * host name. Redirects are not followed (a 3xx is returned as it is), so a public URL cannot
 * bounce the call to a private one.
 */
export function createEgressClient(
  options: { policy?: AddressPolicy; resolve?: Resolver } = {},
): EgressClient {
  const policy = options.policy ?? {};
  const resolve = options.resolve ?? systemResolver;

  const checkUrl = (text: string): string | null => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return 'not a valid absolute URL';
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'only http and https URLs';
    if (url.username || url.password) return 'credentials in the URL are not allowed; use headers';
    const host = bareHost(url);
    if (isIP(host)) {
      const reason = forbiddenAddressReason(host, policy);
      if (reason) return `${host} is a ${reason} address`;
    } else if (host === 'localhost' || host.endsWith('.localhost')) {
      if (!policy.allowLoopback) return `${host} is a loopback name`;
    }
    return null;
  };

  const pin = async (url: URL): Promise<{ address: string; family: 4 | 6 }> => {
    const host = bareHost(url);
    const literal = isIP(host);
    const addresses = literal
      ? [{ address: host, family: literal }]
      : await resolve(host).catch((error: NodeJS.ErrnoException) => {
          throw new EgressRefusedError(`cannot resolve ${host}: ${error.code ?? error.message}`);
        });
    if (addresses.length === 0) throw new EgressRefusedError(`${host} has no address`);
    for (const { address } of addresses) {
      const reason = forbiddenAddressReason(address, policy);
      if (reason) {
        throw new EgressRefusedError(`${host} resolves to ${address}, a ${reason} address`);
      }
    }
    const first = addresses[0]!;
    return { address: first.address, family: first.family === 6 ? 6 : 4 };
  };

  return {
    checkUrl,
    async checkResolved(text) {
      const problem = checkUrl(text);
      if (problem) return problem;
      try {
        await pin(new URL(text));
        return null;
      } catch (error) {
        if (error instanceof EgressRefusedError) return error.message;
        throw error;
      }
    },
    async request(request) {
      const problem = checkUrl(request.url);
      if (problem) throw new EgressRefusedError(`${request.url}: ${problem}`);
      const url = new URL(request.url);
      const target = await pin(url);
      const signal = AbortSignal.any([
        AbortSignal.timeout(request.timeoutMs),
        ...(request.signal ? [request.signal] : []),
      ]);
      // The connection goes to the address checked above, whatever DNS says by now.
      const pinnedLookup: LookupFunction = (_hostname, lookupOptions, callback) => {
        if (lookupOptions.all) callback(null, [target]);
        else callback(null, target.address, target.family);
      };
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      return new Promise<EgressResponse>((resolvePromise, reject) => {
        const outgoing = send(
          url,
          {
            method: request.method,
            headers: {
              ...request.headers,
              ...(request.body === undefined
                ? {}
                : { 'content-length': String(Buffer.byteLength(request.body)) }),
            },
            lookup: pinnedLookup,
            signal,
          },
          (response) => {
            const chunks: Buffer[] = [];
            let kept = 0;
            let truncated = false;
            let done = false;
            const finish = () => {
              if (done) return;
              done = true;
              resolvePromise({
                status: response.statusCode ?? 0,
                headers: response.headers,
                body: Buffer.concat(chunks).toString('utf8'),
                truncated,
                address: target.address,
              });
            };
            response.on('data', (chunk: Buffer) => {
              const part = chunk.subarray(0, Math.max(0, request.maxResponseBytes - kept));
              chunks.push(part);
              kept += part.length;
              if (part.length < chunk.length) {
                // Enough kept: stop reading instead of downloading the rest.
                truncated = true;
                finish();
                response.destroy();
              }
            });
            response.on('end', finish);
            response.on('error', (error) => (done ? undefined : reject(error)));
          },
        );
        outgoing.on('error', (error) => {
          if (signal.aborted) {
            const reason: unknown = signal.reason;
            reject(
              reason instanceof Error && reason.name === 'TimeoutError'
                ? new Error(`no response from ${url.host} within ${request.timeoutMs} ms`)
                : reason instanceof Error
                  ? reason
                  : error,
            );
          } else reject(error);
        });
        outgoing.end(request.body);
      });
    },
  };
}

function bareHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}
