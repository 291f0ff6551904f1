import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { beforeEach, describe, expect, it } from 'vitest';
import { alertReceiver } from '../../examples/alert-receiver';
import { deliverDue } from '../../lib/alerts/delivery';
import type { SenderSettings } from '../../lib/alerts/send';
import { createEgressClient } from '../../lib/egress/http-client';
import { sweep } from '../../lib/engine/sweep';
import { createRegistry } from '../../lib/executors/registry';
import { insertJob, testExecutors } from '../helpers/jobs';
import { capturingLog } from '../helpers/log';
import { startTestServer } from '../helpers/server';
import { startReceiver } from '../helpers/webhook-receiver';
import { as, createDestination, createRule, TOKEN_CONFIG } from './helpers';

// Alerts end to end on real PostgreSQL and a real HTTP receiver on loopback: the sweep writes the
// outbox, deliverDue sends it, on a clock the test moves.
const { log: captureLog, lines: logged } = capturingLog();
const egress = createEgressClient({ policy: { allowLoopback: true } });
const registry = createRegistry(testExecutors);
const server = await startTestServer({
  tokens: TOKEN_CONFIG,
  registry,
  log: captureLog,
  alerts: { egress, allowPlainHttp: true },
});
const { sql, request } = server;
const receiver = await startReceiver();
const emails: Array<{ to: string; subject: string; text: string }> = [];
const senders: SenderSettings = {
  egress,
  email: async (message) => void emails.push(message),
  timeoutMs: 300,
  linkBaseUrl: 'https://cron.example.com',
};

let clock: Date;
const now = () => clock;
const advance = (ms: number) => (clock = new Date(clock.getTime() + ms));
// A sweep, then a second on: its runs end (and their events happen) a few ms after it started.
const runSweep = async () => {
  const summary = await sweep({ sql, registry, log: captureLog }, { now, concurrency: 4 });
  advance(1_000);
  return summary;
};
const deliver = () => deliverDue({ sql, log: captureLog, senders }, { now });

beforeEach(async () => {
  await sql`truncate cron_job, cron_alert_destination, cron_alert_delivery cascade`;
  clock = new Date('2026-11-28T10:00:30Z');
  receiver.clear();
  receiver.behave(() => 204);
  emails.length = 0;
});

/** An acme webhook destination pointing at the receiver. */
const webhook = (name: string, path = '/hook') =>
  createDestination(server, 'acme', { kind: 'webhook', name, url: receiver.url(path) });

/** A job of acme (or `tenant`) that runs executor `fn` every 5 minutes, due now. */
const job = (fn = 'fail', fixture: Parameters<typeof insertJob>[1] = {}) =>
  insertJob(sql, {
    function_name: fn,
    tenant_id: 'acme',
    next_run: new Date(clock.getTime() - 30_000),
    ...fixture,
  });

/** The next slot of every job: five minutes on, then a sweep. */
const nextSlot = async () => {
  advance(5 * 60_000);
  return runSweep();
};

const deliveries = async (who: 'acme' | 'globex' | 'admin', query = '') => {
  const response = await request('GET', `/api/cron/alerts/deliveries${query}`, {
    headers: as(who),
  });
  expect(response.status, response.text).toBe(200);
  return response.body.deliveries as Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
};

const eventTypes = (path = '/hook') =>
  receiver.received
    .filter((r) => r.path === path)
    .map((r) => (JSON.parse(r.body) as { type: string }).type);

describe('webhook destinations', () => {
  it('a failed run reaches the receiver signed per Standard Webhooks, as the standardwebhooks verifier checks', async () => {
    const destination = await webhook('ops hook');
    expect(destination.secret).toMatch(/^whsec_/);
    const jobId = await job();
    await createRule(server, 'acme', {
      destination_id: destination.id,
      job_id: jobId,
      events: ['run.failed'],
    });

    const summary = await runSweep();
    expect(summary.failed).toBe(1);
    // The sweep only wrote the outbox: nothing was sent while it ran.
    expect(receiver.received).toHaveLength(0);
    const [pending] = await deliveries('acme', '?status=pending');
    expect(pending).toMatchObject({ event_type: 'run.failed', attempts: 0, job_id: jobId });

    expect(await deliver()).toEqual({ attempted: 1, delivered: 1, retrying: 0, failed: 0 });
    const [hit] = receiver.received;
    const payload = new Webhook(destination.secret!).verify(hit!.body, {
      'webhook-id': String(hit!.headers['webhook-id']),
      'webhook-timestamp': String(hit!.headers['webhook-timestamp']),
      'webhook-signature': String(hit!.headers['webhook-signature']),
    }) as { type: string; data: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(payload.type).toBe('run.failed');
    expect(payload.data).toMatchObject({
      tenant_id: 'acme',
      job: { id: jobId, tenant_id: 'acme', function_name: 'fail' },
      run: { status: 'error', error: 'boom', attempt: 1 },
      consecutive_failures: 1,
      links: { job: `https://cron.example.com/api/cron/jobs/${jobId}` },
    });
    expect(hit!.headers['webhook-id']).toBe(`msg_${pending!.id}`);
    // Another secret does not verify.
    const other = await webhook('other hook', '/other');
    expect(() =>
      new Webhook(other.secret!).verify(hit!.body, {
        'webhook-id': String(hit!.headers['webhook-id']),
        'webhook-timestamp': String(hit!.headers['webhook-timestamp']),
        'webhook-signature': String(hit!.headers['webhook-signature']),
      }),
    ).toThrow();

    const [delivered] = await deliveries('acme', '?status=delivered');
    expect(delivered).toMatchObject({
      id: pending!.id,
      webhook_id: `msg_${pending!.id}`,
      status: 'delivered',
      attempts: 1,
      last_status_code: 204,
      next_attempt_at: null,
    });
    expect(delivered!.attempt_log).toEqual([
      expect.objectContaining({ status_code: 204, error: null, latency_ms: expect.any(Number) }),
    ]);
    expect(await deliveries('acme', '?status=pending')).toEqual([]);
  });

  it('retries after a 500 and after a timeout with the same webhook-id, backing off exponentially', async () => {
    const destination = await webhook('flaky receiver');
    await createRule(server, 'acme', { destination_id: destination.id, events: ['run.failed'] });
    await job();
    await runSweep();
    const answers: Array<number | 'hang'> = [500, 'hang', 200];
    receiver.behave(() => answers.shift() ?? 200);

    expect(await deliver()).toMatchObject({ attempted: 1, retrying: 1 });
    // Not due again until the backoff has passed.
    advance(29_000);
    expect(await deliver()).toMatchObject({ attempted: 0 });
    advance(1_000);
    expect(await deliver()).toMatchObject({ attempted: 1, retrying: 1 });
    advance(59_000);
    expect(await deliver()).toMatchObject({ attempted: 0 });
    advance(1_000);
    expect(await deliver()).toMatchObject({ attempted: 1, delivered: 1 });

    const ids = receiver.received.map((r) => r.headers['webhook-id']);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
    for (const hit of receiver.received) {
      expect(() =>
        new Webhook(destination.secret!).verify(hit.body, hit.headers as Record<string, string>),
      ).not.toThrow();
    }
    const [delivery] = await deliveries('acme');
    expect(delivery!.attempt_log.map((a: { status_code: number | null }) => a.status_code)).toEqual(
      [500, null, 200],
    );
    expect(delivery!.attempt_log[1].error).toMatch(/no response .* within 300 ms/);
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 3, last_status_code: 200 });
  });

  it('gives up after 24 hours of retries, marks the destination failing, and a later success makes it active again', async () => {
    const destination = await webhook('dead receiver');
    await createRule(server, 'acme', { destination_id: destination.id, events: ['run.failed'] });
    const jobId = await job();
    await runSweep();
    const eventAt = clock.getTime();
    receiver.behave(() => 503);
    let status = 'pending';
    for (let round = 0; round < 40 && status === 'pending'; round += 1) {
      await deliver();
      const [row] = await sql<{ status: string; next_attempt_at: Date }[]>`
        select status, next_attempt_at from cron_alert_delivery`;
      status = row!.status;
      clock = row!.next_attempt_at;
    }
    const [given] = await deliveries('acme');
    expect(given).toMatchObject({ status: 'failed', next_attempt_at: null, last_status_code: 503 });
    const times = given!.attempt_log.map((a: { at: string }) => new Date(a.at).getTime() - eventAt);
    expect(times.at(-1)).toBeLessThanOrEqual(24 * 3600_000);
    expect(times.at(-1)).toBeGreaterThan(20 * 3600_000);
    // Gaps double from 30 s up to 4 h.
    const gaps = times.slice(1).map((t: number, i: number) => t - times[i]!);
    expect(gaps.slice(0, 4)).toEqual([30_000, 60_000, 120_000, 240_000]);
    expect(Math.max(...gaps)).toBe(4 * 3600_000);
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(1);

    const failing = await request('GET', `/api/cron/alerts/destinations/${destination.id}`, {
      headers: as('acme'),
    });
    expect(failing.body).toMatchObject({
      status: 'failing',
      last_error: expect.stringMatching(/503/),
    });

    receiver.behave(() => 200);
    await sql`update cron_job set next_run = ${clock} where id = ${jobId}`;
    await runSweep();
    await deliver();
    const healthy = await request('GET', `/api/cron/alerts/destinations/${destination.id}`, {
      headers: as('acme'),
    });
    expect(healthy.body).toMatchObject({ status: 'active', last_error: null });
  });
});

describe('rules', () => {
  it('job.recovered follows failures, and after_consecutive_failures keeps a rule quiet until the count is reached', async () => {
    const eager = await webhook('eager', '/eager');
    const patient = await webhook('patient', '/patient');
    const jobId = await job();
    const events = ['run.failed', 'job.recovered'];
    await createRule(server, 'acme', { destination_id: eager.id, job_id: jobId, events });
    await createRule(server, 'acme', {
      destination_id: patient.id,
      job_id: jobId,
      events,
      after_consecutive_failures: 3,
    });
    const fn = (name: string) =>
      sql`update cron_job set function_name = ${name} where id = ${jobId}`;

    // Two failed slots, then a success: the eager rule hears all three, the patient one nothing.
    await runSweep();
    await nextSlot();
    await fn('noop');
    await nextSlot();
    await nextSlot(); // a second success is not a recovery
    await deliver();
    expect(eventTypes('/eager')).toEqual(['run.failed', 'run.failed', 'job.recovered']);
    expect(eventTypes('/patient')).toEqual([]);

    // Three failed slots, then a success: now the patient rule hears the third and the recovery.
    receiver.clear();
    await fn('fail');
    await nextSlot();
    await nextSlot();
    await nextSlot();
    await fn('noop');
    await nextSlot();
    await deliver();
    expect(eventTypes('/patient')).toEqual(['run.failed', 'job.recovered']);
    const bodies = receiver.received
      .filter((r) => r.path === '/patient')
      .map((r) => JSON.parse(r.body) as { data: { consecutive_failures: number } });
    expect(bodies.map((b) => b.data.consecutive_failures)).toEqual([3, 3]);
    expect(eventTypes('/eager')).toEqual([
      'run.failed',
      'run.failed',
      'run.failed',
      'job.recovered',
    ]);
  });

  it('a failed attempt with a retry left alerts no one; the slot’s last attempt does, and an auto-pause is an event', async () => {
    const destination = await webhook('hook');
    await createRule(server, 'acme', {
      destination_id: destination.id,
      events: ['run.failed', 'job.auto_paused'],
    });
    await job('fail', {
      retry: { max_attempts: 2, initial_delay_seconds: 1, max_delay_seconds: 1 },
      pause_after_failures: 1,
    });
    await runSweep();
    await deliver();
    expect(eventTypes()).toEqual([]);
    advance(2_000);
    await runSweep();
    await deliver();
    expect(eventTypes().sort()).toEqual(['job.auto_paused', 'run.failed']);
  });

  it('a lost run is run.lost; every job of the tenant is covered by a rule without job_id, no other tenant’s', async () => {
    const destination = await webhook('hook');
    await createRule(server, 'acme', {
      destination_id: destination.id,
      events: ['run.lost', 'run.failed'],
    });
    const jobId = await job('noop', { next_run: new Date(clock.getTime() + 3600_000) });
    await job('fail', { tenant_id: 'globex' });
    await sql`insert into cron_job_run (job_id, trigger, status, started_at, deadline)
      values (${jobId}, 'manual', 'running', ${new Date(clock.getTime() - 120_000)}, ${new Date(clock.getTime() - 60_000)})`;
    await runSweep();
    await deliver();
    expect(eventTypes()).toEqual(['run.lost']);
  });

  it('slack gets a readable message with job, tenant, error and links; email goes to the e-mail sender', async () => {
    const slack = await createDestination(server, 'acme', {
      kind: 'slack',
      name: 'team channel',
      url: receiver.url('/services/T000/B000/secretpart'),
    });
    expect(slack.secret).toBeUndefined();
    const shown = await request('GET', `/api/cron/alerts/destinations/${slack.id}`, {
      headers: as('acme'),
    });
    expect(shown.body.url).not.toContain('secretpart');
    const mail = await createDestination(server, 'acme', {
      kind: 'email',
      name: 'on-call',
      email: 'oncall@example.com',
    });
    const jobId = await job('fail', { name: 'nightly sync' });
    for (const id of [slack.id, mail.id]) {
      await createRule(server, 'acme', {
        destination_id: id,
        job_id: jobId,
        events: ['run.failed'],
      });
    }
    await runSweep();
    await deliver();
    const [posted] = receiver.received;
    const { text } = JSON.parse(posted!.body) as { text: string };
    expect(text).toContain('nightly sync 1');
    expect(text).toContain('tenant acme');
    expect(text).toContain('Error: boom');
    expect(text).toContain(`<https://cron.example.com/api/cron/jobs/${jobId}|Job>`);
    expect(text).toMatch(/\/runs\/[0-9a-f-]{36}\/log\|Run log>/);
    expect(posted!.headers['webhook-signature']).toBeUndefined();
    expect(emails).toEqual([
      expect.objectContaining({
        to: 'oncall@example.com',
        subject: expect.stringContaining('nightly sync 1'),
        text: expect.stringContaining('Error: boom'),
      }),
    ]);
  });

  it('test-send queues an alert.test delivery to the destination, whatever its rules', async () => {
    const destination = await webhook('hook');
    const queued = await request('POST', `/api/cron/alerts/destinations/${destination.id}/test`, {
      headers: as('acme'),
    });
    expect(queued.status, queued.text).toBe(202);
    expect(queued.body.delivery).toMatchObject({ status: 'pending', event_type: 'alert.test' });
    await deliverDue({ sql, log: captureLog, senders });
    expect(eventTypes()).toEqual(['alert.test']);
    const [delivery] = await deliveries('acme', `?destination_id=${destination.id}`);
    expect(delivery).toMatchObject({ status: 'delivered', last_status_code: 204 });
  });
});

describe('secrets', () => {
  it('are shown once, never returned or logged again; a rotated secret signs from then on', async () => {
    const created = await webhook('hook');
    const first = created.secret!;
    const read = await request('GET', `/api/cron/alerts/destinations/${created.id}`, {
      headers: as('acme'),
    });
    const list = await request('GET', '/api/cron/alerts/destinations', { headers: as('acme') });
    const rotated = await request('PUT', `/api/cron/alerts/destinations/${created.id}`, {
      body: { rotate_secret: true },
      headers: as('acme'),
    });
    expect(rotated.status, rotated.text).toBe(200);
    const second = rotated.body.secret as string;
    expect(second).toMatch(/^whsec_/);
    expect(second).not.toBe(first);
    const after = await request('GET', `/api/cron/alerts/destinations/${created.id}`, {
      headers: as('acme'),
    });
    for (const response of [read, list, after]) {
      expect(response.text).not.toContain(first);
      expect(response.text).not.toContain(second);
      expect(response.text).not.toContain('secret');
    }
    await createRule(server, 'acme', { destination_id: created.id, events: ['run.failed'] });
    await job();
    await runSweep();
    await deliver();
    const [hit] = receiver.received;
    const headers = hit!.headers as Record<string, string>;
    expect(() => new Webhook(second).verify(hit!.body, headers)).not.toThrow();
    expect(() => new Webhook(first).verify(hit!.body, headers)).toThrow();
    const everything = JSON.stringify(logged);
    expect(everything).not.toContain(first.slice(6));
    expect(everything).not.toContain(second.slice(6));
  });
});

describe('the README receiver (examples/alert-receiver.ts)', () => {
  it('accepts signed alerts once per webhook-id and refuses other secrets', async () => {
    const destination = await webhook('readme receiver', '/unused');
    const events: string[] = [];
    const readme = alertReceiver(destination.secret!, (event) => void events.push(event.type));
    await new Promise<void>((resolve) => readme.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(readme.address() as AddressInfo).port}/alerts`;
    try {
      await request('PUT', `/api/cron/alerts/destinations/${destination.id}`, {
        body: { url },
        headers: as('acme'),
      });
      await createRule(server, 'acme', { destination_id: destination.id, events: ['run.failed'] });
      await job();
      await runSweep();
      await deliver();
      expect(events).toEqual(['run.failed']);
      const [row] = await sql<
        { id: string; payload: unknown }[]
      >`select id from cron_alert_delivery`;
      // The same delivery again (a retry after a lost answer): accepted, not handled twice.
      await sql`update cron_alert_delivery set status = 'pending', next_attempt_at = ${clock}
        where id = ${row!.id}`;
      await deliver();
      expect(events).toEqual(['run.failed']);
      // Signed with another secret: refused.
      await request('PUT', `/api/cron/alerts/destinations/${destination.id}`, {
        body: { rotate_secret: true },
        headers: as('acme'),
      });
      await sql`update cron_alert_delivery set status = 'pending', next_attempt_at = ${clock}
        where id = ${row!.id}`;
      await deliver();
      const [refused] = await deliveries('acme');
      expect(refused).toMatchObject({ status: 'pending', last_status_code: 400 });
    } finally {
      readme.close();
    }
  });
});
