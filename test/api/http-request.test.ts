import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import { createBuiltInRegistry } from '../../lib/executors/built-ins';
import { startTestServer, type TestServer } from '../helpers/server';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

// A receiver on loopback: reachable only because the test registry sets the loopback override.
const received: Received[] = [];
let answer: (request: Received, response: ServerResponse) => void = (_r, response) =>
  response.end('{"ok":true}');
const receiver = createServer((request, response) => {
  let body = '';
  request.on('data', (chunk: Buffer) => (body += chunk.toString()));
  request.on('end', () => {
    const entry = {
      method: request.method ?? '',
      url: request.url ?? '',
      headers: request.headers,
      body,
    };
    received.push(entry);
    answer(entry, response);
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
afterAll(() => {
  receiver.closeAllConnections();
  receiver.close();
});

const server = await startTestServer({
  registry: createBuiltInRegistry({ egressPolicy: { allowLoopback: true } }),
});

async function createJob(target: TestServer, metadata: Record<string, unknown>, extra = {}) {
  return target.request('POST', '/api/cron/jobs', {
    body: {
      name: `call ${Math.random()}`,
      schedule: 'daily',
      function_name: 'httpRequest',
      metadata,
      ...extra,
    },
  });
}

/** Runs the job now and waits for its run to finish (polling, no wall-clock assumption). */
async function runNow(jobId: string) {
  const started = await server.request('POST', `/api/cron/jobs/${jobId}/run`);
  expect([200, 202]).toContain(started.status);
  for (let attempt = 0; attempt < 600; attempt += 1) {
    const runs = await server.request('GET', `/api/cron/jobs/${jobId}/runs?limit=1`);
    const run = runs.body.runs[0];
    if (run && run.status !== 'running') return run;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the run did not finish');
}

describe('httpRequest', () => {
  it('calls the URL with method, headers and body, signed with the job secret shown once', async () => {
    answer = (_request, response) => response.end('{"ok":true}');
    const created = await createJob(server, {
      url: `${receiverUrl}/hooks/nightly?x=1`,
      method: 'PUT',
      headers: { 'x-tenant': 'acme' },
      body: { report: 'nightly', items: [1, 2] },
    });
    expect(created.status).toBe(201);
    const secret = created.body.secret as string;
    expect(secret).toMatch(/^whsec_/);
    // The secret is never shown again: not by GET, not in the list, not in metadata.
    const fetched = await server.request('GET', `/api/cron/jobs/${created.body.id}`);
    expect(fetched.text).not.toContain(secret.slice(6));
    expect(fetched.body.secret).toBeUndefined();
    const listed = await server.request('GET', '/api/cron/jobs?function_name=httpRequest');
    expect(listed.text).not.toContain(secret.slice(6));

    const run = await runNow(created.body.id);
    expect(run).toMatchObject({
      status: 'success',
      result: { status: 200, response_excerpt: '{"ok":true}', truncated: false },
    });
    const call = received.at(-1)!;
    expect(call).toMatchObject({ method: 'PUT', url: '/hooks/nightly?x=1' });
    expect(call.headers['x-tenant']).toBe('acme');
    expect(call.headers['content-type']).toBe('application/json');
    const verified = new Webhook(secret).verify(call.body, {
      'webhook-id': String(call.headers['webhook-id']),
      'webhook-timestamp': String(call.headers['webhook-timestamp']),
      'webhook-signature': String(call.headers['webhook-signature']),
    });
    expect(verified).toEqual({ report: 'nightly', items: [1, 2] });
    expect(JSON.stringify(run)).not.toContain(secret.slice(6));
  });

  it('uses a secret the caller sets, and PUT replaces it without echoing it', async () => {
    answer = (_request, response) => response.end('ok');
    const mine = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
    const created = await createJob(server, { url: `${receiverUrl}/a` }, { secret: mine });
    expect(created.status).toBe(201);
    expect(created.body.secret).toBeUndefined();
    await runNow(created.body.id);
    const call = received.at(-1)!;
    expect(() =>
      new Webhook(mine).verify(call.body, call.headers as Record<string, string>),
    ).not.toThrow();

    const other = `whsec_${Buffer.from('fedcba9876543210fedcba9876543210').toString('base64')}`;
    const updated = await server.request('PUT', `/api/cron/jobs/${created.body.id}`, {
      body: { secret: other },
    });
    expect(updated.status).toBe(200);
    expect(updated.text).not.toContain(other.slice(6));
    await runNow(created.body.id);
    const second = received.at(-1)!;
    expect(() =>
      new Webhook(other).verify(second.body, second.headers as Record<string, string>),
    ).not.toThrow();
    expect(() =>
      new Webhook(mine).verify(second.body, second.headers as Record<string, string>),
    ).toThrow();

    const bad = await server.request('PUT', `/api/cron/jobs/${created.body.id}`, {
      body: { secret: 'hunter2-not-a-whsec' },
    });
    expect(bad.status).toBe(400);
    expect(bad.text).not.toContain('hunter2');
  });

  it('records a non-2xx answer as an error with the status and an excerpt', async () => {
    answer = (_request, response) => response.writeHead(503).end('maintenance until 04:00');
    const created = await createJob(server, { url: `${receiverUrl}/down` });
    const run = await runNow(created.body.id);
    expect(run.status).toBe('error');
    expect(run.error).toBe(`HTTP 503 from ${new URL(receiverUrl).host}: maintenance until 04:00`);
    const job = await server.request('GET', `/api/cron/jobs/${created.body.id}`);
    expect(job.body.metadata).toMatchObject({ last_execution_status: 'error', error_count: 1 });
  });

  it('gives up after request_timeout_seconds, and the job timeout bounds it too', async () => {
    answer = () => {
      /* never answers */
    };
    const created = await createJob(server, {
      url: `${receiverUrl}/slow`,
      request_timeout_seconds: 1,
    });
    const run = await runNow(created.body.id);
    expect(run.status).toBe('error');
    expect(run.error).toMatch(/no response from 127\.0\.0\.1:\d+ within 1000 ms/);

    const bounded = await createJob(
      server,
      { url: `${receiverUrl}/slow`, request_timeout_seconds: 600 },
      { timeout_seconds: 1 },
    );
    expect((await runNow(bounded.body.id)).status).toBe('timeout');
  });

  it('keeps a bounded excerpt of a large answer', async () => {
    answer = (_request, response) => response.end('y'.repeat(100_000));
    const created = await createJob(server, { url: `${receiverUrl}/big`, max_response_bytes: 100 });
    const run = await runNow(created.body.id);
    expect(run.result).toMatchObject({ status: 200, truncated: true });
    expect(run.result.response_excerpt).toHaveLength(100);
  });
});

const deployed = await startTestServer();

describe('httpRequest without the loopback override (as deployed)', () => {
  it.each([
    'http://127.0.0.1:8080/',
    'http://localhost/',
    'http://10.0.0.5/internal',
    'http://192.168.1.1/',
    'http://172.20.0.1/',
    'http://100.64.0.1/',
    'http://169.254.169.254/latest/meta-data/',
    'http://[::1]/',
    'http://[fd00:ec2::254]/',
    'http://[::ffff:169.254.169.254]/',
    'http://[fe80::1]/',
  ])('refuses %s with a 400 naming metadata.url and changes nothing', async (url) => {
    const before = await deployed.snapshot();
    const response = await createJob(deployed, { url });
    expect(response.status).toBe(400);
    expect(response.body.errors[0].path).toBe('metadata.url');
    expect(await deployed.snapshot()).toBe(before);
  });

  it('refuses credential headers, which the API would return', async () => {
    const response = await createJob(deployed, {
      url: 'https://hooks.example.com/x',
      headers: { Authorization: 'Bearer abc' },
    });
    expect(response.status).toBe(400);
    expect(response.body.errors[0].path).toBe('metadata.headers.Authorization');
  });
});
