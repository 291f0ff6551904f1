import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createEgressClient,
  EgressRefusedError,
  forbiddenAddressReason,
  generateSigningSecret,
  signMessage,
  SIGNING_SECRET_PATTERN,
} from '../../lib/egress/index';

const refused = [
  '0.0.0.0',
  '10.1.2.3',
  '100.64.0.1',
  '100.127.255.254',
  '127.0.0.1',
  '127.255.0.9',
  '169.254.169.254',
  '172.16.0.1',
  '172.31.255.255',
  '192.168.1.1',
  '198.18.0.1',
  '224.0.0.1',
  '255.255.255.255',
  '::',
  '::1',
  'fe80::1',
  'fc00::1',
  'fd00:ec2::254',
  'ff02::1',
  '::ffff:127.0.0.1',
  '::ffff:7f00:1',
  '::ffff:169.254.169.254',
  '::ffff:10.0.0.1',
  '::127.0.0.1',
  '64:ff9b::a9fe:a9fe',
  '2002:a9fe:a9fe::1',
  '2002:0a00:0001::',
];
const allowed = [
  '8.8.8.8',
  '93.184.216.34',
  '172.32.0.1',
  '100.128.0.1',
  '2606:4700::1111',
  '::ffff:8.8.8.8',
];

describe('address policy', () => {
  it.each(refused)('refuses %s', (address) => {
    expect(forbiddenAddressReason(address)).not.toBeNull();
  });
  it.each(allowed)('allows %s', (address) => {
    expect(forbiddenAddressReason(address)).toBeNull();
  });
  it('names the range it refuses', () => {
    expect(forbiddenAddressReason('169.254.169.254')).toMatch(/metadata/);
    expect(forbiddenAddressReason('100.64.1.1')).toMatch(/carrier-grade NAT/);
    expect(forbiddenAddressReason('fd12::1')).toMatch(/unique-local/);
  });
  it('the loopback override opens loopback only', () => {
    const policy = { allowLoopback: true };
    expect(forbiddenAddressReason('127.0.0.1', policy)).toBeNull();
    expect(forbiddenAddressReason('::1', policy)).toBeNull();
    expect(forbiddenAddressReason('::ffff:127.0.0.1', policy)).toBeNull();
    expect(forbiddenAddressReason('10.0.0.1', policy)).not.toBeNull();
    expect(forbiddenAddressReason('169.254.169.254', policy)).not.toBeNull();
  });
});

describe('URL check', () => {
  const client = createEgressClient();
  it.each([
    ['ftp://example.com/', /only http and https/],
    ['https://user:pw@example.com/', /credentials/],
    ['http://localhost:8080/', /loopback/],
    ['http://[::1]/', /loopback/],
    ['http://169.254.169.254/latest/meta-data/', /link-local/],
    ['http://[::ffff:a9fe:a9fe]/', /link-local/],
    ['http://0x7f000001/', /loopback/],
    ['http://2130706433/', /loopback/],
    ['not a url', /valid absolute URL/],
  ])('refuses %s', (url, reason) => {
    expect(client.checkUrl(url)).toMatch(reason);
  });
  it('accepts a public URL', () => {
    expect(client.checkUrl('https://hooks.example.com/cron?x=1')).toBeNull();
  });
});

interface Received {
  method: string;
  headers: IncomingMessage['headers'];
  body: string;
}

async function receiver(
  handle: (request: Received, response: ServerResponse) => void,
): Promise<{ port: number; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const entry = { method: request.method ?? '', headers: request.headers, body };
      received.push(entry);
      handle(entry, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, received, server };
}

describe('requests', () => {
  it('refuses a host name that resolves to a private address, before connecting', async () => {
    const client = createEgressClient({
      resolve: async () => [
        { address: '93.184.216.34', family: 4 },
        { address: '10.0.0.7', family: 4 },
      ],
    });
    await expect(
      client.request({
        method: 'GET',
        url: 'https://mixed.example/',
        timeoutMs: 1000,
        maxResponseBytes: 10,
      }),
    ).rejects.toThrow(EgressRefusedError);
    await expect(
      client.request({
        method: 'GET',
        url: 'https://mixed.example/',
        timeoutMs: 1000,
        maxResponseBytes: 10,
      }),
    ).rejects.toThrow(/resolves to 10\.0\.0\.7, a private address/);
  });

  it('connects to the address it checked, resolving once (no second lookup to rebind)', async () => {
    const { port, received } = await receiver((_request, response) => response.end('pong'));
    let lookups = 0;
    const client = createEgressClient({
      policy: { allowLoopback: true },
      // The first answer is the checked one; a rebinding server would answer differently later.
      resolve: async () =>
        lookups++ === 0
          ? [{ address: '127.0.0.1', family: 4 }]
          : [{ address: '10.0.0.1', family: 4 }],
    });
    const response = await client.request({
      method: 'POST',
      url: `http://receiver.invalid:${port}/hook`,
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
      timeoutMs: 10_000,
      maxResponseBytes: 100,
    });
    expect(response).toMatchObject({
      status: 200,
      body: 'pong',
      truncated: false,
      address: '127.0.0.1',
    });
    expect(lookups).toBe(1);
    expect(received.at(-1)).toMatchObject({ method: 'POST', body: '{"a":1}' });
    expect(received.at(-1)!.headers.host).toBe(`receiver.invalid:${port}`);
  });

  it('without the override, loopback is refused even through DNS', async () => {
    const client = createEgressClient({
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    await expect(
      client.request({
        method: 'GET',
        url: 'http://looks-public.example/',
        timeoutMs: 1000,
        maxResponseBytes: 10,
      }),
    ).rejects.toThrow(/loopback/);
  });

  it('keeps a bounded excerpt of a large response and does not follow redirects', async () => {
    const { port } = await receiver((request, response) => {
      if (request.headers['x-case'] === 'redirect') {
        response.writeHead(302, { location: 'http://169.254.169.254/' }).end();
      } else response.end('x'.repeat(200_000));
    });
    const client = createEgressClient({ policy: { allowLoopback: true } });
    const big = await client.request({
      method: 'GET',
      url: `http://127.0.0.1:${port}/`,
      timeoutMs: 10_000,
      maxResponseBytes: 1000,
    });
    expect(big.body).toHaveLength(1000);
    expect(big.truncated).toBe(true);
    const redirect = await client.request({
      method: 'GET',
      url: `http://127.0.0.1:${port}/`,
      headers: { 'x-case': 'redirect' },
      timeoutMs: 10_000,
      maxResponseBytes: 1000,
    });
    expect(redirect.status).toBe(302);
  });

  it('gives up after timeoutMs, and when the caller aborts', async () => {
    const { port } = await receiver(() => {
      /* never answers */
    });
    const client = createEgressClient({ policy: { allowLoopback: true } });
    await expect(
      client.request({
        method: 'GET',
        url: `http://127.0.0.1:${port}/`,
        timeoutMs: 200,
        maxResponseBytes: 10,
      }),
    ).rejects.toThrow(/no response from 127\.0\.0\.1:\d+ within 200 ms/);
    const controller = new AbortController();
    const pending = client.request({
      method: 'GET',
      url: `http://127.0.0.1:${port}/`,
      timeoutMs: 60_000,
      maxResponseBytes: 10,
      signal: controller.signal,
    });
    controller.abort(new Error('job timed out'));
    await expect(pending).rejects.toThrow(/job timed out/);
  });
});

describe('Standard Webhooks signing', () => {
  it('signs so that the standardwebhooks verifier accepts it, and rejects tampering', () => {
    const secret = generateSigningSecret();
    expect(secret).toMatch(SIGNING_SECRET_PATTERN);
    const body = JSON.stringify({ hello: 'world' });
    const headers = signMessage(secret, body, { id: 'msg_1' });
    expect(headers['webhook-id']).toBe('msg_1');
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual({ hello: 'world' });
    expect(() => new Webhook(secret).verify(`${body} `, { ...headers })).toThrow();
    expect(() => new Webhook(generateSigningSecret()).verify(body, { ...headers })).toThrow();
  });
});
