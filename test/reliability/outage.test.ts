import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, inject, it } from 'vitest';
import * as z from 'zod';
import { connect, type Sql } from '../../lib/db';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../lib/local/embedded-postgres';
import { migrate } from '../../lib/migrate';
import { sweep } from '../../lib/engine/sweep';
import { createTestDatabase } from '../helpers/database';
import { postgresBinaries } from '../helpers/postgres-versions';
import { insertJobs, testExecutors, testRegistry } from '../helpers/jobs';
import { createRegistry } from '../../lib/executors/registry';
import { defineExecutor } from '../../lib/executors/types';
import {
  capturingLog,
  databaseName,
  figures,
  runFigures,
  seconds,
  sleep,
  startTcpProxy,
  terminateEngineConnections,
  testClient,
  waitFor,
  watchUncaught,
  within,
  YEARLY,
} from './helpers';

// Scenario 3: the database goes away under the engine. (a) Its connections are terminated in the
// middle of a sweep (a failover, an RDS Proxy recycling, an admin). (b) The server is stopped
// and started again between sweeps.
const LEASE_SECONDS = 2;
// A sweep that has not settled after this long is stuck, not slow.
const STALL_MS = 15_000;

const { url } = await createTestDatabase();
const database = databaseName(url);
// The test's own connection: outage injection only ends the engine's (application_name crm-cron).
const admin = testClient(url, 3);
const engine = connect(url, { max: 4 });
afterAll(async () => {
  await engine.end({ timeout: 5 });
  await admin.end({ timeout: 5 });
});

const uncaught = watchUncaught();
afterAll(() => uncaught.stop());
beforeEach(() => {
  uncaught.errors.length = 0;
});

/** What an uncaught exception means here: the process, and every run in it, would be gone. */
function expectNoCrash(): void {
  expect(
    uncaught.errors.map((error) => `${error.message} ${error.stack?.split('\n')[1]?.trim()}`),
    'exceptions nothing could catch: each one would have killed the Lambda or the local server',
  ).toEqual([]);
}

/**
 * Runs of the executor `held` (config `group`) start and wait until the test releases their
 * group: `first` then fails, `second` succeeds. The test sees how many have started.
 */
function heldRuns() {
  let started = 0;
  const gate = () => {
    let resolve!: () => void;
    let reject!: (reason: unknown) => void;
    const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    return { promise, resolve, reject };
  };
  const releases = { first: gate(), second: gate() };
  const held = defineExecutor({
    name: 'held',
    description: 'runs until the test releases its group',
    configSchema: z.object({ group: z.enum(['first', 'second']) }),
    run: async ({ config, signal }) => {
      started += 1;
      signal.addEventListener('abort', () => releases[config.group].reject(signal.reason));
      await releases[config.group].promise;
      if (config.group === 'first') throw new Error('failed on release');
      return { released: config.group };
    },
  });
  return {
    registry: createRegistry([...testExecutors, held]),
    started: () => started,
    release: (group: 'first' | 'second') => releases[group].resolve(),
  };
}

/**
 * Terminates the engine's connections and waits until their backends are gone, so the engine's
 * next statements go over new connections. (New ones may open meanwhile: a lease heartbeat.)
 */
async function cutEngineConnections(): Promise<void> {
  const cut = await admin<{ pid: number }[]>`
    with engine as materialized (
      select pid from pg_stat_activity
      where application_name = 'crm-cron' and datname = ${database} and pid <> pg_backend_pid())
    select pid from engine where pg_terminate_backend(pid)`;
  const pids = cut.map((row) => row.pid);
  await waitFor('the terminated engine connections to be gone', async () => {
    const [row] = await admin<{ n: number }[]>`
      select count(*)::int as n from pg_stat_activity where pid = any(${pids}::int[])`;
    return row!.n === 0;
  });
}

function afterLease(): Promise<void> {
  return sleep(LEASE_SECONDS * 1000 + 300);
}

describe('database outage: connections terminated mid-sweep', () => {
  beforeEach(async () => {
    await admin`truncate cron_job cascade`;
  });

  /** Holds the job table until an engine statement waits for it, then ends the engine's connections. */
  async function terminateWhileWaiting(): Promise<number> {
    let terminated = 0;
    await admin.begin(async (tx) => {
      await tx`lock table cron_job in exclusive mode`;
      await waitFor('an engine statement to wait for the lock', async () => {
        const [row] = await tx<{ n: number }[]>`
          select count(*)::int as n from pg_stat_activity
          where application_name = 'crm-cron' and datname = ${database}
            and wait_event_type = 'Lock'`;
        return row!.n > 0;
      });
      terminated = await terminateEngineConnections(tx as unknown as Sql, database);
    });
    return terminated;
  }

  async function exactlyOneRunPerJob(): Promise<number> {
    const [row] = await admin<{ wrong: number }[]>`
      select count(*)::int as wrong from (
        select j.id from cron_job j left join cron_job_run r on r.job_id = j.id
        group by j.id having count(r.id) <> 1) x`;
    return row!.wrong;
  }

  it('connections terminated while the sweep claims: it fails with a clear, logged error; nothing stays claimed; the next sweep runs each still-due job once', async () => {
    const JOBS = 200;
    await insertJobs(admin, JOBS, {
      name: 'claim',
      schedule: YEARLY,
      function_name: 'sleep',
      metadata: { ms: 100 },
      timeout_seconds: 5,
    });
    const log = capturingLog();
    // Outcomes are written only at the end, so the statement left to wait is the next claim.
    const running = sweep(
      { sql: engine, registry: testRegistry, log },
      {
        concurrency: 10,
        claimBatchSize: 40,
        leaseSeconds: LEASE_SECONDS,
        flushDelayMs: 60_000,
        flushSize: 10_000,
      },
    ).then(
      (summary) => ({ summary, error: undefined }),
      (error: unknown) => ({ summary: undefined, error: error as Error }),
    );
    await waitFor('the first batch to be claimed', async () => (await runFigures(admin)).runs > 0);
    const terminated = await terminateWhileWaiting();
    const { summary, error } = await running;
    const after = await runFigures(admin);

    expect(summary, 'the sweep reports the failure').toBeUndefined();
    expect(error?.message).toMatch(/terminat|connection/i);
    expect(error?.message).not.toMatch(/\n\s+at /);
    const logged = log.entries.filter((entry) => entry.level === 'error');
    expect(logged.map((entry) => entry.message)).toContain('sweep failed');
    // The runs it had started were finished and recorded; the failed claim left nothing behind.
    expect(after).toMatchObject({ running: 0, duplicates: 0, lost: 0 });

    await afterLease();
    const dueBefore = (await runFigures(admin)).due;
    const recovery = await sweep(
      { sql: engine, registry: testRegistry, log: capturingLog() },
      { concurrency: 20 },
    );
    const final = await runFigures(admin);
    expect(dueBefore).toBe(JOBS - after.success);
    expect(recovery).toMatchObject({ executed: dueBefore, succeeded: dueBefore, lost: 0 });
    expect(final).toMatchObject({ running: 0, duplicates: 0, due: 0, lost: 0, success: JOBS });
    expect(await exactlyOneRunPerJob()).toBe(0);
    figures(
      `outage (terminated while claiming): ${JOBS} due jobs, ${terminated} engine connections ` +
        `terminated: sweep failed with "${error?.message}" after recording ${after.success} runs; ` +
        `left running ${after.running}; next sweep ran the ${dueBefore} still-due jobs once each; ` +
        `runs lost ${final.lost}, duplicate runs ${final.duplicates}`,
    );
    expectNoCrash();
  }, 30_000);

  it('connections terminated while the sweep records outcomes: the write is retried and the sweep completes', async () => {
    const JOBS = 200;
    await insertJobs(admin, JOBS, {
      name: 'record',
      schedule: YEARLY,
      function_name: 'sleep',
      metadata: { ms: 100 },
      timeout_seconds: 5,
    });
    const log = capturingLog();
    // One claim takes every job, so the statement left to wait is an outcome write.
    const running = sweep(
      { sql: engine, registry: testRegistry, log },
      {
        concurrency: 10,
        claimBatchSize: 1_000,
        firstClaimSize: 1_000,
        leaseSeconds: LEASE_SECONDS,
      },
    ).then(
      (summary) => ({ summary, error: undefined }),
      (error: unknown) => ({ summary: undefined, error: error as Error }),
    );
    await waitFor('the jobs to be claimed', async () => (await runFigures(admin)).runs > 0);
    const terminated = await terminateWhileWaiting();
    const { summary, error } = await running;
    expect(error).toBeUndefined();
    expect(summary).toMatchObject({ executed: JOBS, succeeded: JOBS });
    const final = await runFigures(admin);
    expect(final).toMatchObject({ running: 0, duplicates: 0, due: 0, lost: 0, success: JOBS });
    expect(await exactlyOneRunPerJob()).toBe(0);
    const [counted] = await admin<{ n: number }[]>`
      select count(*)::int as n from cron_job where (metadata->>'execution_count')::int = 1`;
    expect(counted!.n).toBe(JOBS);
    figures(
      `outage (terminated while recording): ${JOBS} due jobs, ${terminated} engine connections ` +
        `terminated: sweep completed, ${summary!.succeeded} runs recorded once each; ` +
        `runs lost ${final.lost}, duplicate runs ${final.duplicates}`,
    );
    expectNoCrash();
  }, 30_000);

  it('the database turns read-only mid-sweep (a failover): the outcome write fails, the sweep fails with a clear error, nothing crashes, the runs are declared lost after their lease', async () => {
    const JOBS = 50;
    // Runs held until the test lets them go, so the failover comes while every one of them is in
    // progress however slow the machine is (on a clock, runs of a few hundred ms could finish and
    // be recorded before it). The first half then fails and the second succeeds: the first
    // outcomes are written while the second half is still running.
    const held = heldRuns();
    for (const group of ['first', 'second'] as const) {
      await insertJobs(admin, JOBS / 2, {
        name: `readonly ${group}`,
        schedule: YEARLY,
        function_name: 'held',
        metadata: { group },
        timeout_seconds: 600,
      });
    }
    const log = capturingLog();
    const running = sweep(
      { sql: engine, registry: held.registry, log },
      {
        // A worker for each run and a first claim that is not full: the sweep claims nothing
        // more until a run ends, so no claim is under way when the connections are cut (a claim
        // cut short would fail the sweep with another error).
        concurrency: JOBS,
        firstClaimSize: JOBS + 1,
        leaseSeconds: LEASE_SECONDS,
        // The first half's outcomes make a batch of their own, written as soon as they are in.
        flushSize: JOBS / 2,
      },
    ).then(
      (summary) => ({ summary, error: undefined }),
      (error: unknown) => ({ summary: undefined, error: error as Error }),
    );
    await waitFor('the runs to be in progress', () => Promise.resolve(held.started() === JOBS));
    expect((await runFigures(admin)).running).toBe(JOBS);
    // What a failover to a node that only reads looks like to the engine.
    await admin.unsafe(`alter database "${database}" set default_transaction_read_only = on`);
    await cutEngineConnections();
    held.release('first');
    await waitFor('the first half to fail', () =>
      Promise.resolve(
        log.entries.filter((entry) => entry.message === 'run failed').length === JOBS / 2,
      ),
    );
    held.release('second');
    const { summary, error } = await running;
    const settledAt = Date.now();
    await admin.unsafe(`alter database "${database}" reset default_transaction_read_only`);
    await cutEngineConnections();
    // The pool may still hold sockets of the cut connections until it uses them (ECONNRESET):
    // the recovery sweep stands for the next scheduled one, after the pool has reconnected.
    await waitFor('the engine pool to reconnect', async () => {
      const probes = await Promise.allSettled([1, 2, 3, 4].map(() => engine`select 1`));
      return probes.every((probe) => probe.status === 'fulfilled') || undefined;
    });
    const after = await runFigures(admin);

    // Every lease was last renewed before the sweep settled: the sweep's clock moves past them.
    const leasesOver = new Date(settledAt + LEASE_SECONDS * 1000 + 1);
    const recovery = await sweep(
      { sql: engine, registry: testRegistry, log: capturingLog() },
      { concurrency: 20, now: () => leasesOver },
    ).catch((recoveryError: unknown) => recoveryError as Error);
    const final = await runFigures(admin, leasesOver);
    figures(
      `outage (read-only failover while running): ${JOBS} runs in progress: sweep ${
        error ? `failed with "${error.message}"` : 'completed'
      }; left running ${after.running}; recovery sweep ${
        recovery instanceof Error
          ? `failed with "${recovery.message}"`
          : `declared lost ${recovery.lost}`
      }; uncaught exceptions and unhandled rejections ${uncaught.errors.length}; ` +
        `runs lost ${final.lost}, duplicate runs ${final.duplicates}, left running ${final.running}`,
    );
    expectNoCrash();
    expect(summary).toBeUndefined();
    expect(error?.message).toMatch(/read-only/);
    expect(log.entries.map((entry) => entry.message)).toContain('sweep failed');
    expect(recovery).not.toBeInstanceOf(Error);
    expect(final).toMatchObject({ running: 0, duplicates: 0, lost: JOBS, due: 0 });
  }, 30_000);

  it('chaos: connections terminated every 100-300 ms for 3 s under repeated sweeps; afterwards nothing is running, nothing ran twice, one recovery sweep runs every still-due job', async () => {
    // More work than 3 s of sweeping can do, so the recovery sweep has jobs left to run.
    const JOBS = 600;
    await insertJobs(admin, JOBS, {
      name: 'chaos',
      schedule: YEARLY,
      function_name: 'sleep',
      metadata: { ms: 50 },
      timeout_seconds: 5,
    });
    let killing = true;
    let kills = 0;
    const killer = (async () => {
      while (killing) {
        await sleep(100 + Math.random() * 200);
        kills += await terminateEngineConnections(admin, database);
      }
    })();
    const log = capturingLog();
    const failures = new Map<string, number>();
    let sweeps = 0;
    let completed = 0;
    let longest = 0;
    let stalled = false;
    const until = Date.now() + 3_000;
    while (Date.now() < until && !stalled) {
      sweeps += 1;
      const started = performance.now();
      try {
        await within(
          sweep(
            { sql: engine, registry: testRegistry, log },
            { concurrency: 8, claimBatchSize: 10, leaseSeconds: LEASE_SECONDS },
          ),
          STALL_MS,
          'a sweep under connection terminations',
        );
        completed += 1;
      } catch (error) {
        const message = (error as Error).message;
        stalled = message.includes('did not settle');
        expect(message).not.toMatch(/\n\s+at /);
        failures.set(message, (failures.get(message) ?? 0) + 1);
      } finally {
        longest = Math.max(longest, performance.now() - started);
      }
    }
    killing = false;
    await killer;
    const afterChaos = await runFigures(admin);
    expect(afterChaos.duplicates).toBe(0);

    await afterLease();
    const dueBefore = (await runFigures(admin)).due;
    const recovery = await within(
      sweep({ sql: engine, registry: testRegistry, log: capturingLog() }, { concurrency: 20 }),
      STALL_MS,
      'the recovery sweep',
    ).catch((error: unknown) => error as Error);
    const final = await runFigures(admin);
    figures(
      `outage (chaos): ${sweeps} sweeps over ${JOBS} jobs while ${kills} engine connections were ` +
        `terminated in 3 s (every 100-300 ms): ${sweeps - completed} sweeps failed ` +
        `(${[...failures.keys()].join(' | ')}), longest sweep ${Math.round(longest)} ms; ` +
        `left running ${afterChaos.running}; recovery sweep: ${
          recovery instanceof Error
            ? recovery.message
            : `declared lost ${recovery.lost}, ran ${recovery.executed} still-due jobs once each`
        }; uncaught exceptions ${uncaught.errors.length}; ` +
        `runs lost ${final.lost}, duplicate runs ${final.duplicates}, left running ${final.running}`,
    );
    expectNoCrash();
    // A sweep fails fast on a dead connection rather than stalling on it: a poisoned pooled
    // connection costs a whole connect_timeout (10 s). The busiest healthy sweep here does ~4 s of work.
    expect(longest, 'longest sweep under terminations, ms').toBeLessThan(9_000);
    expect(recovery).not.toBeInstanceOf(Error);
    if (recovery instanceof Error) return;
    expect(recovery.executed).toBe(dueBefore);
    expect(final).toMatchObject({ running: 0, duplicates: 0, due: 0 });
    // Every job has exactly one run for its slot: it ran, or its outcome was lost with a connection.
    expect(await exactlyOneRunPerJob()).toBe(0);
    expect(final.success + final.lost).toBe(JOBS);
  }, 60_000);
});

describe('database outage: server stopped and started between sweeps', () => {
  it('the sweep during the outage fails fast with a connection error; the first sweep after the restart runs each missed job once', async () => {
    const folder = await mkdtemp(path.join(tmpdir(), 'crm-cron-outage-'));
    // Postgres runs as its own user when we are root, and must be able to reach its folder.
    await chmod(folder, 0o755);
    const dataDir = path.join(folder, 'data');
    // The major of this vitest project, like the suite's own server.
    const binaries = await postgresBinaries(inject('postgresMajor') ?? 17);
    let server: EmbeddedDatabase | undefined = await startEmbeddedPostgres({
      dataDir,
      persistent: true,
      binaries,
    });
    const proxy = await startTcpProxy(Number(new URL(server.url).port));
    const proxied = new URL(server.url);
    proxied.port = String(proxy.port);
    const sql: Sql = connect(proxied.toString(), { max: 4 });
    try {
      await migrate(sql);
      const JOBS = 100;
      await insertJobs(sql, JOBS, { name: 'restart' });
      const log = capturingLog();
      const deps = { sql, registry: testRegistry, log };
      expect(await sweep(deps)).toMatchObject({ executed: JOBS, succeeded: JOBS });

      const stopStarted = performance.now();
      await proxy.down();
      await server.stop();
      server = undefined;
      const stoppedIn = performance.now() - stopStarted;
      // Ten minutes pass while the database is down: the jobs' next slots go by.
      const later = new Date(Date.now() + 10 * 60_000);
      const failedAt = performance.now();
      const outage = await sweep(deps, { now: () => later }).then(
        () => undefined,
        (error: unknown) => error as Error & { code?: string },
      );
      const failedIn = performance.now() - failedAt;
      expect(outage, 'the sweep during the outage rejects').toBeInstanceOf(Error);
      expect(outage!.message).toMatch(/ECONNREFUSED|connect|connection/i);
      expect(outage!.message).not.toMatch(/\n\s+at /);
      expect(failedIn).toBeLessThan(5_000);
      const loggedDuringOutage = log.entries.filter((entry) => entry.level === 'error');

      server = await startEmbeddedPostgres({ dataDir, persistent: true, binaries });
      await proxy.up(Number(new URL(server.url).port));
      const missed = await sql<{ id: string; next_run: Date }[]>`select id, next_run from cron_job`;
      const recovery = await sweep(deps, { now: () => later });
      expect(recovery).toMatchObject({ executed: JOBS, succeeded: JOBS, lost: 0, skipped: 0 });
      const counts = await runFigures(sql, later);
      // Each job ran once, for its latest slot; the slots before it are one missed run each.
      expect(counts).toMatchObject({ runs: 3 * JOBS, success: 2 * JOBS, duplicates: 0, due: 0 });
      const gaps = await sql<{ job_id: string; scheduled_for: Date }[]>`
        select job_id, scheduled_for from cron_job_run where status = 'missed'`;
      expect(gaps).toHaveLength(JOBS);
      const slotOf = new Map(missed.map((job) => [job.id, job.next_run.getTime()]));
      for (const gap of gaps) expect(gap.scheduled_for.getTime()).toBe(slotOf.get(gap.job_id));
      const [next] = await sql<{ min: Date }[]>`select min(next_run) as min from cron_job`;
      expect(next!.min.getTime()).toBeGreaterThan(later.getTime());
      expectNoCrash();
      figures(
        `outage (server stopped ${seconds(stoppedIn)} and restarted): sweep during the outage failed in ` +
          `${Math.round(failedIn)} ms with "${outage!.message}"; first sweep after restart ran ` +
          `${recovery.executed}/${JOBS} missed jobs once each (missed slots recorded, not replayed); ` +
          `runs lost 0, duplicate runs ${counts.duplicates}`,
      );
      expect(
        loggedDuringOutage.map((entry) => entry.message),
        'the failed sweep logged an error',
      ).toContain('sweep failed');
    } finally {
      await sql.end({ timeout: 5 });
      await proxy.close();
      await server?.stop();
      await rm(folder, { recursive: true, force: true });
    }
  }, 90_000);
});
