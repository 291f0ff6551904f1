import { beforeEach, describe, expect, it } from 'vitest';
import { builtInExecutors } from '../../lib/executors/built-ins';
import { createRegistry } from '../../lib/executors/registry';
import { BACKFILL_MAX_SLOTS } from '../../lib/jobs/backfill';
import { testExecutors } from '../helpers/jobs';
import { errorPaths, expectProblem, startTestServer, type TestResponse } from '../helpers/server';

// POST /api/cron/jobs/{id}/backfill (issue #13 item 3): the acceptance test (24 hourly slots: a dry
// run lists 24, the backfill runs each exactly once through the sweep, a second backfill adds
// nothing), missed slots are backfillable and ran ones are not, and every refusal is a 400 or 404
// naming the problem that changes nothing.

const TOKENS = {
  acme: 'acme-token-0123456789',
  globex: 'globex-token-0123456789',
  admin: 'admin-token-0123456789',
};
const server = await startTestServer({
  tokens: `${TOKENS.acme}:alice:acme,${TOKENS.globex}:bob:globex,${TOKENS.admin}:root:*`,
  registry: createRegistry([...builtInExecutors, ...testExecutors]),
});
const { request, snapshot, sql } = server;
const as = (who: keyof typeof TOKENS) => ({ authorization: `Bearer ${TOKENS[who]}` });

const HOUR = 3_600_000;
// The last whole hour: the 24 hourly slots before it are all in the past.
const thisHour = () => new Date(Math.floor(Date.now() / HOUR) * HOUR);
const iso = (ms: number) => new Date(ms).toISOString();

beforeEach(async () => {
  await sql`truncate cron_job cascade`;
});

async function createJob(
  who: keyof typeof TOKENS,
  schedule: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const response = await request('POST', '/api/cron/jobs', {
    body: { name: `job ${schedule}`, schedule, function_name: 'noop', ...extra },
    headers: as(who),
  });
  expect(response.status, response.text).toBe(201);
  return response.body.id as string;
}

function backfill(who: keyof typeof TOKENS, id: string, body: Record<string, unknown>) {
  return request('POST', `/api/cron/jobs/${id}/backfill`, { body, headers: as(who) });
}

async function sweepNow(): Promise<void> {
  const response = await request('POST', '/api/cron/run', { headers: as('admin') });
  expect(response.status, response.text).toBe(200);
}

async function runsOf(id: string) {
  return sql<{ scheduled_for: Date; trigger: string; status: string; started_at: Date }[]>`
    select scheduled_for, trigger, status, started_at from cron_job_run
    where job_id = ${id} order by scheduled_for, attempt`;
}

async function queueAndAudit(): Promise<string> {
  const queue = await sql`select job_id, scheduled_for from cron_job_backfill order by 1, 2`;
  const audit = await sql`select job_id, action, changes from cron_job_audit
    where action = 'backfill' order by at`;
  return JSON.stringify({ queue, audit });
}

describe('POST /jobs/{id}/backfill', () => {
  it('24 hourly slots: a dry run lists 24 and changes nothing; the backfill runs each once through the sweep; again adds nothing', async () => {
    const id = await createJob('acme', 'hourly');
    const to = thisHour().getTime();
    const from = to - 24 * HOUR;
    const expected = Array.from({ length: 24 }, (_, index) => iso(from + index * HOUR));

    const before = await snapshot();
    const queueBefore = await queueAndAudit();
    const dry = await backfill('acme', id, { from: iso(from), to: iso(to), dry_run: true });
    expect(dry.status, dry.text).toBe(200);
    expect(dry.body).toMatchObject({
      job_id: id,
      dry_run: true,
      slots: expected,
      already_run: [],
      already_queued: [],
      will_run: true,
    });
    expect(await snapshot()).toBe(before);
    expect(await queueAndAudit()).toBe(queueBefore);

    const queued = await backfill('acme', id, { from: iso(from), to: iso(to) });
    expect(queued.status, queued.text).toBe(202);
    expect(queued.body).toMatchObject({ dry_run: false, slots: expected, already_run: [] });
    const [entry] = await sql<{ actor: string; changes: unknown }[]>`
      select actor, changes from cron_job_audit where job_id = ${id} and action = 'backfill'`;
    expect(entry).toEqual({
      actor: 'alice',
      changes: { backfill: { after: { from: iso(from), to: iso(to), slots: 24 } } },
    });
    // Queued, not run: the API function runs nothing.
    expect(await runsOf(id)).toEqual([]);

    await sweepNow();
    const runs = await runsOf(id);
    expect(runs.map((run) => run.scheduled_for.toISOString())).toEqual(expected);
    expect(runs.every((run) => run.trigger === 'backfill' && run.status === 'success')).toBe(true);
    // Oldest first, one after the other: sorted by slot, their starts never go back.
    for (let index = 1; index < runs.length; index += 1) {
      expect(runs[index]!.started_at.getTime()).toBeGreaterThanOrEqual(
        runs[index - 1]!.started_at.getTime(),
      );
    }
    expect(await sql`select * from cron_job_backfill`).toEqual([]);
    const [job] = await sql<{ metadata: { execution_count: number } }[]>`
      select metadata from cron_job where id = ${id}`;
    expect(job!.metadata.execution_count).toBe(24);

    const again = await backfill('acme', id, { from: iso(from), to: iso(to) });
    expect(again.status, again.text).toBe(202);
    expect(again.body).toMatchObject({ slots: [], already_run: expected, already_queued: [] });
    await sweepNow();
    expect(await runsOf(id)).toHaveLength(24);
    const audits =
      await sql`select from cron_job_audit where job_id = ${id} and action = 'backfill'`;
    expect(audits).toHaveLength(1);
  });

  it('a missed slot is backfilled (as the next attempt of its slot); a slot that ran is not; a queued one is not queued twice', async () => {
    const id = await createJob('acme', 'hourly');
    const to = thisHour().getTime();
    const from = to - 6 * HOUR;
    // Slot 0 ran (error: a failure is a run too), slots 1-3 are one missed gap, slot 4 was
    // skipped by the overlap rule, slot 5 has no run at all.
    await sql`
      insert into cron_job_run (job_id, scheduled_for, trigger, status, finished_at, error)
      values (${id}, ${iso(from)}, 'schedule', 'error', now(), 'boom')`;
    await sql`
      insert into cron_job_run (job_id, scheduled_for, trigger, status, finished_at, duration_ms,
        missed_count, missed_last)
      values (${id}, ${iso(from + HOUR)}, 'schedule', 'missed', now(), 0, 3, ${iso(from + 3 * HOUR)})`;
    await sql`
      insert into cron_job_run (job_id, scheduled_for, trigger, status, finished_at, duration_ms)
      values (${id}, ${iso(from + 4 * HOUR)}, 'schedule', 'skipped', now(), 0)`;
    const open = [1, 2, 3, 4, 5].map((index) => iso(from + index * HOUR));

    const first = await backfill('acme', id, { from: iso(from), to: iso(from + 3 * HOUR) });
    expect(first.status, first.text).toBe(202);
    expect(first.body).toMatchObject({ slots: open.slice(0, 2), already_run: [iso(from)] });
    const second = await backfill('acme', id, { from: iso(from), to: iso(to), dry_run: true });
    expect(second.body).toMatchObject({
      slots: open.slice(2),
      already_run: [iso(from)],
      already_queued: open.slice(0, 2),
    });
    await backfill('acme', id, { from: iso(from), to: iso(to) });
    await sweepNow();

    const runs = await sql<{ scheduled_for: Date; attempt: number; status: string }[]>`
      select scheduled_for, attempt, status from cron_job_run
      where job_id = ${id} and trigger = 'backfill' order by scheduled_for`;
    expect(runs.map((run) => [run.scheduled_for.toISOString(), run.attempt, run.status])).toEqual([
      [open[0], 2, 'success'],
      [open[1], 1, 'success'],
      [open[2], 1, 'success'],
      [open[3], 2, 'success'],
      [open[4], 1, 'success'],
    ]);
  });

  it('queued slots of a paused job wait for its resume; slots outside the active window are left out', async () => {
    const to = thisHour().getTime();
    const from = to - 4 * HOUR;
    const id = await createJob('acme', 'hourly', { starts_at: iso(from + 2 * HOUR) });
    const paused = await request('POST', `/api/cron/jobs/${id}/pause`, {
      body: { reason: 'maintenance' },
      headers: as('acme'),
    });
    expect(paused.status, paused.text).toBe(200);

    const queued = await backfill('acme', id, { from: iso(from), to: iso(to) });
    expect(queued.body).toMatchObject({
      slots: [iso(from + 2 * HOUR), iso(from + 3 * HOUR)],
      will_run: false,
    });
    await sweepNow();
    expect(await runsOf(id)).toEqual([]);

    const resumed = await request('POST', `/api/cron/jobs/${id}/resume`, { headers: as('acme') });
    expect(resumed.status, resumed.text).toBe(200);
    await sweepNow();
    expect((await runsOf(id)).map((run) => run.scheduled_for.toISOString())).toEqual([
      iso(from + 2 * HOUR),
      iso(from + 3 * HOUR),
    ]);
  });

  describe('refuses, changing nothing', () => {
    async function expectRefused(
      send: () => Promise<TestResponse>,
      status: 400 | 404,
      path?: string,
      detail?: RegExp,
    ) {
      const before = await snapshot();
      const queueBefore = await queueAndAudit();
      const response = await send();
      expectProblem(response, status);
      if (path !== undefined) expect(errorPaths(response)).toContain(path);
      if (detail) expect(response.text).toMatch(detail);
      expect(await snapshot()).toBe(before);
      expect(await queueAndAudit()).toBe(queueBefore);
    }

    it('bad ranges, bad fields, too many slots, an after: job; another tenant’s job is a 404', async () => {
      const id = await createJob('acme', 'every_minute');
      const to = thisHour().getTime();
      await expectRefused(
        () => backfill('acme', id, { from: iso(to), to: iso(to) }),
        400,
        'to',
        /later than from/,
      );
      await expectRefused(
        () => backfill('acme', id, { from: iso(to), to: iso(Date.now() + HOUR) }),
        400,
        'to',
        /not be later than now/,
      );
      await expectRefused(() => backfill('acme', id, { to: iso(to) }), 400, 'from');
      await expectRefused(
        () => backfill('acme', id, { from: 'yesterday', to: iso(to) }),
        400,
        'from',
      );
      await expectRefused(
        () => backfill('acme', id, { from: iso(to - HOUR), to: iso(to), dry_run: 'yes' }),
        400,
        'dry_run',
      );
      await expectRefused(
        () => backfill('acme', id, { from: iso(to - HOUR), to: iso(to), slots: 3 }),
        400,
        'slots',
      );
      // every_minute: a day holds 1,440 slots, more than one request may take.
      expect(BACKFILL_MAX_SLOTS).toBeLessThan(1440);
      await expectRefused(
        () => backfill('acme', id, { from: iso(to - 24 * HOUR), to: iso(to), dry_run: true }),
        400,
        'to',
        new RegExp(`more than ${BACKFILL_MAX_SLOTS} slots`),
      );
      const dependent = await createJob('acme', `after:${id}`);
      await expectRefused(
        () => backfill('acme', dependent, { from: iso(to - HOUR), to: iso(to) }),
        400,
        'schedule',
        /no time slots/,
      );
      await expectRefused(() => backfill('globex', id, { from: iso(to - HOUR), to: iso(to) }), 404);
      await expectRefused(
        () =>
          backfill('acme', '00000000-0000-4000-8000-000000000000', {
            from: iso(to - HOUR),
            to: iso(to),
          }),
        404,
      );
    });
  });
});
