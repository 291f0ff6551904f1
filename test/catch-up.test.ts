import { beforeAll, describe, expect, it } from 'vitest';
import { sweep } from '../lib/engine/sweep';
import { silentLog } from '../lib/logger';
import { nextSlot } from '../lib/schedule';
import { testRegistry } from './helpers/jobs';
import { startTestServer } from './helpers/server';

// Issue #13 acceptance: sweeps stop for 3 hours under a job `every_15_minutes`, once per catch-up
// policy, on a moved clock. Sweeps run every 5 minutes at :02, :07, :12 …; the last one before the
// outage is at 00:12, the first after it at 03:12, three hours later. Slots 00:15 … 03:00 (12 of
// them) come due meanwhile; at 03:12 the latest, 03:00, is 12 minutes (720 s) late.
const server = await startTestServer({ registry: testRegistry });
const MINUTE = 60_000;
const at = (hhmm: string) => new Date(`2026-03-02T${hhmm}:00Z`);
const iso = (date: Date | string | null) =>
  date === null ? null : new Date(date).toISOString().slice(11, 16);

const POLICIES = [
  { name: 'skip', body: { catch_up: 'skip' } },
  { name: 'latest', body: {} },
  { name: 'all (window 600 s)', body: { catch_up: 'all' } },
  { name: 'all (window 3600 s)', body: { catch_up: 'all', catch_up_window_seconds: 3600 } },
] as const;

/**
 * What docs/schedules.md ("Missed slots and catch-up") says happens, slot by slot. Runs: the slots
 * that ran, with the sweep that ran them. Missed: the one gap recorded at 03:12.
 */
const EXPECTED: Record<
  (typeof POLICIES)[number]['name'],
  { runs: Array<[slot: string, started: string]>; missed: [string, string, number] | null }
> = {
  // 03:00 is late (720 s > the 600 s window): nothing runs until the next slot, 03:15.
  skip: {
    runs: [
      ['00:00', '00:02'],
      ['03:15', '03:17'],
      ['03:30', '03:32'],
    ],
    missed: ['00:15', '03:00', 12],
  },
  // The latest due slot runs, late or not; the 11 before it are missed.
  latest: {
    runs: [
      ['00:00', '00:02'],
      ['03:00', '03:12'],
      ['03:15', '03:17'],
      ['03:30', '03:32'],
    ],
    missed: ['00:15', '02:45', 11],
  },
  // Every due slot is older than the window: all missed, as with skip.
  'all (window 600 s)': {
    runs: [
      ['00:00', '00:02'],
      ['03:15', '03:17'],
      ['03:30', '03:32'],
    ],
    missed: ['00:15', '03:00', 12],
  },
  // Slots due at most an hour before 03:12 (02:15 … 03:00) run oldest first, one after another,
  // in the 03:12 sweep; the 8 before them are missed.
  'all (window 3600 s)': {
    runs: [
      ['00:00', '00:02'],
      ['02:15', '03:12'],
      ['02:30', '03:12'],
      ['02:45', '03:12'],
      ['03:00', '03:12'],
      ['03:15', '03:17'],
      ['03:30', '03:32'],
    ],
    missed: ['00:15', '02:00', 8],
  },
};

interface RunView {
  id: string;
  scheduled_for: string;
  status: string;
  started_at: string;
  missed_count: number | null;
  missed_last: string | null;
}

describe('catch-up after 3 hours without sweeps (every_15_minutes, moved clock)', () => {
  const jobs: Record<string, string> = {};
  const outageSweep = { at: at('03:12'), summary: undefined as unknown };
  beforeAll(async () => {
    for (const policy of POLICIES) {
      const created = await server.request('POST', '/api/cron/jobs', {
        body: {
          name: `catch-up ${policy.name}`,
          schedule: 'every_15_minutes',
          function_name: 'noop',
          ...policy.body,
        },
      });
      expect(created.status, created.text).toBe(201);
      jobs[policy.name] = created.body.id;
    }
    // Put every job on the simulated clock: due at its 00:00 slot.
    await server.sql`update cron_job set next_run = ${at('00:00')}`;
    const sweepsAt = (from: string, to: string) => {
      const times: Date[] = [];
      for (let t = at(from).getTime(); t <= at(to).getTime(); t += 5 * MINUTE) {
        times.push(new Date(t));
      }
      return times;
    };
    for (const now of [...sweepsAt('00:02', '00:12'), ...sweepsAt('03:12', '03:42')]) {
      const summary = await sweep(server.app, { now: () => now, concurrency: 4 });
      if (now.getTime() === outageSweep.at.getTime()) outageSweep.summary = summary;
    }
  }, 60_000);
  const runsOf = async (id: string) => {
    const response = await server.request('GET', `/api/cron/jobs/${id}/runs?limit=50`);
    expect(response.status).toBe(200);
    return (response.body.runs as RunView[]).sort((a, b) =>
      a.scheduled_for.localeCompare(b.scheduled_for),
    );
  };

  for (const policy of POLICIES) {
    it(`${policy.name}: runs and misses exactly the documented slots`, async () => {
      const expected = EXPECTED[policy.name];
      const runs = await runsOf(jobs[policy.name]!);
      const ran = runs.filter((run) => run.status !== 'missed');
      expect(ran.map((run) => [iso(run.scheduled_for), iso(run.started_at)])).toEqual(
        expected.runs,
      );
      expect(ran.every((run) => run.status === 'success')).toBe(true);
      const missed = runs.filter((run) => run.status === 'missed');
      expect(
        missed.map((run) => [iso(run.scheduled_for), iso(run.missed_last), run.missed_count]),
      ).toEqual(expected.missed ? [expected.missed] : []);

      // Every slot from 00:00 to 03:30 ran or lies in the missed gap, exactly once.
      const covered: string[] = [...ran.map((run) => iso(run.scheduled_for)!)];
      for (const gap of missed) {
        let slot: Date | null = new Date(gap.scheduled_for);
        let count = 0;
        while (slot && slot <= new Date(gap.missed_last!)) {
          covered.push(iso(slot)!);
          count += 1;
          slot = nextSlot('every_15_minutes', 'UTC', slot);
        }
        expect(count).toBe(gap.missed_count);
      }
      const slots: string[] = [];
      for (let t = at('00:00').getTime(); t <= at('03:30').getTime(); t += 15 * MINUTE) {
        slots.push(iso(new Date(t))!);
      }
      expect(covered.sort()).toEqual(slots);

      const job = await server.request('GET', `/api/cron/jobs/${jobs[policy.name]}`);
      expect(job.body.missed_count).toBe(expected.missed?.[2] ?? 0);
      expect(job.body.next_run).toBe(at('03:45').toISOString());
      // Misses listed by status, per job.
      const listed = await server.request(
        'GET',
        `/api/cron/jobs/${jobs[policy.name]}/runs?status=missed`,
      );
      expect(listed.body.runs.map((run: RunView) => run.id)).toEqual(missed.map((run) => run.id));
    });
  }

  it('GET /runs?status=missed lists the misses across jobs, and only misses', async () => {
    const response = await server.request('GET', '/api/cron/runs?status=missed&limit=200');
    expect(response.status).toBe(200);
    const byJob = new Map<string, number>();
    for (const run of response.body.runs as Array<RunView & { job_id: string }>) {
      expect(run.status).toBe('missed');
      byJob.set(run.job_id, (byJob.get(run.job_id) ?? 0) + run.missed_count!);
    }
    expect(Object.fromEntries(POLICIES.map((p) => [p.name, byJob.get(jobs[p.name]!)]))).toEqual(
      Object.fromEntries(POLICIES.map((p) => [p.name, EXPECTED[p.name].missed?.[2]])),
    );
  });

  it('the 03:12 sweep ran the catch-up of all (window 3600 s) in that one sweep', () => {
    expect(outageSweep.summary).toMatchObject({ executed: 1 + 4, skipped: 0, failed: 0 });
  });

  it('a missed run is finished at once and counts in neither execution_count nor error_count', async () => {
    const [job] = await server.sql<{ metadata: Record<string, number> }[]>`
      select metadata from cron_job where id = ${jobs.skip!}`;
    expect(job!.metadata).toMatchObject({ execution_count: 3, error_count: 0 });
  });
});

describe('catch-up, spreading and active window: validation names the field', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['catch_up', { catch_up: 'sometimes' }, 'catch_up'],
    [
      'catch_up_window_seconds below 60',
      { catch_up_window_seconds: 59 },
      'catch_up_window_seconds',
    ],
    [
      'catch_up_window_seconds fractional',
      { catch_up_window_seconds: 60.5 },
      'catch_up_window_seconds',
    ],
    [
      'catch_up_window_seconds above 31 days',
      { catch_up_window_seconds: 2_678_401 },
      'catch_up_window_seconds',
    ],
    ['spread_seconds negative', { spread_seconds: -1 }, 'spread_seconds'],
    ['spread_seconds above 3600', { spread_seconds: 3601 }, 'spread_seconds'],
    ['spread_seconds as text', { spread_seconds: '60' }, 'spread_seconds'],
    [
      'spread_seconds not shorter than the interval',
      { schedule: 'every_15_minutes', spread_seconds: 900 },
      'spread_seconds',
    ],
    ['starts_at not a date-time', { starts_at: 'tomorrow' }, 'starts_at'],
    ['ends_at without offset', { ends_at: '2030-01-01T00:00:00' }, 'ends_at'],
    [
      'ends_at before starts_at',
      { starts_at: '2030-01-02T00:00:00Z', ends_at: '2030-01-01T00:00:00Z' },
      'ends_at',
    ],
    ['ends_at in the past', { ends_at: '2020-01-01T00:00:00Z' }, 'ends_at'],
    [
      'a window holding no slot',
      { schedule: 'daily', starts_at: '2030-01-01T01:00:00Z', ends_at: '2030-01-01T02:00:00Z' },
      'ends_at',
    ],
  ];
  for (const [name, fields, path] of cases) {
    it(`${name}: 400 naming ${path}, nothing stored`, async () => {
      const before = await server.snapshot();
      const response = await server.request('POST', '/api/cron/jobs', {
        body: { name: `invalid ${name}`, schedule: 'hourly', function_name: 'noop', ...fields },
      });
      expect(response.status, response.text).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.body.errors.map((error: { path: string }) => error.path)).toEqual([path]);
      expect(await server.snapshot()).toBe(before);
    });
  }

  it('a PUT is validated against the stored fields: spread_seconds vs the new schedule', async () => {
    const created = await server.request('POST', '/api/cron/jobs', {
      body: {
        name: 'spread vs schedule',
        schedule: 'hourly',
        function_name: 'noop',
        spread_seconds: 1200,
      },
    });
    expect(created.status, created.text).toBe(201);
    const response = await server.request('PUT', `/api/cron/jobs/${created.body.id}`, {
      body: { schedule: 'every_15_minutes' },
    });
    expect(response.status).toBe(400);
    expect(response.body.errors.map((error: { path: string }) => error.path)).toEqual([
      'spread_seconds',
    ]);
  });

  it('a GET of runs refuses an unknown status, naming the parameter', async () => {
    const response = await server.request('GET', '/api/cron/runs?status=forgotten');
    expect(response.status).toBe(400);
    expect(response.body.errors.map((error: { path: string }) => error.path)).toEqual(['status']);
  });
});

describe('active window: no slot outside starts_at and ends_at', () => {
  // These sweeps run in 2030: the jobs above would be years behind.
  beforeAll(async () => {
    await server.sql`update cron_job set is_active = false, next_run = null`;
  });

  it('next_run is the first slot at or after starts_at; past ends_at the job becomes inactive', async () => {
    const created = await server.request('POST', '/api/cron/jobs', {
      body: {
        name: 'windowed',
        schedule: 'hourly',
        function_name: 'noop',
        starts_at: '2030-01-01T05:00:00Z',
        ends_at: '2030-01-01T07:00:00Z',
      },
    });
    expect(created.status, created.text).toBe(201);
    // starts_at is inclusive: its own slot is the first.
    expect(created.body.next_run).toBe('2030-01-01T05:00:00.000Z');
    const id = created.body.id as string;
    for (const hour of ['05', '06', '07', '08', '09']) {
      await sweep(
        { ...server.app, log: silentLog },
        { now: () => new Date(`2030-01-01T${hour}:00:30Z`), concurrency: 2 },
      );
    }
    const runs = await server.sql<{ scheduled_for: Date; status: string }[]>`
      select scheduled_for, status from cron_job_run where job_id = ${id} order by scheduled_for`;
    // ends_at is inclusive too: 07:00 runs, then nothing.
    expect(runs.map((run) => [run.scheduled_for.toISOString(), run.status])).toEqual([
      ['2030-01-01T05:00:00.000Z', 'success'],
      ['2030-01-01T06:00:00.000Z', 'success'],
      ['2030-01-01T07:00:00.000Z', 'success'],
    ]);
    const job = await server.request('GET', `/api/cron/jobs/${id}`);
    expect(job.body).toMatchObject({ is_active: false, next_run: null, missed_count: 0 });
  });

  it('an outage across ends_at misses only the slots inside the window', async () => {
    const created = await server.request('POST', '/api/cron/jobs', {
      body: {
        name: 'windowed outage',
        schedule: 'hourly',
        function_name: 'noop',
        starts_at: '2030-02-01T00:00:00Z',
        ends_at: '2030-02-01T03:00:00Z',
      },
    });
    const id = created.body.id as string;
    await sweep(server.app, { now: () => new Date('2030-02-01T09:30:00Z'), concurrency: 2 });
    const runs = await server.sql<
      {
        scheduled_for: Date;
        status: string;
        missed_count: number | null;
        missed_last: Date | null;
      }[]
    >`select scheduled_for, status, missed_count, missed_last from cron_job_run
      where job_id = ${id} order by scheduled_for`;
    expect(
      runs.map((run) => [
        run.scheduled_for.toISOString(),
        run.status,
        run.missed_count,
        run.missed_last?.toISOString() ?? null,
      ]),
    ).toEqual([
      ['2030-02-01T00:00:00.000Z', 'missed', 3, '2030-02-01T02:00:00.000Z'],
      ['2030-02-01T03:00:00.000Z', 'success', null, null],
    ]);
  });
});
