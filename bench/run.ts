/**
 * `npm run bench`: the figures of the developers' guide, measured on this machine against a
 * fresh PostgreSQL (embedded, or a new database on DATABASE_URL's server).
 */
import { describeMachine } from './machine';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { format } from 'prettier';
import { connect } from '../lib/db';
import { ALERTS_MIN_THROUGHPUT_RATIO, benchAlerts, type AlertsBenchResult } from './alerts';
import { benchApi, type LoadResult } from './api';
import { benchConsole, type ConsoleResult } from './console';
import { benchBundles, biggestInputs, cdkBundleOptions, type BundleResult } from './bundles';
import { insertIdleJobs, startBenchDatabase } from './database';
import { backgroundCpuPercent, waitForQuiet } from './machine';
import { explainIdleSweep, idleSweeps, type ExplainResult, type IdleResult } from './idle';
import {
  FIGURE_HEADERS,
  figureRows,
  fmt,
  markdownTable,
  median,
  textTable,
  type Figure,
} from './report';
import {
  drain,
  pickDueJobs,
  setDistinctSchedules,
  setRetryPolicy,
  type DrainResult,
} from './sweep';
import { drainWithWorkers, type WorkersResult } from './workers';

const README_PATH = '/tmp/readme-bench.md';
const SWEEP_TARGET = 25_000;
const FIRST_JOB_TARGET_MS = 30;
const AMONG_MILLION_TOLERANCE = 0.2;
const RETRIES_TOLERANCE = 0.1;
const IDLE_DB_TARGET_MS = 2;
const API_P99_TARGET_MS = 15;
const API_OFFERED_RATE = 1_000;
const BUNDLE_KB_TARGET = 300;
const INIT_TARGET_MS = 150;
const CONNECTIONS = 50;
const CONSOLE_JOBS = 10_000;
const CONSOLE_TARGET_MS = 1_000;
const API_SECONDS = 10;
const REPETITIONS = 3;
const DISTINCT_PAIRS = 10_000;
// The fan-out drain: every daily job of a large deployment due at one midnight, 8 local workers.
const FAN_OUT_JOBS = 100_000;
const FAN_OUT_WORKERS = 8;
// Runs each worker process takes at once: npm start's default (WORKER_CONCURRENCY).
const FAN_OUT_WORKER_CONCURRENCY = 8;
const FAN_OUT_LIMIT_MS = 20 * 60_000;

/**
 * The sections, in the order they run; BENCH_ONLY (comma-separated names) runs some of them
 * (`BENCH_ONLY=sweep npm run bench`). `million` grows the table to 1,000,000 jobs: idle sweeps and
 * the drain among a million (compared with `sweep`'s drain among 100,000 when both run). `workers`
 * drains 100,000 jobs due at once through the local dispatcher and 8 worker processes. `alerts`
 * (issue #14) empties the job table, so it runs last.
 */
const SECTIONS = ['bundles', 'console', 'sweep', 'million', 'api', 'workers', 'alerts'] as const;
type Section = (typeof SECTIONS)[number];

function selectedSections(env: NodeJS.ProcessEnv): Set<Section> {
  const asked = env.BENCH_ONLY?.split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (!asked || asked.length === 0) return new Set(SECTIONS);
  const unknown = asked.filter((name) => !(SECTIONS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new Error(
      `BENCH_ONLY: unknown section ${unknown.join(', ')}; sections: ${SECTIONS.join(', ')}`,
    );
  }
  return new Set(asked as Section[]);
}

const started = performance.now();
const progress = (message: string) =>
  console.error(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}`);

async function main() {
  const sections = selectedSections(process.env);
  progress(`sections: ${[...sections].join(', ')}; starting PostgreSQL`);
  const db = await startBenchDatabase();
  const admin = connect(db.url, { max: 1 });
  const figures: Figure[] = [];
  const notes: string[] = [];
  try {
    const machine = await describeMachine(admin, db.origin);
    // Sweeps as the peer benchmark (/work/shared/peers) runs ours and graphile-worker: a pool of
    // max(10, concurrency + 2), prepared statements.
    const sweepPool = (concurrency: number) => () =>
      connect(db.url, { max: Math.max(10, concurrency + 2) });
    // Idle sweeps as the Lambda runs them locally (DATABASE_URL: pool of 2, prepared statements)...
    const lambdaLocal = () => connect(db.url, { max: 2 });
    // ...and as it runs them behind RDS Proxy (prepared statements off).
    const behindProxy = () => connect(db.url, { max: 2, prepare: false });

    progress('waiting up to 10 s for other processes to quieten');
    const before = await waitForQuiet(10_000, 25);
    const background: Record<string, string> = {
      start: `${before === undefined ? 'unknown' : `${before.toFixed(0)} %`}, load average ${loadAverage()}`,
    };
    const sample = async (section: string) => {
      const busy = await backgroundCpuPercent();
      background[section] =
        `${busy === undefined ? 'unknown' : `${busy.toFixed(0)} %`}, load average ${loadAverage()}`;
    };

    // Bundles first, while the database is still small and quiet (init needs only its URL).
    if (sections.has('bundles')) {
      await sample('bundles');
      progress('bundling functions/*.ts and timing module init');
      const bundling = await cdkBundleOptions();
      const bundles = await benchBundles(db.url, { coldStarts: 5, bundling });
      machine['Bundling'] =
        `as ${bundling.source}: esm, minified, source maps, target ${bundling.target}, ` +
        `external ${bundling.external.length > 0 ? bundling.external.join(', ') : 'none'}`;
      bundleFigures(figures, bundles);
      notes.push(...bundleNotes(bundles));
    }

    // The console next, on 10,000 jobs (removed afterwards, so the sweeps start from empty).
    if (sections.has('console')) {
      await sample('console');
      progress(`console: first page with ${fmt.int(CONSOLE_JOBS)} jobs, 5 cold loads`);
      consoleFigures(figures, await benchConsole(db.url, admin, { jobs: CONSOLE_JOBS, loads: 5 }));
    }

    // The sweep: 10,000 due no-op jobs among 100,000.
    const drains: DrainResult[] = [];
    const drainAt = async (concurrency: number, label = '') => {
      progress(`sweep: 10,000 due${label ? ` (${label})` : ''}, concurrency ${concurrency}`);
      const result = await drain(admin, {
        concurrency,
        repetitions: REPETITIONS,
        statStatements: db.statStatements,
        connect: sweepPool(concurrency),
        label,
      });
      drains.push(result);
      return result;
    };
    if (sections.has('sweep') || sections.has('million')) {
      progress('inserting 100,000 jobs');
      await insertIdleJobs(admin, 100_000);
      await pickDueJobs(admin, 10_000);
    }
    if (sections.has('sweep')) {
      progress('warm-up sweep');
      await drain(admin, {
        concurrency: 4,
        repetitions: 1,
        statStatements: false,
        connect: sweepPool(4),
      });
      await sample('sweeps, 100,000 jobs');
      await drainAt(4);
      await drainAt(16);
      // #12: a retry policy on every due job (all succeed) against the same drain without one.
      await setRetryPolicy(admin, 3);
      await drainAt(16, 'retries: max_attempts 3');
      await setRetryPolicy(admin, 1);
      await setDistinctSchedules(admin, DISTINCT_PAIRS);
      await drainAt(16, `${fmt.int(DISTINCT_PAIRS)} distinct (schedule, time zone) pairs`);
      await setDistinctSchedules(admin, 0);
    }

    if (sections.has('million')) {
      // Idle cost with a million jobs.
      progress('inserting 900,000 more jobs (1,000,000 in all)');
      await insertIdleJobs(admin, 900_000);
      await admin`vacuum analyze cron_job`;
      await admin`vacuum analyze cron_job_run`;
      await sample('idle sweeps');
      const idle: { label: string; result: IdleResult }[] = [];
      for (const [label, factory] of [
        ['prepared (local, DATABASE_URL)', lambdaLocal],
        ['unprepared (Lambda via RDS Proxy)', behindProxy],
      ] as const) {
        progress(`idle sweeps, ${label}`);
        idle.push({
          label,
          result: await idleSweeps(admin, {
            connect: factory,
            count: 50,
            warmup: 5,
            statStatements: db.statStatements,
          }),
        });
      }
      progress('EXPLAIN ANALYZE of an idle sweep');
      const explained = await explainIdleSweep(admin, db.url, 20);

      // The 10,000-due drain against a million jobs, then the first idle sweep after it.
      await pickDueJobs(admin, 10_000);
      await sample('sweeps, 1,000,000 jobs');
      await drainAt(16);
      progress('first idle sweep after a drain (no vacuum in between)');
      const afterDrain = await idleSweeps(admin, {
        connect: lambdaLocal,
        count: 1,
        warmup: 0,
        statStatements: db.statStatements,
      });
      idleFigures(figures, idle, explained, afterDrain, db.statStatements);
      notes.push(...idleNotes(idle, explained));
    }
    sweepFigures(figures, drains);
    notes.push(...sweepNotes(drains));

    if (sections.has('api')) {
      await sample('API');
      progress(
        `API: ${fmt.int(API_OFFERED_RATE)} req/s offered, then ${CONNECTIONS} connections as fast as served, ${API_SECONDS} s per route`,
      );
      const api = await benchApi(db.url, admin, {
        connections: CONNECTIONS,
        durationSeconds: API_SECONDS,
        openLoopRate: API_OFFERED_RATE,
      });
      apiFigures(figures, api);
      notes.push(...apiNotes(api));
    }
    if (sections.has('workers')) {
      await sample('workers');
      progress(
        `workers: ${fmt.int(FAN_OUT_JOBS)} due at once, dispatcher + ${FAN_OUT_WORKERS} worker processes`,
      );
      workersFigures(
        figures,
        await drainWithWorkers(admin, db.url, {
          jobs: FAN_OUT_JOBS,
          workers: FAN_OUT_WORKERS,
          workerConcurrency: FAN_OUT_WORKER_CONCURRENCY,
          limitMs: FAN_OUT_LIMIT_MS,
        }),
      );
    }

    if (sections.has('alerts')) {
      await sample('alerts');
      progress(
        'alerts: 10,000 failing jobs swept with and without a destination for all, 3 times each',
      );
      alertsFigures(figures, await benchAlerts(db.url));
    }
    machine['Background CPU (other processes, before each section)'] = Object.entries(background)
      .map(([section, busy]) => `${section} ${busy}`)
      .join('; ');

    const seconds = (performance.now() - started) / 1000;
    const machineRows = Object.entries(machine).map(([key, value]) => [key, value]);
    console.log(`\nMachine\n${textTable(['', ''], machineRows)}`);
    console.log(`\nResults\n${textTable(FIGURE_HEADERS, figureRows(figures))}`);
    for (const note of notes) console.log(`\n${note}`);
    const failed = figures.filter((figure) => figure.pass === false).length;
    console.log(
      `\n${figures.filter((f) => f.pass !== undefined).length} figures with a target, ${failed} FAIL; ` +
        `benchmark took ${seconds.toFixed(0)} s`,
    );
    // Formatted as `npm run lint` wants it, so the section can be pasted into README.md as is.
    const markdown = await format(readme(machine, figures, notes), {
      parser: 'markdown',
      printWidth: 100,
    });
    await writeFile(README_PATH, markdown);
    console.log(`README section written to ${README_PATH}`);
  } finally {
    await admin.end();
    await db.stop();
  }
}

function loadAverage(): string {
  return os
    .loadavg()
    .map((value) => value.toFixed(1))
    .join(' / ');
}

function sweepFigures(figures: Figure[], drains: DrainResult[]) {
  const plain = (tableSize: number, concurrency: number) =>
    drains.find(
      (r) => r.label === '' && r.tableSize === tableSize && r.concurrency === concurrency,
    );
  for (const run of drains) {
    const name =
      `10,000 due of ${fmt.int(run.tableSize)}${run.label ? `, ${run.label}` : ''}, ` +
      `concurrency ${run.concurrency}`;
    const headline = run.label === '' && run.concurrency === 16;
    figures.push({
      section: 'Sweep',
      name: `${name}: throughput (median of ${run.allWallMs.length}, all verified; load average at the end)`,
      value:
        `${fmt.int(run.jobsPerSecond)} jobs/s (${run.allWallMs.map((ms) => fmt.int(ms)).join(', ')} ms; ` +
        `load ${run.loadAverage.toFixed(1)})`,
      ...(headline
        ? { target: `≥ ${fmt.int(SWEEP_TARGET)} jobs/s`, pass: run.jobsPerSecond >= SWEEP_TARGET }
        : {}),
    });
    if (run.postgresCpuMs !== undefined) {
      const perJobUs = ((run.nodeCpuMs + run.postgresCpuMs) / run.due) * 1000;
      const cores = os.cpus().length;
      figures.push({
        section: 'Sweep',
        name: `${name}: CPU per job, Node + PostgreSQL (bound on ${cores} idle cores)`,
        value:
          `${fmt.int((run.nodeCpuMs / run.due) * 1000)} + ${fmt.int((run.postgresCpuMs / run.due) * 1000)} µs ` +
          `(≤ ${fmt.int((cores * 1e6) / perJobUs)} jobs/s)`,
      });
    }
    if (run.label === '') {
      figures.push({
        section: 'Sweep',
        name: `${name}: first job started after (median)`,
        value: fmt.ms(run.firstJobMs, 1),
        target: `≤ ${fmt.ms(FIRST_JOB_TARGET_MS, 0)}`,
        pass: run.firstJobMs <= FIRST_JOB_TARGET_MS,
      });
    }
  }
  const four = plain(100_000, 4);
  const sixteen = plain(100_000, 16);
  if (four && sixteen) {
    figures.push({
      section: 'Sweep',
      name: 'concurrency 16 against 4 (10,000 due of 100,000)',
      value: `× ${(sixteen.jobsPerSecond / four.jobsPerSecond).toFixed(2)}`,
      target: '> × 1',
      pass: sixteen.jobsPerSecond > four.jobsPerSecond,
    });
  }
  const relative = (label: string, run: DrainResult | undefined, tolerance: number) => {
    if (!run || !sixteen) return;
    const ratio = run.jobsPerSecond / sixteen.jobsPerSecond;
    figures.push({
      section: 'Sweep',
      name: `${label} against the plain drain (100,000 jobs, concurrency 16)`,
      value: `× ${ratio.toFixed(2)}`,
      target: `≥ × ${(1 - tolerance).toFixed(2)}`,
      pass: ratio >= 1 - tolerance,
    });
  };
  relative(
    'retries enabled (max_attempts 3)',
    drains.find((r) => r.label.startsWith('retries')),
    RETRIES_TOLERANCE,
  );
  relative(
    `${fmt.int(DISTINCT_PAIRS)} distinct (schedule, time zone) pairs`,
    drains.find((r) => r.label.includes('distinct')),
    AMONG_MILLION_TOLERANCE,
  );
  relative('among 1,000,000 jobs', plain(1_000_000, 16), AMONG_MILLION_TOLERANCE);
}

function alertsFigures(figures: Figure[], result: AlertsBenchResult) {
  const perSecond = (ms: number) => (result.jobs / ms) * 1000;
  const runs = (list: number[]) => list.map((ms) => fmt.int(ms)).join(', ');
  figures.push({
    section: 'Alerts',
    name:
      `sweep of ${fmt.int(result.jobs)} failing jobs (concurrency ${result.concurrency}), a webhook ` +
      `for all of them: throughput against the same sweep without alerts (medians of ${result.withMs.length}, alternating)`,
    value:
      `× ${result.ratio.toFixed(2)} (${fmt.int(perSecond(median(result.withMs)))} against ` +
      `${fmt.int(perSecond(median(result.withoutMs)))} jobs/s; with ${runs(result.withMs)} ms, ` +
      `without ${runs(result.withoutMs)} ms)`,
    target: `≥ × ${ALERTS_MIN_THROUGHPUT_RATIO.toFixed(2)}`,
    pass: result.ratio >= ALERTS_MIN_THROUGHPUT_RATIO,
  });
  figures.push({
    section: 'Alerts',
    name: 'the same sweeps: CPU per job, Node + PostgreSQL (median; hardly moved by other load)',
    value:
      `${fmt.int(result.withCpuUs)} µs with alerts, ${fmt.int(result.withoutCpuUs)} µs without ` +
      `(× ${(result.withoutCpuUs / result.withCpuUs).toFixed(2)})`,
  });
  const expected = result.jobs * result.withMs.length;
  figures.push({
    section: 'Alerts',
    name: 'events written by the sweeps with alerts / delivered / distinct webhook-ids received',
    value:
      `${fmt.int(result.events)} / ${fmt.int(result.delivered)} / ${fmt.int(result.received)} ` +
      `(${fmt.int((result.delivered / result.deliveryMs) * 1000)} deliveries/s)`,
    target: `all ${fmt.int(expected)}`,
    pass:
      result.events === expected && result.delivered === expected && result.received === expected,
  });
}

function workersFigures(figures: Figure[], run: WorkersResult) {
  const name =
    `${fmt.int(run.jobs)} no-op jobs due at one slot, local dispatcher + ${run.workers} worker ` +
    `processes (concurrency ${run.workerConcurrency} each)`;
  figures.push({
    section: 'Workers',
    name: `${name}: drain rate, slot to last outcome (verified: each slot ran once; load average at the end)`,
    value:
      `${fmt.int(run.jobsPerSecond)} jobs/s (${inSeconds(run.drainMs)}; all queued after ` +
      `${inSeconds(run.dispatchMs)}; load ${run.loadAverage.toFixed(1)})`,
  });
  figures.push({
    section: 'Workers',
    name: `${name}: latest start after its slot (median)`,
    value: `${inSeconds(run.latestStartMs)} (${inSeconds(run.medianStartMs)})`,
  });
}

function inSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function idleFigures(
  figures: Figure[],
  idle: { label: string; result: IdleResult }[],
  explained: ExplainResult,
  afterDrain: IdleResult,
  statStatements: boolean,
) {
  for (const { label, result } of idle) {
    if (result.dbMs !== undefined) {
      figures.push({
        section: 'Idle sweep, 1M jobs',
        name: `database time per sweep, ${label} (pg_stat_statements, ${result.sweeps} sweeps)`,
        value: fmt.ms(result.dbMs, 3),
        target: `< ${fmt.ms(IDLE_DB_TARGET_MS, 0)}`,
        pass: result.dbMs < IDLE_DB_TARGET_MS,
      });
    }
    figures.push({
      section: 'Idle sweep, 1M jobs',
      name: `sweep() wall time, ${label} (median of ${result.sweeps})`,
      value: fmt.ms(result.wallMs, 2),
    });
  }
  figures.push({
    section: 'Idle sweep, 1M jobs',
    name: 'EXPLAIN ANALYZE: planning + execution of both statements (median of 20)',
    value: fmt.ms(explained.totalMs, 3),
    target: `< ${fmt.ms(IDLE_DB_TARGET_MS, 0)}`,
    // Without pg_stat_statements this is the figure the target is judged on.
    ...(statStatements ? {} : { pass: explained.totalMs < IDLE_DB_TARGET_MS }),
  });
  figures.push({
    section: 'Idle sweep, 1M jobs',
    name: 'first idle sweep right after a 10,000 drain, before vacuum: database / wall',
    value:
      afterDrain.dbMs === undefined
        ? fmt.ms(afterDrain.wallMs, 2)
        : `${fmt.ms(afterDrain.dbMs, 2)} / ${fmt.ms(afterDrain.wallMs, 2)}`,
  });
}

function apiFigures(figures: Figure[], api: LoadResult[]) {
  for (const route of api) {
    const failures = route.errors + route.timeouts + route.non2xx;
    const open = route.offeredRate !== undefined;
    figures.push({
      section: 'API',
      name: `${route.label}: p99 latency${open ? ' (open loop)' : ''}`,
      value: fmt.ms(route.p99, 0),
      ...(open
        ? { target: `< ${fmt.ms(API_P99_TARGET_MS, 0)}`, pass: route.p99 < API_P99_TARGET_MS }
        : {}),
    });
    figures.push({
      section: 'API',
      name: `${route.label}: p50 latency / requests per second${open ? '' : ' (maximum throughput)'}`,
      value: `${fmt.ms(route.p50, 0)} / ${fmt.int(route.requestsPerSecond)} req/s`,
    });
    if (route.postgresCpuUs !== undefined) {
      const cores = os.cpus().length;
      const perRequest = route.nodeCpuUs + route.postgresCpuUs;
      figures.push({
        section: 'API',
        name: `${route.label}: CPU per request, Node server + PostgreSQL (bound on ${cores} idle cores)`,
        value:
          `${fmt.int(route.nodeCpuUs)} + ${fmt.int(route.postgresCpuUs)} µs ` +
          `(≤ ${fmt.int((cores * 1e6) / perRequest)} req/s)`,
      });
    }
    figures.push({
      section: 'API',
      name: `${route.label}: errors + timeouts + non-2xx (of ${fmt.int(route.total)})`,
      value: fmt.int(failures),
      target: '0',
      pass: failures === 0,
    });
  }
}

function bundleFigures(figures: Figure[], bundles: BundleResult[]) {
  for (const bundle of bundles) {
    figures.push({
      section: 'Bundles',
      name: `${bundle.name}: size of index.mjs`,
      value: fmt.kb(bundle.bytes),
      target: `< ${BUNDLE_KB_TARGET} KB`,
      pass: bundle.bytes < BUNDLE_KB_TARGET * 1024,
    });
    figures.push({
      section: 'Bundles',
      name: `${bundle.name}: module init, --enable-source-maps as deployed (its CPU time)`,
      value: `${fmt.ms(bundle.initMs, 0)} (${fmt.ms(bundle.initCpuMs, 0)})`,
      target: `< ${fmt.ms(INIT_TARGET_MS, 0)}`,
      pass: bundle.initMs < INIT_TARGET_MS,
    });
  }
  const largest = largestBundle(bundles);
  if (largest?.initNoMapsMs !== undefined) {
    figures.push({
      section: 'Bundles',
      name: `${largest.name}: module init without --enable-source-maps (its CPU time)`,
      value: `${fmt.ms(largest.initNoMapsMs, 0)} (${fmt.ms(largest.initNoMapsCpuMs ?? 0, 0)})`,
    });
  }
}

function consoleFigures(figures: Figure[], result: ConsoleResult) {
  figures.push({
    section: 'console',
    name: `console first page interactive, ${fmt.int(result.jobs)} jobs (median of ${result.interactiveMs.length} cold loads)`,
    value: `${fmt.ms(result.medianMs, 0)} (${result.interactiveMs.map((ms) => ms.toFixed(0)).join(', ')})`,
    target: `< ${fmt.int(CONSOLE_TARGET_MS)} ms`,
    pass: result.medianMs < CONSOLE_TARGET_MS,
  });
}

function largestBundle(bundles: BundleResult[]): BundleResult | undefined {
  return [...bundles].sort((a, b) => b.bytes - a.bytes)[0];
}

function sweepNotes(drains: DrainResult[]): string[] {
  const notes: string[] = [];
  for (const run of drains.filter((r) => r.label === '')) {
    const lines = [
      `Where a 10,000-job sweep spends its time (table ${fmt.int(run.tableSize)}, concurrency ${run.concurrency}, last repetition):`,
      `  wall ${fmt.ms(run.allWallMs.at(-1)!, 0)}; CPU of the sweeping Node process ${fmt.ms(run.nodeCpuMs, 0)}`,
      `  WAL ${(run.wal.bytes / 2 ** 20).toFixed(1)} MiB: ${fmt.int(run.wal.records / run.due)} records and ` +
        `${(run.wal.bytes / run.due / 1024).toFixed(1)} KiB per job, ${fmt.int(run.wal.fpi)} full-page images`,
    ];
    if (run.dbBreakdown) {
      const total = run.dbBreakdown.reduce((sum, entry) => sum + entry.ms, 0);
      lines.push(`  database time ${fmt.ms(total, 0)} (pg_stat_statements):`);
      for (const entry of run.dbBreakdown.sort((a, b) => b.ms - a.ms)) {
        lines.push(
          `    ${entry.label.padEnd(30)} ${String(entry.calls).padStart(5)} calls  ${fmt.ms(entry.ms, 1)}`,
        );
      }
    }
    notes.push(lines.join('\n'));
  }
  return notes;
}

function idleNotes(
  idle: { label: string; result: IdleResult }[],
  explained: ExplainResult,
): string[] {
  const lines = ['Idle sweep, database time per statement:'];
  for (const { label, result } of idle) {
    for (const entry of result.breakdown ?? []) {
      lines.push(`  ${label}: ${entry.label.padEnd(20)} ${fmt.ms(entry.ms, 3)}`);
    }
  }
  for (const statement of explained.statements) {
    lines.push(
      `  EXPLAIN ${statement.label.padEnd(20)} planning ${fmt.ms(statement.planningMs, 3)}, ` +
        `execution ${fmt.ms(statement.executionMs, 3)}, buffers hit ${statement.sharedHit} read ${statement.sharedRead}`,
    );
  }
  return [lines.join('\n')];
}

function apiNotes(api: LoadResult[]): string[] {
  // Closed loop: each connection sends its next request when the previous one is answered, so
  // mean latency = connections / throughput (Little's law). Open loop: requests go out on
  // schedule, so latency shows queueing only when the offered rate nears what the server can do.
  return [
    [
      `API: open loop at ${fmt.int(API_OFFERED_RATE)} req/s (autocannon overallRate, latencies corrected ` +
        `for coordinated omission), then closed loop with ${CONNECTIONS} connections for the maximum ` +
        `throughput, where mean latency is ${CONNECTIONS} / throughput.`,
      ...api.map(
        (route) =>
          `  ${route.label}: ${fmt.int(route.requestsPerSecond)} req/s, p50 ${fmt.ms(route.p50, 0)}, ` +
          `p90 ${fmt.ms(route.p90, 0)}, p99 ${fmt.ms(route.p99, 0)}, max ${fmt.ms(route.max, 0)}`,
      ),
    ].join('\n'),
  ];
}

function bundleNotes(bundles: BundleResult[]): string[] {
  const largest = largestBundle(bundles);
  if (!largest) return [];
  const { files, packages } = biggestInputs(largest.metafile, 10);
  return [
    [
      `Largest bundle: ${largest.name} (${fmt.kb(largest.bytes)}); bytes in output by package:`,
      ...packages.map(([name, bytes]) => `  ${fmt.kb(bytes).padStart(9)}  ${name}`),
      'by input file:',
      ...files.map(([name, bytes]) => `  ${fmt.kb(bytes).padStart(9)}  ${name}`),
    ].join('\n'),
  ];
}

function readme(machine: Record<string, string>, figures: Figure[], notes: string[]): string {
  return `## Benchmarks

\`npm run bench\` starts its own embedded PostgreSQL (15 by default, \`BENCH_POSTGRES=17\` for 17; or,
with \`DATABASE_URL\` set, creates a throw-away database on that server), then measures the targets of
the developers' guide and prints each figure with its target. \`BENCH_ONLY=sweep,million,api\` runs
only those sections (of ${SECTIONS.join(', ')}). Every sweep run is verified: each due job must have
exactly one \`success\` run for its slot and one more \`execution_count\`, and no other job may
have run.

Measured on:

${markdownTable(['', ''], Object.entries(machine))}

Wall-clock figures (throughput, latency, init time) suffer from anything else running on the
machine, hence the background CPU row; the CPU-per-job and CPU-per-request rows hardly do, and
give the best this code can do on an otherwise idle machine. For where the time goes, see
\`npx tsx bench/profile-sweep.ts [jobs] [due]\` (phase timers, auto_explain plans, CPU profile,
schema variants) and \`npx tsx bench/profile-api.ts [GET|POST]\` (server CPU profile).

${markdownTable(FIGURE_HEADERS, figureRows(figures))}

${notes.map((note) => `\`\`\`text\n${note}\n\`\`\``).join('\n\n')}
`;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
