/**
 * `npm run bench:api`: the API under load, alone and while a sweep drains 10,000 due jobs.
 *
 * 1. GET /api/cron/jobs?limit=50 and POST /api/cron/jobs (unique names), 50 connections each,
 *    BENCH_API_SECONDS (default 30) each, one after the other.
 * 2. 10,000 due no-op jobs; GET and POST loads at once (25 connections each, 50 in all) for
 *    BENCH_API_SECONDS, and during it one sweep() on a pool of its own. Checks: no failed request,
 *    every due job exactly one `success` run, no (job_id, scheduled_for) duplicate.
 *
 * Embedded PostgreSQL, or a new database on DATABASE_URL's server. Exits 1 when a check fails.
 */
import { describeMachine } from './machine';
import type { AppContext } from '../lib/app-context';
import { connect } from '../lib/db';
import { startLocalServer } from '../lib/local/server';
import { silentLog } from '../lib/logger';
import { sweep, type SweepSummary } from '../lib/engine/sweep';
import { load } from './api';
import { insertIdleJobs, startBenchDatabase } from './database';
import { benchRegistry } from './executors';
import { backgroundCpuPercent, waitForQuiet } from './machine';
import { fmt, textTable } from './report';

const CONNECTIONS = 50;
const DUE = 10_000;
const SWEEP_CONCURRENCY = 4;
const SECONDS = Number(process.env.BENCH_API_SECONDS ?? 30);
const SWEEP_DELAY_MS = 3_000;

type Figures = Awaited<ReturnType<typeof load>>;

const started = performance.now();
const progress = (message: string) =>
  console.error(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}`);

async function main(): Promise<number> {
  if (!Number.isFinite(SECONDS) || SECONDS <= 0) throw new Error('BENCH_API_SECONDS must be > 0');
  progress('starting PostgreSQL');
  const db = await startBenchDatabase();
  const admin = connect(db.url, { max: 1 });
  const sql = connect(db.url, { max: 10 }); // the server's pool, as `npm start`
  const app: AppContext = {
    sql,
    registry: benchRegistry,
    log: silentLog,
    settings: { sweepIntervalSeconds: 300, sweepConcurrency: SWEEP_CONCURRENCY },
  };
  const server = await startLocalServer({ app, log: silentLog, host: '127.0.0.1', port: 0 });
  const getUrl = `${server.url}/api/cron/jobs?limit=50`;
  const postUrl = `${server.url}/api/cron/jobs`;
  const rows: string[][] = [];
  const failures: string[] = [];
  const row = (label: string, f: Figures) => {
    const failed = f.errors + f.timeouts + f.non2xx;
    rows.push([
      label,
      fmt.int(f.requestsPerSecond),
      fmt.ms(f.p50, 0),
      fmt.ms(f.p99, 0),
      `${f.errors} / ${f.timeouts} / ${f.non2xx}`,
      fmt.int(f.total),
    ]);
    if (failed > 0) failures.push(`${label}: ${failed} errors + timeouts + non-2xx`);
  };
  try {
    const machine = await describeMachine(admin, db.origin);
    progress('waiting up to 10 s for other processes to quieten');
    const quiet = await waitForQuiet(10_000, 25);
    machine['Background CPU at start'] = quiet === undefined ? 'unknown' : `${quiet.toFixed(0)} %`;

    // 1. Each route alone.
    await load({ url: getUrl, method: 'GET', connections: 10, durationSeconds: 2 }); // warm-up
    progress(`GET, ${CONNECTIONS} connections, ${SECONDS} s`);
    row(
      'alone: GET /api/cron/jobs?limit=50',
      await load({
        url: getUrl,
        method: 'GET',
        connections: CONNECTIONS,
        durationSeconds: SECONDS,
      }),
    );
    progress(`POST, ${CONNECTIONS} connections, ${SECONDS} s`);
    row(
      'alone: POST /api/cron/jobs',
      await load({
        url: postUrl,
        method: 'POST',
        connections: CONNECTIONS,
        durationSeconds: SECONDS,
        namePrefix: `api alone ${Date.now()}`,
      }),
    );
    // Park the created jobs (every_5_minutes): none may become due during the sweep below.
    await admin`update cron_job set is_active = false, next_run = null where name like 'api alone %'`;

    // 2. 10,000 due jobs, swept while GET and POST load the server.
    progress(`inserting ${fmt.int(DUE)} no-op jobs, making them due`);
    await insertIdleJobs(admin, DUE);
    await admin`create table bench_due (id uuid primary key)`;
    await admin`insert into bench_due select id from cron_job where name like 'bench job %'`;
    const slot = new Date(Date.now() - 60_000);
    await admin`update cron_job j set next_run = ${slot} from bench_due d where j.id = d.id`;
    await admin`vacuum analyze cron_job`;
    await admin`vacuum analyze cron_job_run`;
    const sweepSql = connect(db.url, { max: 2 }); // as the Lambda's pool
    await Promise.all([sweepSql`select 1`, sweepSql`select 1`]);
    const half = CONNECTIONS / 2;
    progress(
      `GET + POST, ${half} + ${half} connections, ${SECONDS} s; sweep after ${SWEEP_DELAY_MS / 1000} s`,
    );
    let summary: SweepSummary | undefined;
    let sweepMs = 0;
    const runSweep = async () => {
      await new Promise((resolve) => setTimeout(resolve, SWEEP_DELAY_MS));
      const t0 = performance.now();
      summary = await sweep(
        { sql: sweepSql, registry: benchRegistry, log: silentLog },
        { concurrency: SWEEP_CONCURRENCY },
      );
      sweepMs = performance.now() - t0;
    };
    const [get, post] = await Promise.all([
      load({ url: getUrl, method: 'GET', connections: half, durationSeconds: SECONDS }),
      load({
        url: postUrl,
        method: 'POST',
        connections: half,
        durationSeconds: SECONDS,
        namePrefix: `api sweep ${Date.now()}`,
      }),
      runSweep().finally(() => sweepSql.end()),
    ]);
    row(`during sweep: GET (${half} conn.)`, get);
    row(`during sweep: POST (${half} conn.)`, post);

    const [check] = await admin<
      { success: number; runs: number; jobs: number; still_due: number; dupes: number }[]
    >`
      select
        (select count(*)::int from cron_job_run r join bench_due d on d.id = r.job_id
          where r.scheduled_for = ${slot} and r.status = 'success') as success,
        (select count(*)::int from cron_job_run r join bench_due d on d.id = r.job_id) as runs,
        (select count(distinct r.job_id)::int from cron_job_run r join bench_due d on d.id = r.job_id) as jobs,
        (select count(*)::int from cron_job j join bench_due d on d.id = j.id
          where j.next_run <= now()) as still_due,
        (select count(*)::int from (select job_id, scheduled_for, count(*) from cron_job_run
          group by 1, 2 having count(*) > 1) x) as dupes`;
    const c = check!;
    if (c.success !== DUE || c.runs !== DUE || c.jobs !== DUE) {
      failures.push(
        `due jobs: ${c.success} success runs, ${c.runs} runs over ${c.jobs} jobs (expected ${DUE} each)`,
      );
    }
    if (c.still_due > 0) failures.push(`${c.still_due} due jobs still due after the sweep`);
    if (c.dupes > 0) failures.push(`${c.dupes} (job_id, scheduled_for) duplicates`);
    if (!summary) failures.push('sweep did not finish');
    machine['Background CPU at end'] = await backgroundCpuPercent().then((busy) =>
      busy === undefined ? 'unknown' : `${busy.toFixed(0)} %`,
    );

    console.log(`\nMachine\n${textTable(['', ''], Object.entries(machine))}`);
    console.log(
      `\nAPI (autocannon in separate processes, ${SECONDS} s per load; server pool 10)\n` +
        textTable(['Load', 'req/s', 'p50', 'p99', 'err / timeout / non-2xx', 'requests'], rows),
    );
    console.log(
      `\nSweep during the load (pool 2, concurrency ${SWEEP_CONCURRENCY}, started ${SWEEP_DELAY_MS / 1000} s in)\n` +
        textTable(
          ['Measure', 'Value'],
          [
            ['due jobs', fmt.int(DUE)],
            ['sweep wall time', fmt.ms(sweepMs, 0)],
            ['throughput', `${fmt.int((DUE / sweepMs) * 1000)} jobs/s`],
            [
              'summary executed / succeeded',
              summary ? `${fmt.int(summary.executed)} / ${fmt.int(summary.succeeded)}` : 'n/a',
            ],
            ['due jobs with exactly one success run', `${fmt.int(c.success)} of ${fmt.int(DUE)}`],
            ['(job_id, scheduled_for) duplicates', fmt.int(c.dupes)],
          ],
        ),
    );
    for (const failure of failures) console.log(`FAIL: ${failure}`);
    console.log(
      `\n${failures.length === 0 ? 'all checks PASS' : `${failures.length} checks FAIL`}; ` +
        `benchmark took ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
    return failures.length === 0 ? 0 : 1;
  } finally {
    await server.close();
    await sql.end();
    await admin.end();
    await db.stop();
  }
}

process.exitCode = await main().catch((error: unknown) => {
  console.error(error);
  return 1;
});
