import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../lib/http/middleware';
import { startTestServer } from '../helpers/server';

/**
 * The local server must not read an oversized or unauthorized body: it answers as soon as the
 * declared length or the bytes read pass 64 KiB, and checks the token before reading at all.
 * Each request streams up to 50 MB; what the client manages to write before the server answers
 * and closes is what the server (and the kernel's socket buffers) accepted.
 */
const TOKEN = 'body-limit-token-91c2';
const server = await startTestServer({ apiToken: TOKEN });

// The most a client can push into loopback socket buffers the server never reads; a server that
// read the whole 50 MB lets the client write all of it.
const BUFFERED_AT_MOST = 16 * 1024 * 1024;
const STREAM_BYTES = 50 * 1024 * 1024;

interface Streamed {
  status: number;
  contentType: string;
  body: string;
  written: number;
}

/** POSTs up to STREAM_BYTES of JSON-ish bytes, stopping once the server has answered. */
function streamBody(
  path: string,
  headers: Record<string, string>,
  options: { declareLength?: boolean } = {},
): Promise<Streamed> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    let written = 0;
    let answered = false;
    let result: Omit<Streamed, 'written'> | undefined;
    const chunk = Buffer.alloc(64 * 1024, 'x');
    chunk.write('{"name":"');
    const req = httpRequest({
      host: url.hostname,
      port: url.port,
      method: 'POST',
      path,
      headers: {
        'content-type': 'application/json',
        ...(options.declareLength ? { 'content-length': String(STREAM_BYTES) } : {}),
        ...headers,
      },
    });
    const done = () => (result ? resolve({ ...result, written }) : undefined);
    req.on('response', (res) => {
      answered = true;
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => {
        result = {
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type'] ?? ''),
          body: Buffer.concat(parts).toString('utf8'),
        };
        done();
      });
      res.on('error', () => done());
    });
    // Writes after the server closed its side fail with EPIPE or ECONNRESET: expected here.
    req.on('error', (error) => (answered ? undefined : reject(error)));
    const pump = () => {
      while (!answered && written < STREAM_BYTES) {
        written += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}

describe('oversized and unauthorized bodies on the local server', () => {
  it('answers 401 to a streamed 50 MB body without the token, without reading it', async () => {
    const before = await server.snapshot();
    const answer = await streamBody('/api/cron/jobs', {});
    expect(answer.status, answer.body).toBe(401);
    expect(answer.contentType).toMatch(/^application\/problem\+json/);
    expect(answer.written).toBeLessThan(BUFFERED_AT_MOST);
    expect(await server.snapshot()).toBe(before);
  });

  it('answers 403 to a wrong token, without reading the body', async () => {
    const answer = await streamBody('/api/cron/jobs', { authorization: 'Bearer wrong' });
    expect(answer.status, answer.body).toBe(403);
    expect(answer.written).toBeLessThan(BUFFERED_AT_MOST);
  });

  it('answers 413 from a declared content-length over 64 KiB, without reading the body', async () => {
    const answer = await streamBody(
      '/api/cron/jobs',
      { authorization: `Bearer ${TOKEN}` },
      { declareLength: true },
    );
    expect(answer.status, answer.body).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ status: 413 });
    expect(answer.written).toBeLessThan(BUFFERED_AT_MOST);
  });

  it('answers 413 to a chunked body once 64 KiB have been read, reading no further', async () => {
    const before = await server.snapshot();
    const answer = await streamBody('/api/cron/jobs', { authorization: `Bearer ${TOKEN}` });
    expect(answer.status, answer.body).toBe(413);
    expect(answer.written).toBeLessThan(BUFFERED_AT_MOST);
    expect(await server.snapshot()).toBe(before);
  });

  it('answers 413 to an oversized body on an unknown route too', async () => {
    const answer = await streamBody('/api/cron/nowhere', { authorization: `Bearer ${TOKEN}` });
    expect([404, 413]).toContain(answer.status);
    expect(answer.written).toBeLessThan(BUFFERED_AT_MOST);
  });

  it('still serves the next request, and a body of exactly 64 KiB', async () => {
    const name = 'n'.repeat(100);
    const filler = 'f'.repeat(MAX_BODY_BYTES);
    const json = JSON.stringify({
      name,
      schedule: 'daily',
      function_name: 'cleanOldActivities',
      metadata: { retention_days: 30, x: '' },
    });
    const padded = json.replace('"x":""', `"x":"${filler.slice(0, MAX_BODY_BYTES - json.length)}"`);
    expect(Buffer.byteLength(padded)).toBe(MAX_BODY_BYTES);
    const response = await server.request('POST', '/api/cron/jobs', { rawBody: padded });
    // Read in full: refused for the unknown config key, not for its size.
    expect(response.status, response.text).toBe(400);
    expect(response.body.errors).toContainEqual({ path: 'metadata.x', message: 'unknown field' });
  });
});
