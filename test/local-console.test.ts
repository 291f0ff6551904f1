import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { builtInExecutors } from '../lib/executors/built-ins';
import { createRegistry } from '../lib/executors/registry';
import { consoleFile } from '../lib/local/console-assets';
import { parseLocalTokens } from '../lib/identity/local-tokens';
import { startLocalServer } from '../lib/local/server';
import { silentLog } from '../lib/logger';
import { createTestDatabase } from './helpers/database';

const dir = await mkdtemp(path.join(tmpdir(), 'console-dist-'));
await mkdir(path.join(dir, 'assets'));
await writeFile(path.join(dir, 'index.html'), '<!doctype html><title>console</title>');
await writeFile(path.join(dir, 'assets/index-abc123.js'), 'console.log(1)');
await writeFile(path.join(tmpdir(), 'outside.html'), 'secret');
afterAll(() => rm(dir, { recursive: true, force: true }));

const { sql } = await createTestDatabase();
const server = await startLocalServer({
  app: {
    sql,
    registry: createRegistry(builtInExecutors),
    log: silentLog,
    settings: { sweepIntervalSeconds: 300, sweepConcurrency: 1 },
  },
  log: silentLog,
  host: '127.0.0.1',
  port: 0,
  tokens: parseLocalTokens(undefined, 'console-test-token-0123456789'),
  consoleDir: dir,
});
afterAll(() => server.close());

describe('the local server serves the built console', () => {
  it('at /, without a token, with a policy that lets it talk to this origin only', async () => {
    const response = await fetch(`${server.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect(await response.text()).toContain('<title>console</title>');
  });

  it('hashed assets cached for good', async () => {
    const response = await fetch(`${server.url}/assets/index-abc123.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('cache-control')).toContain('immutable');
  });

  it('nothing outside its folder, and the API as before', async () => {
    for (const target of ['/../outside.html', '/%2e%2e/outside.html', '/assets/missing.js']) {
      const response = await fetch(`${server.url}${target}`);
      expect(response.status, target).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    expect(await consoleFile(dir, '/..%2foutside.html')).toBeUndefined();
    expect((await fetch(`${server.url}/api/cron/jobs`)).status).toBe(401);
    expect((await fetch(`${server.url}/api/cron/health`)).status).toBe(200);
    // Writes never reach the files.
    expect((await fetch(`${server.url}/`, { method: 'POST' })).status).toBe(404);
  });
});
