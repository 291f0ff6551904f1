/**
 * Alerts on the sweep's hot path: a sweep of 10,000 failing jobs with a webhook destination for
 * all of them (one rule, every event written to the outbox in the outcome statement) against the
 * same sweep without alerts, then every event delivered to a loopback receiver.
 * `npm run bench:alerts` alone, or the `alerts` section of `npm run bench` (BENCH_ONLY=alerts),
 * which judges the figures. Starts by emptying cron_job: run it after sections that need theirs.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as z from 'zod';
import { deliverDue } from '../lib/alerts/delivery';
import { connect, type Sql } from '../lib/db';
import { createEgressClient } from '../lib/egress/http-client';
import { generateSigningSecret } from '../lib/egress/signing';
import { initialEngineMetadata } from '../lib/engine/metadata';
import { sweep } from '../lib/engine/sweep';
import { createRegistry } from '../lib/executors/registry';
import { defineExecutor } from '../lib/executors/types';
import { silentLog } from '../lib/logger';
import { cpuByProcess, cpuDelta } from './machine';
import { median } from './report';
import { serverPids } from './sweep';

/** The acceptance: throughput with alerts at least this fraction of the same sweep's without. */
export const ALERTS_MIN_THROUGHPUT_RATIO = 0.9;

export interface AlertsBenchResult {
  jobs: number;
  concurrency: number;
  withoutMs: number[];
  withMs: number[];
  /**
   * CPU per job of the sweeping Node process plus PostgreSQL's processes (median over the
   * repetitions, µs): hardly moved by other load on the machine, unlike the wall times.
   */
  withoutCpuUs: number;
  withCpuUs: number;
  /** Throughput with alerts / throughput without (median wall times: without / with). */
  ratio: number;
  /** Deliveries the sweeps wrote to the outbox (one per failed run: one rule, one destination). */
  events: number;
  /** Deliveries recorded `delivered`. */
  delivered: number;
  /** Distinct webhook-ids the receiver accepted. */
  received: number;
  deliveryMs: number;
}

const failing = createRegistry([
  defineExecutor({
    name: 'fail',
    description: 'fails at once (benchmark)',
    configSchema: z.object({}).loose(),
    run: async () => {
      throw new Error('benchmark failure');
    },
  }),
]);

export async function benchAlerts(
  url: string,
  options: { jobs?: number; concurrency?: number; repetitions?: number } = {},
): Promise<AlertsBenchResult> {
  const jobs = options.jobs ?? 10_000;
  const concurrency = options.concurrency ?? 16;
  const repetitions = options.repetitions ?? 3;
  const sql: Sql = connect(url, { max: Math.max(10, concurrency + 2) });
  const receivedIds = new Set<string>();
  const receiver = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      receivedIds.add(String(request.headers['webhook-id']));
      response.statusCode = 204;
      response.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  try {
    await sql`truncate cron_job, cron_alert_destination, cron_alert_delivery cascade`;
    await sql`
      insert into cron_job (name, schedule, timezone, function_name, is_active, metadata, tenant_id,
        next_run)
      select 'failing ' || n, 'cron:0 0 1 1 *', 'UTC', 'fail', true,
        ${sql.json(initialEngineMetadata)}, 'acme', now()
      from generate_series(1, ${jobs}) n`;
    const [destination] = await sql<{ id: string }[]>`
      insert into cron_alert_destination (tenant_id, name, kind, target, secret)
      values ('acme', 'bench hook', 'webhook', ${hook}, ${generateSigningSecret()}) returning id`;
    const measure = async (enabled: boolean) => {
      await sql`update cron_alert_rule set enabled = ${enabled}`;
      await sql`update cron_job set next_run = now() - interval '1 minute', is_active = true,
        metadata = metadata || '{"consecutive_failures": 0}'`;
      await sql`vacuum cron_job`;
      await sql`vacuum cron_job_run`;
      const pids = await serverPids(sql);
      const pgBefore = await cpuByProcess(pids);
      const cpu = process.cpuUsage();
      const started = performance.now();
      const summary = await sweep({ sql, registry: failing, log: silentLog }, { concurrency });
      const wall = performance.now() - started;
      const used = process.cpuUsage(cpu);
      const pgAfter = await cpuByProcess([...new Set([...pids, ...(await serverPids(sql))])]);
      if (summary.failed !== jobs) throw new Error(`${summary.failed} of ${jobs} failed`);
      const cpuUs = ((used.user + used.system) / 1000 + cpuDelta(pgBefore, pgAfter)) * 1000;
      (enabled ? withCpu : withoutCpu).push(cpuUs / jobs);
      return wall;
    };
    const withCpu: number[] = [];
    const withoutCpu: number[] = [];
    await sql`insert into cron_alert_rule (tenant_id, destination_id, events)
      values ('acme', ${destination!.id}, ${['run.failed']})`;
    const withoutMs: number[] = [];
    const withMs: number[] = [];
    await measure(false); // warm-up
    withoutCpu.length = 0;
    // Alternating, so drift on a shared machine touches both alike.
    for (let rep = 0; rep < repetitions; rep += 1) {
      withoutMs.push(await measure(false));
      withMs.push(await measure(true));
    }
    const [{ events } = { events: 0 }] = await sql<{ events: number }[]>`
      select count(*)::int as events from cron_alert_delivery`;
    const started = performance.now();
    const egress = createEgressClient({ policy: { allowLoopback: true } });
    await deliverDue(
      { sql, log: silentLog, senders: { egress, email: async () => {}, timeoutMs: 10_000 } },
      { batchSize: 500, concurrency: 32 },
    );
    const deliveryMs = performance.now() - started;
    const [{ delivered } = { delivered: 0 }] = await sql<{ delivered: number }[]>`
      select count(*)::int as delivered from cron_alert_delivery where status = 'delivered'`;
    return {
      jobs,
      concurrency,
      withoutMs,
      withMs,
      withoutCpuUs: median(withoutCpu),
      withCpuUs: median(withCpu),
      ratio: median(withoutMs) / median(withMs),
      events,
      delivered,
      received: receivedIds.size,
      deliveryMs,
    };
  } finally {
    receiver.close();
    await sql`truncate cron_job, cron_alert_destination, cron_alert_delivery cascade`;
    await sql.end();
  }
}

if (process.argv[1]?.endsWith('bench/alerts.ts')) {
  const { startBenchDatabase } = await import('./database');
  const db = await startBenchDatabase();
  try {
    const result = await benchAlerts(db.url);
    const fmt = (list: number[]) => list.map((ms) => ms.toFixed(0)).join(', ');
    console.log(
      [
        `sweep of ${result.jobs} failing jobs, concurrency ${result.concurrency}:`,
        `  without alerts: median ${median(result.withoutMs).toFixed(0)} ms (${fmt(result.withoutMs)})`,
        `  with a destination for all: median ${median(result.withMs).toFixed(0)} ms (${fmt(result.withMs)})`,
        `  CPU per job (Node + PostgreSQL): ${result.withCpuUs.toFixed(0)} µs with, ${result.withoutCpuUs.toFixed(0)} µs without`,
        `  throughput with / without × ${result.ratio.toFixed(3)} (target ≥ × ${ALERTS_MIN_THROUGHPUT_RATIO})`,
        `  events ${result.events}, delivered ${result.delivered}, distinct webhook-ids received ` +
          `${result.received} in ${result.deliveryMs.toFixed(0)} ms ` +
          `(${((result.delivered / result.deliveryMs) * 1000).toFixed(0)}/s)`,
      ].join('\n'),
    );
  } finally {
    await db.stop();
  }
}
