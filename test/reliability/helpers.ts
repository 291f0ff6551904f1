import { spawn, type ChildProcess } from 'node:child_process';
import { connect as tcpConnect, createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, beforeAll } from 'vitest';
import type { Sql } from '../../lib/db';
import type { Log } from '../../lib/logger';
import type { SweepOptions, SweepSummary } from '../../lib/engine/sweep';

/** Every scenario prints its figures through this, so they can be grepped from the test output. */
export function figures(line: string): void {
  console.log(`[reliability] ${line}`);
}

/**
 * Fires once a year (1 January, 00:00). Scenarios on the real clock use it so that a job that has
 * run cannot come due again for a new slot while the scenario is still counting.
 */
export const YEARLY = 'cron:0 0 1 1 *';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Rejects when `promise` has not settled within `ms`: a stall becomes a failure with a name. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, stalled]).finally(() => clearTimeout(timer));
}

/** Polls `check` until it returns a truthy value, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
  intervalMs = 25,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

// ---------------------------------------------------------------------------------------------
// Sweeps in child processes

const WORKER = fileURLToPath(new URL('./sweep-worker.ts', import.meta.url));

/** `at`: the sweep's clock stands at this instant (ISO 8601) instead of running. */
export type WorkerOptions = Omit<SweepOptions, 'now' | 'deadline'> & { pool?: number; at?: string };

export type WorkerReply =
  { ok: true; pid: number; summary: SweepSummary } | { ok: false; pid: number; error: string };

export interface SweepWorker {
  child: ChildProcess;
  /** Asks a `--serve` worker for one sweep and resolves with its reply. */
  sweep(overrides?: WorkerOptions): Promise<WorkerReply>;
  /** The first reply of a one-shot worker. */
  reply: Promise<WorkerReply>;
  /** Everything the worker wrote to stderr (the engine's warnings and errors). */
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Closes stdin (a serving worker then exits) and waits for the exit. */
  close(): Promise<void>;
}

/**
 * Starts `node --import tsx test/reliability/sweep-worker.ts <databaseUrl> <options>`: a real
 * separate process with its own connection pool, as a second Lambda or server would be.
 */
export function startSweepWorker(
  databaseUrl: string,
  options: WorkerOptions = {},
  mode: 'once' | 'serve' = 'serve',
): SweepWorker & { ready: Promise<void> } {
  const args = ['--import', 'tsx', WORKER, databaseUrl, JSON.stringify(options)];
  if (mode === 'serve') args.push('--serve');
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let errors = '';
  child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const waiting: Array<(reply: WorkerReply) => void> = [];
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    void exited.then(({ code, signal }) =>
      reject(new Error(`sweep worker exited (${code ?? signal}) before it was ready: ${errors}`)),
    );
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const message = JSON.parse(line) as WorkerReply | { ready: true };
    if ('ready' in message) onReady();
    else waiting.shift()?.(message);
  });
  const next = () =>
    new Promise<WorkerReply>((resolve, reject) => {
      waiting.push(resolve);
      void exited.then(({ code, signal }) =>
        reject(new Error(`sweep worker exited (${code ?? signal}): ${errors}`)),
      );
    });
  if (mode === 'once') onReady();
  const reply: Promise<WorkerReply> = mode === 'once' ? next() : Promise.race([]);
  // A worker killed on purpose never replies; whoever awaits `reply` still sees the rejection.
  reply.catch(() => {});
  return {
    child,
    ready,
    reply,
    exited,
    stderr: () => errors,
    sweep: (overrides = {}) => {
      const answer = next();
      child.stdin!.write(`${JSON.stringify(overrides)}\n`);
      return answer;
    },
    close: async () => {
      child.stdin!.end();
      await exited;
    },
  };
}

/**
 * `count` serving sweep workers (startSweepWorker) for the calling test file: started before its
 * tests (`started` reports how long that took), closed after them. The array fills once all are
 * ready.
 */
export function sweepWorkersForFile(
  databaseUrl: string,
  count: number,
  options: WorkerOptions,
  started: (ms: number) => void = () => {},
): SweepWorker[] {
  const workers: SweepWorker[] = [];
  beforeAll(async () => {
    const t0 = performance.now();
    const spawned = Array.from({ length: count }, () => startSweepWorker(databaseUrl, options));
    workers.push(...spawned);
    await Promise.all(spawned.map((worker) => worker.ready));
    started(performance.now() - t0);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.close()));
  });
  return workers;
}

// ---------------------------------------------------------------------------------------------
// Database figures

export interface RunFigures {
  /** Rows in cron_job_run. */
  runs: number;
  /** (job, slot) pairs with more than one schedule run: must be 0. */
  duplicates: number;
  running: number;
  lost: number;
  success: number;
  failed: number;
  skipped: number;
  /** Active jobs whose next_run is not in the future (of `now`). */
  due: number;
}

export async function runFigures(sql: Sql, now = new Date()): Promise<RunFigures> {
  const [row] = await sql<RunFigures[]>`
    select
      (select count(*)::int from cron_job_run) as runs,
      (select count(*)::int from (
        select from cron_job_run where trigger in ('schedule', 'retry')
        group by job_id, scheduled_for, attempt having count(*) > 1) d) as duplicates,
      (select count(*)::int from cron_job_run where status = 'running') as running,
      (select count(*)::int from cron_job_run where status = 'lost') as lost,
      (select count(*)::int from cron_job_run where status = 'success') as success,
      (select count(*)::int from cron_job_run where status in ('error', 'timeout')) as failed,
      (select count(*)::int from cron_job_run where status = 'skipped') as skipped,
      (select count(*)::int from cron_job where is_active and next_run <= ${now}) as due`;
  return row!;
}

/**
 * Collects exceptions and promise rejections nothing handled (a timer callback throwing, a
 * `void promise` rejecting). In production each one ends the process: Node exits on both, and so
 * does the Lambda runtime, taking the invocation and every run in it along.
 */
export function watchUncaught(): { errors: Error[]; stop(): void } {
  const errors: Error[] = [];
  const onException = (error: Error) => errors.push(error);
  const onRejection = (reason: unknown) =>
    errors.push(reason instanceof Error ? reason : new Error(String(reason)));
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return {
    errors,
    stop: () => {
      process.off('uncaughtException', onException);
      process.off('unhandledRejection', onRejection);
    },
  };
}

/** A copy of every log call, for asserting what the engine reported. */
export function capturingLog(): Log & {
  entries: Array<{ level: string; message: string; extra?: Record<string, unknown> }>;
} {
  const entries: Array<{ level: string; message: string; extra?: Record<string, unknown> }> = [];
  const at =
    (level: string) =>
    (message: string, extra?: Record<string, unknown>): void => {
      entries.push({ level, message, ...(extra ? { extra } : {}) });
    };
  return {
    entries,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
}

/**
 * A connection for the test's own queries that outage injection leaves alone: it does not carry
 * the engine's application_name.
 */
export function testClient(url: string, max = 2): Sql {
  return postgres(url, {
    max,
    onnotice: () => {},
    connection: { application_name: 'crm-cron-reliability' },
  });
}

/** Ends the connections of this database's engine pools (application_name crm-cron), as an outage would. */
export async function terminateEngineConnections(admin: Sql, database: string): Promise<number> {
  const rows = await admin<{ terminated: boolean }[]>`
    select pg_terminate_backend(pid) as terminated from pg_stat_activity
    where application_name = 'crm-cron' and datname = ${database} and pid <> pg_backend_pid()`;
  return rows.filter((row) => row.terminated).length;
}

export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1));
}

// ---------------------------------------------------------------------------------------------
// A stable address in front of a server that changes port

export interface TcpProxy {
  port: number;
  /** Stops accepting and cuts every open connection: what clients see of a stopped server. */
  down(): Promise<void>;
  /** Accepts again on the same port, forwarding to `targetPort`. */
  up(targetPort: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Forwards 127.0.0.1:<port> to 127.0.0.1:<targetPort>. The embedded PostgreSQL picks a new port
 * each time it starts; behind this proxy the engine keeps one connection string across a restart,
 * as it would with a real server, RDS or RDS Proxy.
 */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let target = targetPort;
  let server: Server | undefined;
  const open = new Set<Socket>();
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const listening = createServer((client) => {
        const upstream = tcpConnect(target, '127.0.0.1');
        for (const socket of [client, upstream]) {
          open.add(socket);
          socket.on('close', () => open.delete(socket));
          socket.on('error', () => {
            client.destroy();
            upstream.destroy();
          });
        }
        client.pipe(upstream).pipe(client);
      });
      listening.once('error', reject);
      listening.listen(port, '127.0.0.1', () => {
        server = listening;
        resolve((listening.address() as { port: number }).port);
      });
    });
  const down = async () => {
    const closing = server;
    server = undefined;
    for (const socket of open) socket.destroy();
    if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
  };
  const port = await listen(0);
  return {
    port,
    down,
    up: async (targetPortNow) => {
      target = targetPortNow;
      await listen(port);
    },
    close: down,
  };
}
