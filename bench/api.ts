import { spawn } from 'node:child_process';
import path from 'node:path';
import type { AppContext } from '../lib/app-context';
import { connect, type Sql } from '../lib/db';
import { startLocalServer } from '../lib/local/server';
import { silentLog } from '../lib/logger';
import { benchRegistry } from './executors';
import { cpuByProcess, cpuDelta } from './machine';
import { serverPids } from './sweep';
import { fmt } from './report';

export interface LoadResult {
  label: string;
  /** Open loop: the requests a second offered; absent for a closed loop (as fast as served). */
  offeredRate?: number;
  requestsPerSecond: number;
  total: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  ok: number;
  sent: number;
  /** CPU per request of the server process (Node), microseconds. */
  nodeCpuUs: number;
  /** CPU per request of the PostgreSQL processes, microseconds, when the server runs here. */
  postgresCpuUs?: number;
}

type LoadFigures = Omit<LoadResult, 'label' | 'offeredRate' | 'nodeCpuUs' | 'postgresCpuUs'>;

const LOAD_SCRIPT = path.join(import.meta.dirname, 'api-load.ts');

/**
 * Serves the API with startLocalServer (pool of 10, as `npm start`; logs off), and loads it from
 * a separate process with autocannon: GET /api/cron/jobs?limit=50, then POST /api/cron/jobs with
 * a new job name per request. Checks that every 201 made exactly one job.
 */
export async function benchApi(
  url: string,
  admin: Sql,
  options: {
    connections: number;
    durationSeconds: number;
    /** Also measure each route open loop at this many requests a second (before the closed loop). */
    openLoopRate?: number;
  },
): Promise<LoadResult[]> {
  const sql = connect(url, { max: 10 });
  const app: AppContext = {
    sql,
    registry: benchRegistry,
    log: silentLog,
    settings: { sweepIntervalSeconds: 300, sweepConcurrency: 4 },
  };
  const server = await startLocalServer({ app, log: silentLog, host: '127.0.0.1', port: 0 });
  const prefix = `api bench ${Date.now()}`;
  try {
    const results: LoadResult[] = [];
    // A short warm-up, so neither the JIT nor the pool's first connections are measured.
    await load({
      url: `${server.url}/api/cron/jobs?limit=50`,
      method: 'GET',
      connections: 10,
      durationSeconds: 2,
    });
    // Measures one load: autocannon's figures plus the CPU the server and the database spent.
    const measured = async (label: string, plan: Parameters<typeof load>[0]) => {
      const pids = await serverPids(admin);
      const pgBefore = await cpuByProcess(pids);
      const cpu = process.cpuUsage();
      const figures = await load(plan);
      const used = process.cpuUsage(cpu);
      const pgAfter = await cpuByProcess([...new Set([...pids, ...(await serverPids(admin))])]);
      const result: LoadResult = {
        label,
        ...(plan.overallRate === undefined ? {} : { offeredRate: plan.overallRate }),
        ...figures,
        nodeCpuUs: (used.user + used.system) / figures.total,
      };
      if (pgBefore.size > 0)
        result.postgresCpuUs = (cpuDelta(pgBefore, pgAfter) * 1000) / figures.total;
      return result;
    };
    const routes = [
      { label: 'GET /api/cron/jobs?limit=50', path: '/api/cron/jobs?limit=50', method: 'GET' },
      { label: 'POST /api/cron/jobs', path: '/api/cron/jobs', method: 'POST' },
    ] as const;
    const plans = [
      ...(options.openLoopRate === undefined
        ? []
        : [
            {
              rate: options.openLoopRate,
              suffix: `, ${fmt.int(options.openLoopRate)} req/s offered`,
            },
          ]),
      { rate: undefined, suffix: `, ${options.connections} connections, as fast as served` },
    ];
    let posted = 0;
    let postedOk = 0;
    for (const plan of plans) {
      for (const route of routes) {
        const result = await measured(`${route.label}${plan.suffix}`, {
          url: `${server.url}${route.path}`,
          method: route.method,
          connections: options.connections,
          durationSeconds: options.durationSeconds,
          ...(plan.rate === undefined ? {} : { overallRate: plan.rate }),
          ...(route.method === 'POST' ? { namePrefix: `${prefix} ${plan.rate ?? 'max'}` } : {}),
        });
        if (route.method === 'POST') {
          posted += 1;
          postedOk += result.ok;
        }
        results.push(result);
      }
    }
    const post = { ok: postedOk };
    const [created] = await admin<{ n: number }[]>`
      select count(*)::int as n from cron_job where name like ${`${prefix} %`}`;
    // Requests still in flight when autocannon stops are answered but not counted, so up to one
    // per connection may have made a job without being counted as a 201.
    if (
      post.ok === 0 ||
      created!.n < post.ok ||
      created!.n > post.ok + posted * options.connections
    ) {
      throw new Error(`POST made ${created!.n} jobs for ${post.ok} responses 201`);
    }
    // Park the created jobs: they are not part of any later measurement.
    await admin`update cron_job set is_active = false, next_run = null where name like ${`${prefix} %`}`;
    return results;
  } finally {
    await server.close();
    await sql.end();
  }
}

/** One autocannon run from a separate process. */
export function load(plan: {
  url: string;
  method: 'GET' | 'POST';
  connections: number;
  durationSeconds: number;
  overallRate?: number;
  namePrefix?: string;
}): Promise<LoadFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', LOAD_SCRIPT, JSON.stringify(plan)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`load generator exited with code ${code}`));
      try {
        resolve(JSON.parse(output) as LoadFigures);
      } catch {
        reject(new Error(`load generator printed no result: ${output.slice(0, 200)}`));
      }
    });
  });
}
