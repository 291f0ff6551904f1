import os from 'node:os';
import type { Sql } from '../lib/db';
import { silentLog } from '../lib/logger';
import { sweep, type SweepDeps } from '../lib/engine/sweep';
import { benchRegistry, noopStarts } from './executors';
import { cpuByProcess, cpuDelta } from './machine';
import { median } from './report';
import { resetStatements, statementBreakdown } from './stats';
import { BENCH_SCHEDULE } from './database';

export interface DrainResult {
  /** What was special about the due jobs (distinct schedules, a retry policy), if anything. */
  label: string;
  tableSize: number;
  due: number;
  concurrency: number;
  /** Median over the repetitions. */
  wallMs: number;
  jobsPerSecond: number;
  allWallMs: number[];
  /** Median time from calling sweep() to the first job's start, milliseconds. */
  firstJobMs: number;
  /** The 1-minute load average when the last repetition ended (other processes included). */
  loadAverage: number;
  /** Database time by statement, per sweep (last repetition), when pg_stat_statements is on. */
  dbBreakdown?: { label: string; calls: number; ms: number }[];
  /** CPU time of this Node process during the sweep (last repetition). */
  nodeCpuMs: number;
  /**
   * CPU time of the PostgreSQL server processes during the sweep (last repetition), when the
   * server runs on this machine; unlike wall time it hardly depends on what else runs.
   */
  postgresCpuMs?: number;
  /** WAL the server wrote during the sweep (last repetition): bytes, records, full-page images. */
  wal: WalCounters;
}

export interface WalCounters {
  bytes: number;
  records: number;
  fpi: number;
}

/** The server's WAL counters so far (pg_stat_wal, cluster-wide). */
export async function walCounters(sql: Sql): Promise<WalCounters> {
  const [row] = await sql<WalCounters[]>`
    select wal_bytes::float8 as bytes, wal_records::float8 as records, wal_fpi::float8 as fpi
    from pg_stat_wal`;
  return row!;
}

/**
 * Picks `count` random jobs as the due set (kept in bench_due, replacing any previous pick).
 * Only these jobs are ever made due by drain().
 */
export async function pickDueJobs(sql: Sql, count: number): Promise<void> {
  await sql`create table if not exists bench_due (id uuid primary key, executions bigint)`;
  await sql`truncate bench_due`;
  await sql`insert into bench_due select id from cron_job order by random() limit ${count}`;
  await sql`analyze bench_due`;
}

/**
 * Gives the picked jobs `count` distinct (schedule, time zone) pairs, or all the benchmark's one
 * schedule in UTC again (count 0). The schedules fire once a year (minute m, hour h on 1 January,
 * in one of ten zones), so no job comes due again while the benchmark runs.
 */
export async function setDistinctSchedules(sql: Sql, count: number): Promise<void> {
  if (count === 0) {
    await sql`
      update cron_job j set schedule = ${BENCH_SCHEDULE}, timezone = 'UTC'
      from bench_due d where j.id = d.id`;
    return;
  }
  if (count > 1440 * BENCH_ZONES.length) throw new Error(`at most ${1440 * 10} distinct pairs`);
  await sql`
    update cron_job j
    set schedule = 'cron:' || (p.n / ${BENCH_ZONES.length}) % 60 || ' '
        || (p.n / ${BENCH_ZONES.length} / 60) % 24 || ' 1 1 *',
      timezone = (${BENCH_ZONES}::text[])[1 + p.n % ${BENCH_ZONES.length}]
    from (select id, (row_number() over (order by id) - 1) % ${count} as n from bench_due) p
    where j.id = p.id`;
}

const BENCH_ZONES = [
  'UTC',
  'Europe/Berlin',
  'America/New_York',
  'Asia/Tokyo',
  'Australia/Sydney',
  'America/Los_Angeles',
  'Europe/London',
  'Asia/Kolkata',
  'America/Sao_Paulo',
  'Africa/Cairo',
];

/** Gives the picked jobs a retry policy (up to `maxAttempts` attempts), or the default (1). */
export async function setRetryPolicy(sql: Sql, maxAttempts: number): Promise<void> {
  await sql`
    update cron_job j
    set retry = jsonb_build_object('max_attempts', ${maxAttempts}::int, 'backoff', 'exponential',
      'initial_delay_seconds', 30, 'max_delay_seconds', 3600)
    from bench_due d where j.id = d.id`;
}

/**
 * Makes the picked jobs due at a slot never used before (a reused slot would collide with the
 * run of the earlier repetition under unique (job_id, scheduled_for), and silently not run), runs
 * one sweep, checks that every picked job got exactly one `success` run for that slot and nothing
 * else ran, then parks the jobs again a day ahead. Repeats and reports the median.
 */
export async function drain(
  admin: Sql,
  options: {
    concurrency: number;
    repetitions: number;
    statStatements: boolean;
    connect: () => Sql;
    label?: string;
  },
): Promise<DrainResult> {
  const [sizes] = await admin<{ table: number; due: number }[]>`
    select (select count(*)::int from cron_job) as table, (select count(*)::int from bench_due) as due`;
  const { table: tableSize, due } = sizes!;
  const sql = options.connect();
  const deps: SweepDeps = { sql, registry: benchRegistry, log: silentLog };
  const walls: number[] = [];
  const firstJobs: number[] = [];
  let dbBreakdown: DrainResult['dbBreakdown'];
  let nodeCpuMs = 0;
  let postgresCpuMs: number | undefined;
  let wal: WalCounters = { bytes: 0, records: 0, fpi: 0 };
  try {
    // Open the pool's connections outside the measured time, as a warm Lambda has them open.
    await Promise.all(Array.from({ length: 2 }, () => sql`select 1`));
    for (let rep = 0; rep < options.repetitions; rep += 1) {
      const slot = new Date(Date.now() - 60_000 - rep);
      await admin`update cron_job j set next_run = ${slot} from bench_due d where j.id = d.id`;
      // Due jobs only among the picked ones, so the check below is exact.
      const [stray] = await admin<{ n: number }[]>`
        select count(*)::int as n from cron_job j
        where j.is_active and j.next_run <= now() and j.id not in (select id from bench_due)`;
      if (stray!.n > 0) throw new Error(`${stray!.n} jobs outside the picked set are due`);
      // Each job's execution_count before, to check that the sweep added exactly one.
      await admin`
        update bench_due d set executions = (j.metadata->>'execution_count')::bigint
        from cron_job j where j.id = d.id`;
      // What autovacuum would have done between two sweeps minutes apart.
      await admin`vacuum cron_job`;
      await admin`vacuum cron_job_run`;
      if (options.statStatements) await resetStatements(admin);

      const walBefore = await walCounters(admin);
      const pids = await serverPids(admin);
      const pgBefore = await cpuByProcess(pids);
      const cpu = process.cpuUsage();
      noopStarts.first = undefined;
      const started = performance.now();
      const summary = await sweep(deps, { concurrency: options.concurrency });
      const wall = performance.now() - started;
      firstJobs.push((noopStarts.first ?? Number.NaN) - started);
      const used = process.cpuUsage(cpu);
      const pgAfter = await cpuByProcess([...new Set([...pids, ...(await serverPids(admin))])]);
      postgresCpuMs = pgBefore.size > 0 ? cpuDelta(pgBefore, pgAfter) : undefined;
      const walAfter = await walCounters(admin);
      wal = {
        bytes: walAfter.bytes - walBefore.bytes,
        records: walAfter.records - walBefore.records,
        fpi: walAfter.fpi - walBefore.fpi,
      };
      nodeCpuMs = (used.user + used.system) / 1000;
      walls.push(wall);

      if (options.statStatements) {
        dbBreakdown = await statementBreakdown(admin);
      }

      const [check] = await admin<
        {
          success: number;
          runs: number;
          jobs: number;
          elsewhere: number;
          still_due: number;
          counted: number;
        }[]
      >`
        select
          (select count(*)::int from cron_job_run r join bench_due d on d.id = r.job_id
            where r.scheduled_for = ${slot} and r.status = 'success') as success,
          (select count(*)::int from cron_job_run r join bench_due d on d.id = r.job_id
            where r.scheduled_for = ${slot}) as runs,
          (select count(distinct r.job_id)::int from cron_job_run r join bench_due d on d.id = r.job_id
            where r.scheduled_for = ${slot}) as jobs,
          (select count(*)::int from cron_job_run r
            where r.scheduled_for = ${slot} and r.job_id not in (select id from bench_due)) as elsewhere,
          (select count(*)::int from cron_job j join bench_due d on d.id = j.id
            where j.next_run <= now()) as still_due,
          (select count(*)::int from cron_job j join bench_due d on d.id = j.id
            where (j.metadata->>'execution_count')::bigint = d.executions + 1) as counted`;
      const ok =
        check!.success === due &&
        check!.runs === due &&
        check!.jobs === due &&
        check!.elsewhere === 0 &&
        check!.still_due === 0 &&
        check!.counted === due &&
        summary.succeeded === due &&
        summary.executed === due;
      if (!ok) {
        throw new Error(
          `sweep did not run every due job exactly once: expected ${due}, ` +
            `summary ${JSON.stringify({ executed: summary.executed, succeeded: summary.succeeded })}, ` +
            `database ${JSON.stringify(check)}`,
        );
      }
      // Park the jobs so that nothing becomes due while the rest of the benchmark runs.
      await admin`
        update cron_job j set next_run = now() + interval '1 day' from bench_due d where j.id = d.id`;
    }
  } finally {
    await sql.end();
  }
  const wallMs = median(walls);
  return {
    label: options.label ?? '',
    tableSize,
    due,
    concurrency: options.concurrency,
    wallMs,
    jobsPerSecond: (due / wallMs) * 1000,
    allWallMs: walls,
    firstJobMs: median(firstJobs),
    loadAverage: os.loadavg()[0]!,
    ...(dbBreakdown ? { dbBreakdown } : {}),
    nodeCpuMs,
    ...(postgresCpuMs === undefined ? {} : { postgresCpuMs }),
    wal,
  };
}

/**
 * The server's processes but the one serving `admin`: backends, WAL writer, checkpointer,
 * autovacuum. Their /proc entries are readable only when the server runs on this machine.
 */
export async function serverPids(admin: Sql): Promise<number[]> {
  const rows = await admin<{ pid: number }[]>`
    select pid from pg_stat_activity where pid <> pg_backend_pid()`;
  return rows.map((row) => row.pid);
}
