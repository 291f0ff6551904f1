import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Sql } from '../../lib/db';
import { silentLog } from '../../lib/logger';
import { sweep } from '../../lib/engine/sweep';
import { createTestDatabase } from '../helpers/database';
import { insertJob, testRegistry } from '../helpers/jobs';
import { databaseName, figures, seconds } from './helpers';

// Scenario 6: simulated weeks of sweeps every 5 minutes across every DST change of 2026 in three
// zones. The expected slots are computed here, minute by minute, straight from the policy in
// lib/schedule.ts's header, without using lib/schedule.ts:
// - a wall-clock time that occurs twice (fall back) fires once, at its first occurrence;
// - wall-clock times skipped by a spring-forward jump fire at the instant of the jump, once.
const ZONES = ['America/New_York', 'Europe/Berlin', 'Australia/Sydney'];
const SCHEDULES = ['daily', 'hourly', 'every_15_minutes', 'cron:30 2 * * *'];
const STEP_MS = 5 * 60_000;
const MINUTE = 60_000;
// Each zone and schedule also has a job with spreading on (issue #13): its runs start a fixed
// offset (< SPREAD_SECONDS, from its id) after each slot, and keep the slot as scheduled_for.
// Shorter than every_15_minutes' interval, as spread_seconds must be.
const SPREAD_SECONDS = 600;

// Each window is a week or a little more, holds whole local days around at least one transition,
// and together they hold all six transitions of 2026.
const WINDOWS = [
  { name: 'New York spring forward', from: '2026-03-05T00:00:00Z', to: '2026-03-12T00:00:00Z' },
  {
    name: 'Berlin spring forward, Sydney fall back',
    from: '2026-03-28T18:00:00Z',
    to: '2026-04-05T18:00:00Z',
  },
  { name: 'Sydney spring forward', from: '2026-09-30T00:00:00Z', to: '2026-10-07T00:00:00Z' },
  {
    name: 'Berlin and New York fall back',
    from: '2026-10-24T21:00:00Z',
    to: '2026-11-02T06:00:00Z',
  },
];

/**
 * A database of its own per window, so the windows run side by side. Thousands of tiny
 * transactions: waiting for each commit's fsync would dominate the run time, and durability
 * across a crash is not what this scenario is about.
 */
async function windowDatabase(): Promise<Sql> {
  const database = await createTestDatabase();
  await database.sql.unsafe(
    `alter database "${databaseName(database.url)}" set synchronous_commit = off`,
  );
  const sql = connect(database.url, { max: 3 });
  afterAll(() => sql.end({ timeout: 5 }));
  return sql;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
/** The wall-clock reading at `t` in `zone`, as naive epoch milliseconds (the reading taken as UTC). */
const walls = new Map<string, number>();
function wallAt(zone: string, t: number): number {
  const key = `${zone} ${t}`;
  const known = walls.get(key);
  if (known !== undefined) return known;
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(zone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(t).map((p) => [p.type, Number(p.value)]));
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day, parts.hour, parts.minute);
  walls.set(key, wall);
  return wall;
}

function matches(schedule: string, wall: number): boolean {
  const date = new Date(wall);
  const [hour, minute] = [date.getUTCHours(), date.getUTCMinutes()];
  switch (schedule) {
    case 'daily':
      return hour === 0 && minute === 0;
    case 'hourly':
      return minute === 0;
    case 'every_15_minutes':
      return minute % 15 === 0;
    case 'cron:30 2 * * *':
      return hour === 2 && minute === 30;
    default:
      throw new Error(`no expectation for ${schedule}`);
  }
}

/** Instants in (from, to] at which `schedule` fires in `zone`, by the policy above. */
function expectedSlots(schedule: string, zone: string, from: number, to: number): number[] {
  const fires = new Set<number>();
  const seen = new Set<number>();
  // Start early enough that the first pass through any repeated hour has been seen.
  let previous = wallAt(zone, from - 3 * 3_600_000 - MINUTE);
  for (let t = from - 3 * 3_600_000; t <= to; t += MINUTE) {
    const wall = wallAt(zone, t);
    // Spring forward: the wall times the clock jumped over fire now.
    for (let skipped = previous + MINUTE; skipped < wall; skipped += MINUTE) {
      if (matches(schedule, skipped)) fires.add(t);
    }
    if (!seen.has(wall)) {
      seen.add(wall);
      if (matches(schedule, wall)) fires.add(t);
    }
    previous = wall;
  }
  return [...fires].filter((t) => t > from && t <= to).sort((a, b) => a - b);
}

function localDate(zone: string, t: number): string {
  return new Date(wallAt(zone, t)).toISOString().slice(0, 10);
}

interface JobCase {
  id: string;
  zone: string;
  schedule: string;
  /** The job's spread offset in ms; 0 for the jobs without spreading. */
  offsetMs: number;
  spread: boolean;
}

interface JobResult {
  window: string;
  job: JobCase;
  runs: number[];
  /** Each run's actual start (the sweep's clock), by the run's slot. */
  starts: Map<number, number>;
  /** Slots recorded missed (every slot of each missed gap's first..last). */
  missed: number[];
  expected: number[];
}

const results: JobResult[] = [];
let totalSweeps = 0;
let maxLagMs = 0;
let elapsedMs = 0;
let simulatedMs = 0;

async function simulate(window: (typeof WINDOWS)[number], sql: Sql): Promise<void> {
  const deps = { sql, registry: testRegistry, log: silentLog };
  const from = Date.parse(window.from);
  const to = Date.parse(window.to);
  simulatedMs += to - from;
  const jobs: Array<JobCase & { expected: number[] }> = [];
  for (const zone of ZONES) {
    for (const schedule of SCHEDULES) {
      const expected = expectedSlots(schedule, zone, from, to);
      for (const spread of [false, true]) {
        const id = await insertJob(sql, {
          name: `${zone} ${schedule}${spread ? ' spread' : ''}`,
          schedule,
          timezone: zone,
          next_run: new Date(expected[0]!),
        });
        let offsetMs = 0;
        if (spread) {
          // The engine's own offset, applied to the first run as a job write does.
          const [row] = await sql<{ offset: number }[]>`
            update cron_job set spread_seconds = ${SPREAD_SECONDS},
              next_run = next_run + cron_spread_offset_ms(id, ${SPREAD_SECONDS}) * interval '1 millisecond'
            where id = ${id}
            returning cron_spread_offset_ms(id, ${SPREAD_SECONDS}) as offset`;
          offsetMs = row!.offset;
        }
        // A slot whose run time (slot + offset) comes after the last sweep is not due yet.
        const due = expected.filter((slot) => slot + offsetMs <= to);
        jobs.push({ id, zone, schedule, expected: due, offsetMs, spread });
      }
    }
  }
  for (let now = from + STEP_MS; now <= to; now += STEP_MS) {
    const summary = await sweep(deps, { now: () => new Date(now), concurrency: 12 });
    totalSweeps += 1;
    maxLagMs = Math.max(maxLagMs, summary.max_lag_ms);
    if (summary.failed + summary.skipped + summary.lost > 0) {
      throw new Error(`sweep at ${new Date(now).toISOString()}: ${JSON.stringify(summary)}`);
    }
  }
  const runs = await sql<
    {
      job_id: string;
      scheduled_for: Date;
      status: string;
      started_at: Date;
      missed_last: Date | null;
    }[]
  >`
    select job_id, scheduled_for, status, started_at, missed_last from cron_job_run
    order by scheduled_for`;
  expect(runs.every((run) => run.status === 'success' || run.status === 'missed')).toBe(true);
  for (const job of jobs) {
    const own = runs.filter((run) => run.job_id === job.id);
    const ran = own.filter((run) => run.status === 'success');
    const missed = own
      .filter((run) => run.status === 'missed')
      .flatMap((run) =>
        job.expected.filter(
          (slot) => slot >= run.scheduled_for.getTime() && slot <= run.missed_last!.getTime(),
        ),
      );
    results.push({
      window: window.name,
      job,
      expected: job.expected,
      runs: ran.map((run) => run.scheduled_for.getTime()),
      starts: new Map(ran.map((run) => [run.scheduled_for.getTime(), run.started_at.getTime()])),
      missed,
    });
  }
}

beforeAll(async () => {
  const databases = await Promise.all(WINDOWS.map(() => windowDatabase()));
  const started = performance.now();
  await Promise.all(WINDOWS.map((window, i) => simulate(window, databases[i]!)));
  elapsedMs = performance.now() - started;
  // A guard against a stall, not a time limit: under a loaded machine the 8,748 sweeps take minutes.
}, 420_000);

function runsOf(zone: string, schedule: string): number[] {
  return results
    .filter((r) => r.job.zone === zone && r.job.schedule === schedule && !r.job.spread)
    .flatMap((r) => r.runs);
}

const iso = (t: number) => new Date(t).toISOString().replace('.000', '');

describe('time and daylight saving', () => {
  it('runs every job exactly at the slots the policy gives, never one twice', () => {
    let duplicates = 0;
    let missing = 0;
    let extra = 0;
    const plain = results.filter((result) => !result.job.spread);
    for (const result of plain) {
      duplicates += result.runs.length - new Set(result.runs).size;
      const expected = new Set(result.expected);
      const ran = new Set(result.runs);
      missing += result.expected.filter((t) => !ran.has(t)).length;
      extra += result.runs.filter((t) => !expected.has(t)).length;
    }
    const expectedRuns = plain.reduce((n, r) => n + r.expected.length, 0);
    const plainRuns = plain.reduce((n, r) => n + r.runs.length, 0);
    figures(
      `dst: ${WINDOWS.length} windows, ${(simulatedMs / 86_400_000).toFixed(1)} simulated days, ${ZONES.length} zones x ${SCHEDULES.length} schedules, ` +
        `${totalSweeps} simulated sweeps every 5 min: runs ${plainRuns}/${expectedRuns} expected, ` +
        `duplicate runs ${duplicates}, missed slots ${missing}, unexpected slots ${extra}, ` +
        `max lag ${maxLagMs / 1000} s (< one sweep interval); ${seconds(elapsedMs)}`,
    );
    for (const result of plain) {
      expect(
        result.runs.map(iso),
        `${result.window}: ${result.job.schedule} in ${result.job.zone}`,
      ).toEqual(result.expected.map(iso));
      expect(result.missed).toEqual([]);
    }
    expect(plainRuns).toBe(expectedRuns);
    expect(maxLagMs).toBeLessThan(STEP_MS);
  });

  it(`with spread_seconds ${SPREAD_SECONDS}: no duplicates, every slot run or missed, none early, each run at its slot plus the job's offset`, () => {
    const spread = results.filter((result) => result.job.spread);
    let duplicates = 0;
    let ran = 0;
    let missed = 0;
    let early = 0;
    let maxDelayMs = 0;
    for (const result of spread) {
      const where = `${result.window}: ${result.job.schedule} in ${result.job.zone}, spread`;
      duplicates += result.runs.length - new Set(result.runs).size;
      ran += result.runs.length;
      missed += result.missed.length;
      // Every slot exactly once, run or missed; nothing else.
      expect([...result.runs, ...result.missed].sort((a, b) => a - b).map(iso), where).toEqual(
        result.expected.map(iso),
      );
      for (const [slot, started] of result.starts) {
        if (started < slot + result.job.offsetMs) early += 1;
        maxDelayMs = Math.max(maxDelayMs, started - slot);
      }
    }
    const offsets = spread.map((result) => result.job.offsetMs);
    figures(
      `dst with spread_seconds ${SPREAD_SECONDS}: ${spread.length} jobs (offsets ${Math.min(...offsets) / 1000}-${Math.max(...offsets) / 1000} s), ` +
        `slots run ${ran}, missed ${missed}, duplicates ${duplicates}, early ${early}, ` +
        `latest start ${seconds(maxDelayMs)} after its slot`,
    );
    expect(duplicates).toBe(0);
    expect(early).toBe(0);
    // The offset is below the interval of every schedule here, so no slot is passed over.
    expect(missed).toBe(0);
    // Spread, and still within one sweep interval of slot + offset.
    expect(new Set(offsets).size).toBeGreaterThan(1);
    expect(Math.max(...offsets)).toBeLessThan(SPREAD_SECONDS * 1000);
    expect(maxDelayMs).toBeLessThan(SPREAD_SECONDS * 1000 + STEP_MS);
  });

  it('New York, 2026-03-08 (02:00 EST jumps to 03:00 EDT): the gap fires once, at 03:00 EDT', () => {
    const zone = 'America/New_York';
    const onDay = (schedule: string) =>
      runsOf(zone, schedule).filter((t) => localDate(zone, t) === '2026-03-08');
    expect(onDay('cron:30 2 * * *').map(iso)).toEqual(['2026-03-08T07:00:00Z']);
    expect(onDay('hourly')).toHaveLength(23);
    expect(
      onDay('hourly')
        .filter(
          (t) => t >= Date.parse('2026-03-08T05:00:00Z') && t <= Date.parse('2026-03-08T08:00:00Z'),
        )
        .map(iso),
    ).toEqual([
      '2026-03-08T05:00:00Z',
      '2026-03-08T06:00:00Z',
      '2026-03-08T07:00:00Z',
      '2026-03-08T08:00:00Z',
    ]);
    // 01:45 EST, then 02:00-02:45 (which do not exist) and 03:00 EDT together, once.
    expect(
      onDay('every_15_minutes')
        .filter(
          (t) => t >= Date.parse('2026-03-08T06:45:00Z') && t <= Date.parse('2026-03-08T07:15:00Z'),
        )
        .map(iso),
    ).toEqual(['2026-03-08T06:45:00Z', '2026-03-08T07:00:00Z', '2026-03-08T07:15:00Z']);
    expect(onDay('every_15_minutes')).toHaveLength(96 - 4);
    expect(onDay('daily').map(iso)).toEqual(['2026-03-08T05:00:00Z']);
  });

  it('New York, 2026-11-01 (02:00 EDT falls back to 01:00 EST): the repeated hour fires once', () => {
    const zone = 'America/New_York';
    const onDay = (schedule: string) =>
      runsOf(zone, schedule).filter((t) => localDate(zone, t) === '2026-11-01');
    const hourly = onDay('hourly').map(iso);
    expect(hourly).toContain('2026-11-01T05:00:00Z'); // 01:00 EDT
    expect(hourly).not.toContain('2026-11-01T06:00:00Z'); // 01:00 EST, the repeat
    expect(hourly).toContain('2026-11-01T07:00:00Z'); // 02:00 EST
    expect(hourly).toHaveLength(24);
    expect(
      onDay('every_15_minutes').filter(
        (t) => t >= Date.parse('2026-11-01T06:00:00Z') && t < Date.parse('2026-11-01T07:00:00Z'),
      ),
    ).toEqual([]);
    expect(onDay('every_15_minutes')).toHaveLength(96);
    expect(onDay('cron:30 2 * * *').map(iso)).toEqual(['2026-11-01T07:30:00Z']);
    expect(onDay('daily').map(iso)).toEqual(['2026-11-01T04:00:00Z']);
  });

  it('Berlin, 2026-03-29 and 2026-10-25: 02:30 fires at 03:00 CEST in the gap, at its first occurrence in the repeat', () => {
    const zone = 'Europe/Berlin';
    const cron = runsOf(zone, 'cron:30 2 * * *');
    expect(cron.filter((t) => localDate(zone, t) === '2026-03-29').map(iso)).toEqual([
      '2026-03-29T01:00:00Z',
    ]);
    expect(cron.filter((t) => localDate(zone, t) === '2026-10-25').map(iso)).toEqual([
      '2026-10-25T00:30:00Z',
    ]);
    const hourly = runsOf(zone, 'hourly');
    expect(hourly.filter((t) => localDate(zone, t) === '2026-03-29')).toHaveLength(23);
    expect(hourly.filter((t) => localDate(zone, t) === '2026-10-25')).toHaveLength(24);
  });

  it('Sydney, 2026-04-05 and 2026-10-04 (southern hemisphere): the same rules, the other way round', () => {
    const zone = 'Australia/Sydney';
    const cron = runsOf(zone, 'cron:30 2 * * *');
    // 03:00 AEDT falls back to 02:00 AEST: 02:30 AEDT only, not 02:30 AEST (16:30Z).
    expect(cron.filter((t) => localDate(zone, t) === '2026-04-05').map(iso)).toEqual([
      '2026-04-04T15:30:00Z',
    ]);
    // 02:00 AEST jumps to 03:00 AEDT: 02:30 fires at 03:00 AEDT.
    expect(cron.filter((t) => localDate(zone, t) === '2026-10-04').map(iso)).toEqual([
      '2026-10-03T16:00:00Z',
    ]);
    const hourly = runsOf(zone, 'hourly');
    expect(hourly.filter((t) => localDate(zone, t) === '2026-04-05')).toHaveLength(24);
    expect(hourly.filter((t) => localDate(zone, t) === '2026-10-04')).toHaveLength(23);
    expect(
      runsOf(zone, 'daily')
        .filter((t) => localDate(zone, t) === '2026-10-04')
        .map(iso),
    ).toEqual(['2026-10-03T14:00:00Z']);
  });
});
