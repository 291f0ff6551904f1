import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deliverDue } from '../../lib/alerts/delivery';
import type { SenderSettings } from '../../lib/alerts/send';
import { createEgressClient } from '../../lib/egress/http-client';
import { sweep, type SweepSummary } from '../../lib/engine/sweep';
import { createRegistry } from '../../lib/executors/registry';
import { silentLog } from '../../lib/logger';
import { insertJobs, testExecutors } from '../helpers/jobs';
import { startTestServer } from '../helpers/server';
import { startReceiver } from '../helpers/webhook-receiver';
import { createDestination, createRule, TOKEN_CONFIG } from './helpers';

// A receiver that is down for the first 10 minutes of a moved clock, 30 failing jobs every
// 5 minutes, two delivery workers once a minute: every event arrives afterwards, exactly once by
// webhook-id, and the sweeps neither wait for deliveries nor make a network call.
const egress = createEgressClient({ policy: { allowLoopback: true } });
const registry = createRegistry(testExecutors);
const server = await startTestServer({
  tokens: TOKEN_CONFIG,
  registry,
  alerts: { egress, allowPlainHttp: true },
});
const { sql } = server;
const receiver = await startReceiver();
const senders: SenderSettings = { egress, email: async () => {}, timeoutMs: 60_000 };
const JOBS = 30;

/** HTTP requests this process starts while `work` runs. */
async function outboundRequestsDuring<T>(work: () => Promise<T>): Promise<[T, number]> {
  let requests = 0;
  const count = () => void (requests += 1);
  subscribe('http.client.request.start', count);
  try {
    return [await work(), requests];
  } finally {
    unsubscribe('http.client.request.start', count);
  }
}

describe('receiver down for the first 10 minutes', () => {
  it('every event arrives afterwards exactly once by id; no sweep made a call or waited for one', async () => {
    let clock = new Date('2026-11-28T10:00:00Z');
    const now = () => clock;
    const destination = await createDestination(server, 'acme', {
      kind: 'webhook',
      name: 'sometimes down',
      url: receiver.url(),
    });
    await createRule(server, 'acme', {
      destination_id: destination.id,
      events: ['run.failed'],
    });
    await insertJobs(sql, JOBS, {
      function_name: 'fail',
      tenant_id: 'acme',
      next_run: new Date(clock.getTime() - 1_000),
    });
    await receiver.down();

    const sweeps: SweepSummary[] = [];
    for (let minute = 0; minute <= 30; minute += 1) {
      if (minute === 10) await receiver.up();
      if (minute % 5 === 0) {
        const [summary, calls] = await outboundRequestsDuring(() =>
          sweep({ sql, registry, log: silentLog }, { now, concurrency: 4 }),
        );
        expect(calls, `sweep at minute ${minute}`).toBe(0);
        sweeps.push(summary);
      }
      clock = new Date(clock.getTime() + 30_000);
      const workers = () => deliverDue({ sql, log: silentLog, senders }, { now, batchSize: 25 });
      await Promise.all([workers(), workers()]);
      clock = new Date(clock.getTime() + 30_000);
    }
    // Then until nothing is pending (the last backoffs are minutes long).
    for (let round = 0; round < 20; round += 1) {
      const [{ pending } = { pending: 0 }] = await sql<{ pending: number }[]>`
        select count(*)::int as pending from cron_alert_delivery where status = 'pending'`;
      if (pending === 0) break;
      clock = new Date(clock.getTime() + 30 * 60_000);
      await deliverDue({ sql, log: silentLog, senders }, { now });
    }

    expect(sweeps.map((s) => s.failed)).toEqual(Array(7).fill(JOBS));
    const deliveries = await sql<{ id: string; status: string; attempts: number }[]>`
      select id, status, attempts from cron_alert_delivery`;
    expect(deliveries).toHaveLength(7 * JOBS);
    expect(deliveries.every((d) => d.status === 'delivered')).toBe(true);
    // Those of the first two sweeps were tried while the receiver was down, and retried.
    expect(deliveries.filter((d) => d.attempts > 1).length).toBeGreaterThanOrEqual(2 * JOBS);
    const accepted = receiver.accepted().map((r) => String(r.headers['webhook-id']));
    expect(accepted.sort()).toEqual(deliveries.map((d) => `msg_${d.id}`).sort());
  });

  it('a sweep finishes while a delivery hangs on an unresponsive receiver', async () => {
    const clock = new Date('2026-11-29T10:00:00Z');
    const now = () => clock;
    await sql`truncate cron_job, cron_alert_destination, cron_alert_delivery cascade`;
    receiver.behave(() => 'hang');
    const destination = await createDestination(server, 'acme', {
      kind: 'webhook',
      name: 'hangs',
      url: receiver.url('/hang'),
    });
    await createRule(server, 'acme', { destination_id: destination.id, events: ['run.failed'] });
    await sql`insert into cron_alert_delivery (event_id, event_type, destination_id, tenant_id,
      payload, next_attempt_at, created_at)
      values (gen_random_uuid(), 'alert.test', ${destination.id}, 'acme',
        ${sql.json({ test: true, job: null, run: null })}, ${clock}, ${clock})`;
    await insertJobs(sql, 5, { function_name: 'fail', tenant_id: 'acme', next_run: clock });
    let settled = false;
    const hanging = deliverDue({ sql, log: silentLog, senders }, { now }).finally(() => {
      settled = true;
    });
    await expect.poll(() => receiver.received.some((r) => r.path === '/hang')).toBe(true);
    const summary = await sweep({ sql, registry, log: silentLog }, { now, concurrency: 4 });
    expect(summary.failed).toBe(5);
    expect(settled, 'the delivery is still waiting for its receiver').toBe(false);
    await receiver.down();
    expect(await hanging).toMatchObject({ attempted: 1, retrying: 1 });
  });

  it('the sweep’s code does not reach the delivery side (no import path from lib/engine/sweep.ts)', () => {
    const root = resolve(__dirname, '../..');
    const seen = new Set<string>();
    const pending = [join(root, 'lib/engine/sweep.ts')];
    for (let file = pending.pop(); file; file = pending.pop()) {
      if (seen.has(file)) continue;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      for (const [, target] of source.matchAll(/from '(\.[^']+)'/g)) {
        pending.push(`${resolve(dirname(file), target!)}.ts`.replace(/\.ts\.ts$/, '.ts'));
      }
    }
    const reached = [...seen].map((file) => relative(root, file));
    expect(reached).toContain('lib/engine/run-state.ts');
    expect(reached).toContain('lib/alerts/outbox.ts');
    for (const file of [
      'lib/alerts/delivery.ts',
      'lib/alerts/send.ts',
      'lib/egress/http-client.ts',
    ]) {
      expect(reached).not.toContain(file);
    }
  });
});
