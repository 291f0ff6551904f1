import { Webhook } from 'standardwebhooks';
import { beforeEach, describe, expect, it } from 'vitest';
import { deliverDue } from '../../lib/alerts/delivery';
import type { SenderSettings } from '../../lib/alerts/send';
import { createEgressClient } from '../../lib/egress/http-client';
import { sweep } from '../../lib/engine/sweep';
import { createRegistry } from '../../lib/executors/registry';
import { silentLog } from '../../lib/logger';
import { testExecutors } from '../helpers/jobs';
import { startTestServer } from '../helpers/server';
import { startReceiver } from '../helpers/webhook-receiver';
import { as, createDestination, createRule, TOKEN_CONFIG } from './helpers';

// `slot.missed`: sweeps stop for three hours of a moved clock, a job's slots pass without a run,
// and the claim that records them as one `missed` run writes one event for it, in the same
// statement, which reaches a real receiver on loopback.
const egress = createEgressClient({ policy: { allowLoopback: true } });
const registry = createRegistry(testExecutors);
const server = await startTestServer({
  tokens: TOKEN_CONFIG,
  registry,
  alerts: { egress, allowPlainHttp: true },
});
const { sql, request } = server;
const receiver = await startReceiver();
const senders: SenderSettings = {
  egress,
  email: async () => {},
  timeoutMs: 2_000,
  linkBaseUrl: 'https://cron.example.com',
};
const MINUTE = 60_000;
const at = (hhmm: string) => new Date(`2026-11-28T${hhmm}:00Z`);

let clock: Date;
const now = () => clock;
const sweepAt = (hhmm: string) => {
  clock = at(hhmm);
  return sweep({ sql, registry, log: silentLog }, { now, concurrency: 4 });
};
const deliver = () => deliverDue({ sql, log: silentLog, senders }, { now });

beforeEach(async () => {
  await sql`truncate cron_job, cron_alert_destination, cron_alert_delivery cascade`;
  receiver.clear();
  receiver.behave(() => 204);
});

/** A job of `who`'s tenant, every 15 minutes, created through the API, due at its 00:00 slot. */
async function job(who: 'acme' | 'globex', name: string, body: Record<string, unknown> = {}) {
  const created = await request('POST', '/api/cron/jobs', {
    headers: as(who),
    body: { name, schedule: 'every_15_minutes', function_name: 'noop', ...body },
  });
  expect(created.status, created.text).toBe(201);
  await sql`update cron_job set next_run = ${at('00:00')} where id = ${created.body.id}`;
  return created.body.id as string;
}

interface MissedPayload {
  type: string;
  timestamp: string;
  data: {
    tenant_id: string;
    job: { id: string; name: string };
    run: { id: string; status: string; scheduled_for: string };
    missed: { first: string; last: string; count: number };
    links: Record<string, string>;
  };
}

describe('slot.missed', () => {
  it('sweeps stop for three hours: exactly one delivery for the gap, with the job, its first and last missed slot and the count', async () => {
    const destination = await createDestination(server, 'acme', {
      kind: 'webhook',
      name: 'missed slots',
      url: receiver.url('/missed'),
    });
    const jobId = await job('acme', 'nightly sync');
    await createRule(server, 'acme', {
      destination_id: destination.id,
      job_id: jobId,
      events: ['slot.missed'],
    });

    // On time at first, then no sweep from 00:12 until 03:12: 00:15 … 02:45 pass without a run
    // (catch-up `latest`: the 03:00 slot runs late, the 11 before it are missed).
    for (const time of ['00:02', '00:07', '00:12']) await sweepAt(time);
    expect(await deliver()).toMatchObject({ attempted: 0 });
    await sweepAt('03:12');
    for (const time of ['03:17', '03:22', '03:32']) await sweepAt(time);

    const missedRuns = await sql<{ id: string; scheduled_for: Date; missed_last: Date }[]>`
      select id, scheduled_for, missed_last from cron_job_run
      where job_id = ${jobId} and status = 'missed'`;
    expect(missedRuns).toHaveLength(1);
    // Written by the claim's statement, at the claim's time, naming the missed run.
    const outbox = await sql<{ run_id: string; event_type: string; created_at: Date }[]>`
      select run_id, event_type, created_at from cron_alert_delivery`;
    expect(outbox).toEqual([
      { run_id: missedRuns[0]!.id, event_type: 'slot.missed', created_at: at('03:12') },
    ]);

    expect(await deliver()).toEqual({ attempted: 1, delivered: 1, retrying: 0, failed: 0 });
    expect(receiver.received).toHaveLength(1);
    const [hit] = receiver.received;
    const payload = new Webhook(destination.secret!).verify(
      hit!.body,
      hit!.headers as Record<string, string>,
    ) as MissedPayload;
    expect(payload).toMatchObject({
      type: 'slot.missed',
      timestamp: at('03:12').toISOString(),
      data: {
        tenant_id: 'acme',
        job: { id: jobId, name: 'nightly sync' },
        run: { id: missedRuns[0]!.id, status: 'missed' },
        missed: { count: 11 },
        links: { job: `https://cron.example.com/api/cron/jobs/${jobId}` },
      },
    });
    expect(new Date(payload.data.missed.first)).toEqual(at('00:15'));
    expect(new Date(payload.data.missed.last)).toEqual(at('02:45'));

    // Later on-time sweeps miss nothing: nothing more is sent.
    clock = new Date(clock.getTime() + MINUTE);
    expect(await deliver()).toMatchObject({ attempted: 0 });
    const [logged] = (
      await request('GET', '/api/cron/alerts/deliveries?event_type=slot.missed', {
        headers: as('acme'),
      })
    ).body.deliveries as Array<{ status: string; job_id: string }>;
    expect(logged).toMatchObject({ status: 'delivered', job_id: jobId });
  });

  it('every policy’s missed gap is one event; a rule without slot.missed, another tenant’s rule and a disabled rule send nothing', async () => {
    const acmeHook = await createDestination(server, 'acme', {
      kind: 'webhook',
      name: 'acme all jobs',
      url: receiver.url('/acme'),
    });
    const globexHook = await createDestination(server, 'globex', {
      kind: 'webhook',
      name: 'globex all jobs',
      url: receiver.url('/globex'),
    });
    const skip = await job('acme', 'skip', { catch_up: 'skip', catch_up_window_seconds: 600 });
    const all = await job('acme', 'all', { catch_up: 'all', catch_up_window_seconds: 3600 });
    const latest = await job('acme', 'latest');
    // For every acme job: slot.missed. Globex's own rules never see acme's jobs.
    await createRule(server, 'acme', { destination_id: acmeHook.id, events: ['slot.missed'] });
    await createRule(server, 'globex', {
      destination_id: globexHook.id,
      events: ['slot.missed', 'run.failed'],
    });
    const failuresOnly = await createDestination(server, 'acme', {
      kind: 'webhook',
      name: 'failures only',
      url: receiver.url('/failures'),
    });
    await createRule(server, 'acme', { destination_id: failuresOnly.id, events: ['run.failed'] });
    const disabled = await createDestination(server, 'acme', {
      kind: 'webhook',
      name: 'disabled rule',
      url: receiver.url('/disabled'),
    });
    await createRule(server, 'acme', {
      destination_id: disabled.id,
      events: ['slot.missed'],
      enabled: false,
    });

    await sweepAt('00:02');
    for (let minute = 0; minute <= 30; minute += 5) {
      await sweepAt(`03:${String(12 + minute).padStart(2, '0')}`);
    }
    expect((await deliver()).delivered).toBe(3);

    const gaps = await sql<
      { job_id: string; scheduled_for: Date; missed_last: Date; missed_count: number }[]
    >`select job_id, scheduled_for, missed_last, missed_count from cron_job_run
      where status = 'missed' order by job_id`;
    const received = receiver.received.map((r) => ({
      path: r.path,
      ...(JSON.parse(r.body) as MissedPayload),
    }));
    expect(received.every((r) => r.path === '/acme' && r.type === 'slot.missed')).toBe(true);
    // One event per missed run, each carrying that run's gap.
    expect(
      received
        .map((r) => ({
          job_id: r.data.job.id,
          scheduled_for: new Date(r.data.missed.first),
          missed_last: new Date(r.data.missed.last),
          missed_count: r.data.missed.count,
        }))
        .sort((a, b) => a.job_id.localeCompare(b.job_id)),
    ).toEqual(gaps);
    expect(new Set(received.map((r) => r.data.job.id))).toEqual(new Set([skip, all, latest]));
    const byJob = Object.fromEntries(gaps.map((gap) => [gap.job_id, gap.missed_count]));
    // skip: 00:15 … 03:00 (12); latest: 00:15 … 02:45 (11); all (1 h window): 00:15 … 02:00 (8).
    expect([byJob[skip], byJob[latest], byJob[all]]).toEqual([12, 11, 8]);
  });
});
