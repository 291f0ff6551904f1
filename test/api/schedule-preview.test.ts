import { beforeEach, describe, expect, it } from 'vitest';
import { sweep } from '../../lib/engine/sweep';
import { builtInExecutors } from '../../lib/executors/built-ins';
import { createRegistry } from '../../lib/executors/registry';
import { nextSlot } from '../../lib/schedule';
import { PREVIEW_DEFAULT_SLOTS, PREVIEW_MAX_SLOTS } from '../../lib/schedule-preview';
import { testExecutors } from '../helpers/jobs';
import { expectProblem, startTestServer } from '../helpers/server';

// The schedule preview (GET /schedules/preview, GET /jobs/{id}/next) through real HTTP: its slots
// are the engine's own across daylight-saving transitions, bad input is a 400 naming the query
// field and changes nothing, and a job's slots are scoped like the job.
const TOKENS = { acme: 'acme-token-0123456789', globex: 'globex-token-0123456789' };
const ADMIN = 'admin-token-0123456789';
const registry = createRegistry([...builtInExecutors, ...testExecutors]);
const server = await startTestServer({
  tokens: `${TOKENS.acme}:alice:acme,${TOKENS.globex}:bob:globex,${ADMIN}:root:*`,
  registry,
});
const { request, snapshot, sql } = server;
const as = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

interface Slot {
  local: string;
  utc: string;
  offset: string;
  dst_transition: null | {
    kind: 'spring_forward' | 'fall_back';
    at: string;
    offset_before: string;
    offset_after: string;
  };
}

beforeEach(async () => {
  await sql`truncate cron_job cascade`;
});

/** The slots the engine fires at: nextSlot iterated from each slot, as the sweep moves next_run. */
function engineSlots(schedule: string, timeZone: string, from: Date, count: number): string[] {
  const slots: string[] = [];
  for (let slot = nextSlot(schedule, timeZone, from); slot && slots.length < count;) {
    slots.push(slot.toISOString());
    slot = nextSlot(schedule, timeZone, slot);
  }
  return slots;
}

async function createJob(token: string, body: Record<string, unknown>): Promise<string> {
  const created = await request('POST', '/api/cron/jobs', {
    body: { name: `job ${Math.random()}`, function_name: 'noop', ...body },
    ...as(token),
  });
  expect(created.status, created.text).toBe(201);
  return created.body.id as string;
}

// 02:30 on Sundays lies in the spring-forward gap of all three zones and in Sydney's repeated
// fall-back hour; 100 weekly slots span about two years, so each zone crosses four transitions.
const SUNDAY_0230 = 'cron:30 2 * * 0';
const ZONES = ['Europe/Berlin', 'America/New_York', 'Australia/Sydney'];

describe('GET /api/cron/schedules/preview', () => {
  it.each(ZONES)(
    'in %s: the engine’s own slots across DST transitions, each transition marked',
    async (zone) => {
      const response = await request(
        'GET',
        `/api/cron/schedules/preview?schedule=${encodeURIComponent(SUNDAY_0230)}&timezone=${encodeURIComponent(zone)}&count=${PREVIEW_MAX_SLOTS}`,
        as(TOKENS.acme),
      );
      expect(response.status, response.text).toBe(200);
      const slots = response.body.slots as Slot[];
      expect(slots).toHaveLength(PREVIEW_MAX_SLOTS);
      const from = new Date(response.body.from);
      expect(slots.map((slot) => slot.utc)).toEqual(
        engineSlots(SUNDAY_0230, zone, from, PREVIEW_MAX_SLOTS),
      );

      const transitions = slots.filter((slot) => slot.dst_transition);
      // Any 100 weeks hold at least one transition each way (three or four in all).
      const kinds = transitions.map((slot) => slot.dst_transition!.kind);
      expect(new Set(kinds)).toEqual(new Set(['spring_forward', 'fall_back']));
      expect(kinds.length).toBeGreaterThanOrEqual(3);
      let previousOffset = slots[0]!.dst_transition?.offset_before ?? slots[0]!.offset;
      for (const slot of slots) {
        // local + offset is the UTC instant, so local time and offset are the zone's.
        const sign = slot.offset.startsWith('-') ? -1 : 1;
        const [hours, minutes] = slot.offset.slice(1).split(':').map(Number);
        const offsetMs = sign * ((hours ?? 0) * 60 + (minutes ?? 0)) * 60_000;
        expect(Date.parse(`${slot.local}Z`) - offsetMs).toBe(Date.parse(slot.utc));
        if (slot.offset === previousOffset) expect(slot.dst_transition).toBeNull();
        else {
          expect(slot.dst_transition).toMatchObject({
            offset_before: previousOffset,
            offset_after: slot.offset,
          });
          const at = Date.parse(slot.dst_transition!.at);
          expect(at).toBeLessThanOrEqual(Date.parse(slot.utc));
        }
        previousOffset = slot.offset;
      }
      // A slot in the spring-forward gap fires when the clocks jump: 03:00, not 02:30.
      const sprung = transitions.find((slot) => slot.dst_transition!.kind === 'spring_forward')!;
      expect(sprung.local.slice(11)).toBe('03:00:00');
      expect(sprung.utc).toBe(sprung.dst_transition!.at);
    },
  );

  it.each(ZONES)(
    'in %s: a sweep at each slot around a transition sets next_run to the next previewed slot',
    async (zone) => {
      const response = await request(
        'GET',
        `/api/cron/schedules/preview?schedule=${encodeURIComponent(SUNDAY_0230)}&timezone=${encodeURIComponent(zone)}&count=${PREVIEW_MAX_SLOTS}`,
        as(ADMIN),
      );
      expect(response.status, response.text).toBe(200);
      const slots = (response.body.slots as Slot[]).map((slot) => slot.utc);
      const around = new Set<number>();
      (response.body.slots as Slot[]).forEach((slot, index) => {
        if (slot.dst_transition && index > 0) [index - 1, index].forEach((i) => around.add(i));
      });
      expect(around.size).toBeGreaterThanOrEqual(4);
      const id = await createJob(ADMIN, { schedule: SUNDAY_0230, timezone: zone, tenant_id: null });
      for (const index of [...around].filter((i) => i + 1 < slots.length)) {
        const slot = new Date(slots[index]!);
        await sql`update cron_job set next_run = ${slot} where id = ${id}`;
        const summary = await sweep({ sql, registry, log: server.app.log }, { now: () => slot });
        expect(summary).toMatchObject({ executed: 1 });
        const [row] = await sql<
          { next_run: Date }[]
        >`select next_run from cron_job where id = ${id}`;
        expect(row!.next_run.toISOString(), `after the slot ${slots[index]}`).toBe(
          slots[index + 1],
        );
      }
    },
  );

  it('defaults to UTC and 10 slots; an at: schedule has one slot, then none', async () => {
    const hourly = await request('GET', '/api/cron/schedules/preview?schedule=hourly', as(ADMIN));
    expect(hourly.status, hourly.text).toBe(200);
    expect(hourly.body.timezone).toBe('UTC');
    expect(hourly.body.slots).toHaveLength(PREVIEW_DEFAULT_SLOTS);
    expect(hourly.body.slots[0]).toMatchObject({ offset: '+00:00', dst_transition: null });

    const once = await request(
      'GET',
      '/api/cron/schedules/preview?schedule=at:2099-07-01T12:00&timezone=Asia/Kolkata&count=5',
      as(ADMIN),
    );
    expect(once.status, once.text).toBe(200);
    expect(once.body.slots).toEqual([
      {
        local: '2099-07-01T12:00:00',
        utc: '2099-07-01T06:30:00.000Z',
        offset: '+05:30',
        dst_transition: null,
        runs_at: '2099-07-01T06:30:00.000Z',
      },
    ]);
    const past = await request(
      'GET',
      '/api/cron/schedules/preview?schedule=at:2001-01-01T00:00',
      as(ADMIN),
    );
    expect(past.status, past.text).toBe(200);
    expect(past.body.slots).toEqual([]);
  });

  it.each([
    ['schedule=every_7_minutes', 'schedule', /every_N_minutes/],
    ['schedule=cron:61 * * * *', 'schedule', /./],
    ['timezone=UTC', 'schedule', /./],
    ['schedule=hourly&timezone=Mars/Olympus', 'timezone', /unknown time zone/],
    ['schedule=hourly&count=0', 'count', /1 to 100/],
    ['schedule=hourly&count=101', 'count', /1 to 100/],
    ['schedule=hourly&count=1e1', 'count', /decimal digits/],
    ['schedule=hourly&limit=5', 'limit', /unknown/],
  ])('?%s is a 400 naming %s, changing nothing', async (query, field, message) => {
    await createJob(ADMIN, { schedule: 'hourly', tenant_id: 'acme' });
    const before = await snapshot();
    const response = await request(
      'GET',
      `/api/cron/schedules/preview?${query.replaceAll(' ', '%20')}`,
      as(TOKENS.acme),
    );
    expectProblem(response, 400);
    const named = (response.body.errors as Array<{ path: string; message: string }>).find(
      (error) => error.path === field,
    );
    expect(named, response.text).toBeDefined();
    expect(named!.message).toMatch(message);
    expect(await snapshot()).toBe(before);
  });
});

describe('GET /api/cron/jobs/{id}/next', () => {
  it('lists the job’s slots as the engine computes them, starting at its stored next_run', async () => {
    const id = await createJob(TOKENS.acme, {
      schedule: SUNDAY_0230,
      timezone: 'America/New_York',
    });
    const response = await request('GET', `/api/cron/jobs/${id}/next?count=60`, as(TOKENS.acme));
    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({
      job_id: id,
      schedule: SUNDAY_0230,
      timezone: 'America/New_York',
      is_active: true,
      paused: false,
      will_run: true,
    });
    const slots = response.body.slots as Slot[];
    expect(slots.map((slot) => slot.utc)).toEqual(
      engineSlots(SUNDAY_0230, 'America/New_York', new Date(response.body.from), 60),
    );
    expect(slots.some((slot) => slot.dst_transition?.kind === 'spring_forward')).toBe(true);
    const [row] = await sql<{ next_run: Date }[]>`select next_run from cron_job where id = ${id}`;
    expect(slots[0]!.utc).toBe(row!.next_run.toISOString());
  });

  it('honours the job’s window and spread: no slot before starts_at or after ends_at; runs_at is slot + the job’s offset, next_run the first', async () => {
    const HOUR = 3_600_000;
    const start = Math.ceil(Date.now() / HOUR) * HOUR + 5 * HOUR;
    const id = await createJob(TOKENS.acme, {
      schedule: 'hourly',
      spread_seconds: 1800,
      starts_at: new Date(start).toISOString(),
      ends_at: new Date(start + 3 * HOUR).toISOString(),
    });
    const response = await request('GET', `/api/cron/jobs/${id}/next?count=10`, as(TOKENS.acme));
    expect(response.status, response.text).toBe(200);
    const slots = response.body.slots as Array<Slot & { runs_at: string }>;
    // starts_at and ends_at are inclusive: 4 slots, none outside.
    expect(slots.map((slot) => slot.utc)).toEqual(
      [0, 1, 2, 3].map((hours) => new Date(start + hours * HOUR).toISOString()),
    );
    const [row] = await sql<{ next_run: Date; offset: number }[]>`
      select next_run, cron_spread_offset_ms(id, 1800) as offset from cron_job where id = ${id}`;
    expect(row!.offset).toBeGreaterThan(0);
    for (const slot of slots) {
      expect(Date.parse(slot.runs_at) - Date.parse(slot.utc)).toBe(row!.offset);
    }
    expect(slots[0]!.runs_at).toBe(row!.next_run.toISOString());
  });

  it('an inactive job still shows its schedule’s slots, with will_run false', async () => {
    const id = await createJob(TOKENS.acme, { schedule: 'daily', is_active: false });
    const response = await request('GET', `/api/cron/jobs/${id}/next`, as(TOKENS.acme));
    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({ is_active: false, will_run: false });
    expect(response.body.slots).toHaveLength(PREVIEW_DEFAULT_SLOTS);
  });

  it('a paused job still shows its schedule’s slots, with paused true and will_run false', async () => {
    const id = await createJob(TOKENS.acme, { schedule: 'hourly' });
    const paused = await request('POST', `/api/cron/jobs/${id}/pause`, {
      body: { reason: 'maintenance' },
      ...as(TOKENS.acme),
    });
    expect(paused.status, paused.text).toBe(200);
    const response = await request('GET', `/api/cron/jobs/${id}/next?count=3`, as(TOKENS.acme));
    expect(response.status, response.text).toBe(200);
    expect(response.body).toMatchObject({ paused: true, paused_until: null, will_run: false });
    expect(response.body.slots.map((slot: Slot) => slot.utc)).toEqual(
      engineSlots('hourly', 'UTC', new Date(response.body.from), 3),
    );
  });

  it('a tenant caller cannot see another tenant’s job’s slots: 404, as for no job at all', async () => {
    const theirs = await createJob(TOKENS.globex, { schedule: 'hourly' });
    const before = await snapshot();
    const response = await request('GET', `/api/cron/jobs/${theirs}/next`, as(TOKENS.acme));
    expectProblem(response, 404);
    expect(response.body.detail).toBe(`no job with id "${theirs}"`);
    expect(response.text).not.toContain('hourly');
    expect(await snapshot()).toBe(before);
    const own = await request('GET', `/api/cron/jobs/${theirs}/next`, as(TOKENS.globex));
    expect(own.status, own.text).toBe(200);
  });

  it('a bad count or an unknown parameter is a 400 naming it, changing nothing', async () => {
    const id = await createJob(TOKENS.acme, { schedule: 'hourly' });
    const before = await snapshot();
    for (const [query, field] of [
      ['count=0', 'count'],
      ['count=abc', 'count'],
      ['count=101', 'count'],
      ['from=2026-01-01', 'from'],
    ] as const) {
      const response = await request('GET', `/api/cron/jobs/${id}/next?${query}`, as(TOKENS.acme));
      expectProblem(response, 400);
      expect(response.body.errors.map((error: { path: string }) => error.path)).toContain(field);
    }
    expect(await snapshot()).toBe(before);
  });
});
