/**
 * Where a sweep's time goes: `npx tsx bench/profile-sweep.ts [jobs] [due] [sections]` (defaults
 * 100000, 10000, ABCD). Not part of `npm run bench`; slower and more verbose. Prints
 * A. a sequential copy of the sweep loop with a timer per phase (claim / execute / record),
 * B. the plans of one batch's statements (auto_explain: ANALYZE, BUFFERS, WAL, triggers),
 * C. the sweeping process's CPU profile by function,
 * D. sweep throughput under schema / setting variants of the throw-away database, to size the
 *    gains of possible lib/ changes.
 */
import { Session } from 'node:inspector/promises';
import { claimDueJobs } from '../lib/engine/claim';
import { connect, type Sql } from '../lib/db';
import { executeJob, type RunOutcome } from '../lib/engine/execute';
import { silentLog } from '../lib/logger';
import { migrate } from '../lib/migrate';
import { defaultRecorderOptions, RunRecorder } from '../lib/engine/run-recorder';
import { sweep } from '../lib/engine/sweep';
import { insertIdleJobs, startBenchDatabase } from './database';
import { benchRegistry } from './executors';
import { fmt } from './report';
import { printProfile } from './profile-report';
import { drain, pickDueJobs, walCounters } from './sweep';

const jobs = Number(process.argv[2] ?? 100_000);
const due = Number(process.argv[3] ?? 10_000);
const sections = process.argv[4] ?? 'ABCD';
let capture = false;
const logLines: string[] = [];
const db = await startBenchDatabase({
  onLog: (line) => {
    if (capture) logLines.push(line);
  },
});
const admin = connect(db.url, { max: 1 });

const makeDue = async (): Promise<Date> => {
  const slot = new Date(Date.now() - 60_000);
  await admin`update cron_job j set next_run = ${slot} from bench_due d where j.id = d.id`;
  await admin`vacuum analyze cron_job`;
  await admin`vacuum analyze cron_job_run`;
  return slot;
};
const park = () =>
  admin`update cron_job j set next_run = now() + interval '1 day' from bench_due d where j.id = d.id`;
const successes = async (slot: Date) => {
  const [row] = await admin<{ n: number }[]>`
    select count(*)::int as n from cron_job_run where scheduled_for = ${slot} and status = 'success'`;
  return row!.n;
};

try {
  console.log(`${fmt.int(jobs)} jobs, ${fmt.int(due)} due`);
  await insertIdleJobs(admin, jobs);
  await pickDueJobs(admin, due);
  await drain(admin, {
    concurrency: 4,
    repetitions: 1,
    statStatements: false,
    connect: () => connect(db.url, { max: 2 }),
  });

  // A. Phases, one after another: claim a batch, execute it, record it.
  if (sections.includes('A')) {
    const slot = await makeDue();
    const sql = connect(db.url, { max: 2 });
    await Promise.all([sql`select 1`, sql`select 1`]);
    const deps = { sql, registry: benchRegistry, log: silentLog };
    const recorder = new RunRecorder(sql, silentLog, defaultRecorderOptions);
    const phases = { claim: [0, 0], execute: [0, 0], record: [0, 0] };
    const time = async <T>(phase: keyof typeof phases, work: () => Promise<T>): Promise<T> => {
      const cpu = process.cpuUsage();
      const started = performance.now();
      const result = await work();
      phases[phase][0]! += performance.now() - started;
      const used = process.cpuUsage(cpu);
      phases[phase][1]! += (used.user + used.system) / 1000;
      return result;
    };
    const walBefore = await walCounters(admin);
    const started = performance.now();
    for (;;) {
      const batch = await time('claim', () =>
        claimDueJobs(sql, {
          now: new Date(),
          limit: 1000,
          maxTimeoutSeconds: 2_147_483_647,
          leaseSeconds: 60,
        }),
      );
      if (batch.claimed === 0) break;
      recorder.track(batch.runnable.map((run) => run.run_id));
      const outcomes = await time('execute', async () => {
        const done: [string, RunOutcome][] = [];
        for (const run of batch.runnable) done.push([run.run_id, await executeJob(run, deps)]);
        return done;
      });
      await time('record', async () => {
        for (const [runId, outcome] of outcomes) recorder.record(runId, outcome);
        await recorder.flush();
      });
    }
    await recorder.close();
    const wall = performance.now() - started;
    await sql.end();
    console.log(
      `\nA. Sequential sweep loop: ${fmt.ms(wall, 0)} for ${fmt.int(await successes(slot))} successful runs`,
    );
    const walAfter = await walCounters(admin);
    console.log(
      `  WAL ${((walAfter.bytes - walBefore.bytes) / 2 ** 20).toFixed(1)} MiB, ` +
        `${fmt.int(walAfter.records - walBefore.records)} records, ${fmt.int(walAfter.fpi - walBefore.fpi)} full-page images`,
    );
    for (const [phase, [ms, cpu]] of Object.entries(phases)) {
      console.log(
        `  ${phase.padEnd(8)} wall ${fmt.ms(ms!, 0).padStart(9)}   Node CPU ${fmt.ms(cpu!, 0).padStart(9)}`,
      );
    }
    await park();
  }

  // B. Plans of one 1,000-job batch, through auto_explain on a single connection.
  if (sections.includes('B')) {
    await pickDueJobs(admin, 1_000);
    await makeDue();
    const sql = connect(db.url, { max: 1 });
    await sql`load 'auto_explain'`;
    await sql`set auto_explain.log_min_duration = 0`;
    await sql`set auto_explain.log_analyze = on`;
    await sql`set auto_explain.log_buffers = on`;
    await sql`set auto_explain.log_wal = on`;
    await sql`set auto_explain.log_triggers = on`;
    capture = true;
    await sweep({ sql, registry: benchRegistry, log: silentLog }, { concurrency: 4 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    capture = false;
    await sql.end();
    await park();
    const text = logLines.join('');
    const entries = text.split(/\n(?=\S.*LOG:\s+duration:)/);
    console.log('\nB. Plans of a 1,000-job sweep (auto_explain):');
    for (const entry of entries) {
      const duration = /duration: ([\d.]+) ms/.exec(entry)?.[1];
      if (!duration || Number(duration) < 1) continue;
      console.log(
        entry
          .split('\n')
          .filter((line) => !/^\s*Output:|Query Text|Query Parameters|^\s*$/.test(line))
          .slice(0, 60)
          .join('\n'),
      );
    }
    await pickDueJobs(admin, due);
  }

  // C. CPU profile of the sweeping process during a full sweep.
  if (sections.includes('C')) {
    const slot = await makeDue();
    const sql = connect(db.url, { max: 2 });
    await Promise.all([sql`select 1`, sql`select 1`]);
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
    const started = performance.now();
    await sweep({ sql, registry: benchRegistry, log: silentLog }, { concurrency: 4 });
    const wall = performance.now() - started;
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    await sql.end();
    console.log(
      `\nC. CPU profile of sweep() (${fmt.ms(wall, 0)}, ${fmt.int(await successes(slot))} runs), self time:`,
    );
    printProfile(profile);
    await park();
  }

  // D. Variants, each on a fresh database of its own with the same jobs.
  if (sections.includes('D')) {
    console.log(
      `\nD. Sweep of ${fmt.int(due)} due jobs, concurrency 4, under variants (median of 3):`,
    );
    const variants: [string, (sql: Sql, database: string) => Promise<unknown>][] = [
      ['as is', async () => {}],
      [
        'synchronous_commit off',
        (sql, database) => sql.unsafe(`alter database ${database} set synchronous_commit = off`),
      ],
      [
        'no foreign key cron_job_run.job_id',
        (sql) => sql`alter table cron_job_run drop constraint cron_job_run_job_id_fkey`,
      ],
      ['cron_job fillfactor 80', (sql) => sql`alter table cron_job set (fillfactor = 80)`],
      [
        'all three',
        async (sql, database) => {
          await sql.unsafe(`alter database ${database} set synchronous_commit = off`);
          await sql`alter table cron_job_run drop constraint cron_job_run_job_id_fkey`;
          await sql`alter table cron_job set (fillfactor = 80)`;
        },
      ],
    ];
    for (const [i, [label, apply]] of variants.entries()) {
      const database = `variant_${i}`;
      await admin.unsafe(`create database ${database}`);
      const url = withDatabase(db.url, database);
      const sql = connect(url, { max: 1 });
      try {
        await migrate(sql);
        await sql`create extension if not exists pg_stat_statements`;
        await apply(sql, database);
        await insertIdleJobs(sql, jobs);
        await pickDueJobs(sql, due);
        const options = {
          concurrency: 4,
          statStatements: db.statStatements,
          connect: () => connect(url, { max: 2 }),
        };
        await drain(sql, { ...options, repetitions: 1 });
        const result = await drain(sql, { ...options, repetitions: 3 });
        const byLabel = (result.dbBreakdown ?? [])
          .sort((a, b) => b.ms - a.ms)
          .slice(0, 3)
          .map((entry) => `${entry.label} ${fmt.ms(entry.ms, 0)}`)
          .join(', ');
        console.log(
          `  ${label.padEnd(36)} ${fmt.int(result.jobsPerSecond).padStart(7)} jobs/s ${fmt.ms(result.wallMs, 0).padStart(8)}` +
            `  WAL ${(result.wal.bytes / result.due / 1024).toFixed(1)} KiB/job, ${fmt.int(result.wal.fpi)} FPI  db: ${byLabel}`,
        );
      } finally {
        await sql.end();
        await admin.unsafe(`drop database ${database} with (force)`);
      }
    }
  }
} finally {
  await admin.end();
  await db.stop();
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
