/**
 * Where the API server's CPU goes: `npx tsx bench/profile-api.ts [GET|POST]`. Not part of
 * `npm run bench`. Loads one route for 5 s from a separate process while the in-process server is
 * CPU-profiled, then prints self time by package / file and by function.
 */
import { Session } from 'node:inspector/promises';
import { connect } from '../lib/db';
import { startLocalServer } from '../lib/local/server';
import { silentLog } from '../lib/logger';
import { load } from './api';
import { insertIdleJobs, startBenchDatabase } from './database';
import { benchRegistry } from './executors';
import { printProfile } from './profile-report';

const method = (process.argv[2] ?? 'POST').toUpperCase() === 'GET' ? 'GET' : 'POST';
const db = await startBenchDatabase();
const sql = connect(db.url, { max: 10 });
try {
  await insertIdleJobs(sql, 10_000);
  const app = {
    sql,
    registry: benchRegistry,
    log: silentLog,
    settings: { sweepIntervalSeconds: 300, sweepConcurrency: 4 },
  };
  const server = await startLocalServer({ app, log: silentLog, host: '127.0.0.1', port: 0 });
  const plan = {
    url: `${server.url}/api/cron/jobs${method === 'GET' ? '?limit=50' : ''}`,
    method,
    connections: 10,
    durationSeconds: 5,
    namePrefix: `profile ${Date.now()}`,
  } as const;
  await load({ ...plan, durationSeconds: 2, namePrefix: `${plan.namePrefix} warm-up` });
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  const cpu = process.cpuUsage();
  const figures = await load(plan);
  const used = process.cpuUsage(cpu);
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  console.log(
    `${method} ${plan.url}: ${figures.total} requests, ${Math.round(figures.requestsPerSecond)} req/s, ` +
      `server CPU ${Math.round((used.user + used.system) / figures.total)} µs per request`,
  );
  printProfile(profile);
  await server.close();
} finally {
  await sql.end();
  await db.stop();
}
