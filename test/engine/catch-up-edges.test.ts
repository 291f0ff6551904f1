import { describe, expect, it } from 'vitest';
import {
  MAX_COUNTED_SLOTS,
  nextRunOf,
  planClaim,
  type CatchUpJob,
} from '../../lib/engine/catch-up';

// The edges of planClaim and nextRunOf (catch-up.ts): a next_run that is no slot, a first slot not
// due yet or past the window's end, the window's inclusive ends, the catch-up window's bound,
// and where the walk of a long gap jumps.

const job = (fields: Partial<CatchUpJob> = {}): CatchUpJob => ({
  schedule: 'every_15_minutes',
  timezone: 'UTC',
  spread_offset_ms: 0,
  starts_at: null,
  ends_at: null,
  catch_up: 'latest',
  catch_up_window_seconds: 600,
  ...fields,
});
const t = (hms: string) => new Date(`2026-03-02T${hms}Z`);
const hms = (date: Date | null | undefined) => date?.toISOString().slice(11, 19) ?? null;
const view = (plan: ReturnType<typeof planClaim>) => ({
  run: hms(plan.run),
  missed: plan.missed ? [hms(plan.missed.first), hms(plan.missed.last), plan.missed.count] : null,
  next: hms(plan.next?.slot),
  behind: plan.behind,
});

describe('planClaim at the edges', () => {
  it('a next_run that is no slot runs once for that instant under every policy, nothing missed', () => {
    for (const catch_up of ['skip', 'latest', 'all'] as const) {
      // Set by hand to 10:07 and reached an hour later: still that one run, then the schedule.
      expect(view(planClaim(job({ catch_up }), t('10:07:00'), t('11:07:00')))).toEqual({
        run: '10:07:00',
        missed: null,
        next: '11:15:00',
        behind: false,
      });
    }
  });

  it('a first slot not due yet runs nothing and stays next', () => {
    const spread = job({ spread_offset_ms: 60_000 });
    // 10:00 + 1 minute is due at 10:01: a claim at 10:00:59 finds it not due.
    expect(view(planClaim(spread, t('10:00:00'), t('10:00:59')))).toEqual({
      run: null,
      missed: null,
      next: '10:00:00',
      behind: false,
    });
    expect(view(planClaim(spread, t('10:00:00'), t('10:01:00'))).run).toBe('10:00:00');
  });

  it('a first slot past ends_at runs nothing and leaves no next slot', () => {
    const ended = job({ ends_at: t('10:00:00') });
    expect(view(planClaim(ended, t('10:15:00'), t('10:20:00')))).toEqual({
      run: null,
      missed: null,
      next: null,
      behind: false,
    });
  });

  it('skip runs a slot exactly catch_up_window_seconds late, and misses it a millisecond later', () => {
    const skip = job({ catch_up: 'skip' });
    expect(view(planClaim(skip, t('10:00:00'), t('10:10:00'))).run).toBe('10:00:00');
    const late = planClaim(skip, t('10:00:00'), new Date(t('10:10:00').getTime() + 1));
    expect(view(late)).toEqual({
      run: null,
      missed: ['10:00:00', '10:00:00', 1],
      next: '10:15:00',
      behind: false,
    });
  });

  it('skip after an outage: the latest slot on time runs, the gap before it is one missed run', () => {
    const skip = job({ catch_up: 'skip' });
    expect(view(planClaim(skip, t('10:00:00'), t('10:46:00')))).toEqual({
      run: '10:45:00',
      missed: ['10:00:00', '10:30:00', 3],
      next: '11:00:00',
      behind: false,
    });
    // Every due slot late: all missed, the count is every one of them.
    expect(view(planClaim(skip, t('10:00:00'), t('10:59:00')))).toEqual({
      run: null,
      missed: ['10:00:00', '10:45:00', 4],
      next: '11:00:00',
      behind: false,
    });
  });

  it('all: a slot exactly at the window bound runs; behind only while the next slot is due', () => {
    const all = job({ catch_up: 'all' });
    // 10:30 is exactly 600 s before 10:40: it is on time, so it runs; 10:00 and 10:15 are missed.
    expect(view(planClaim(all, t('10:00:00'), t('10:40:00')))).toEqual({
      run: '10:30:00',
      missed: ['10:00:00', '10:15:00', 2],
      next: '10:45:00',
      behind: false,
    });
    // With an hour's window 10:30 is on time at 10:45, and the next slot, 10:45, is due exactly
    // then: behind; a millisecond before, not.
    const hour = job({ catch_up: 'all', catch_up_window_seconds: 3600 });
    expect(view(planClaim(hour, t('10:30:00'), t('10:45:00')))).toMatchObject({
      run: '10:30:00',
      behind: true,
    });
    expect(
      view(planClaim(hour, t('10:30:00'), new Date(t('10:45:00').getTime() - 1))),
    ).toMatchObject({ run: '10:30:00', behind: false });
    // The last slot inside the window's end: nothing after it, so not behind.
    const ending = job({ catch_up: 'all', catch_up_window_seconds: 3600, ends_at: t('10:30:00') });
    expect(view(planClaim(ending, t('10:30:00'), t('10:50:00')))).toEqual({
      run: '10:30:00',
      missed: null,
      next: null,
      behind: false,
    });
  });

  it(`a gap of exactly ${MAX_COUNTED_SLOTS + 1} slots is walked to its end, counted exactly`, () => {
    const minute = job({ schedule: 'every_minute' });
    const from = new Date('2026-01-01T00:00:00Z');
    const latest = new Date(from.getTime() + MAX_COUNTED_SLOTS * 60_000);
    const plan = planClaim(minute, from, new Date(latest.getTime() + 30_000));
    expect(plan.run).toEqual(latest);
    expect(plan.missed).toEqual({
      first: from,
      last: new Date(latest.getTime() - 60_000),
      count: MAX_COUNTED_SLOTS,
    });
  });

  it('a long gap of a sparse schedule jumps to the right latest slot', () => {
    // Hourly for over a year: more than 10,000 slots; the jump looks back from now by doubling.
    const hourly = job({ schedule: 'hourly' });
    const from = new Date('2025-01-01T00:00:00Z');
    const now = new Date('2026-03-02T10:20:00Z');
    const plan = planClaim(hourly, from, now);
    expect(plan.run).toEqual(new Date('2026-03-02T10:00:00Z'));
    expect(plan.missed?.last).toEqual(new Date('2026-03-02T09:00:00Z'));
    expect(plan.next?.slot).toEqual(new Date('2026-03-02T11:00:00Z'));
  });
});

describe('planClaim for a one-off (at:) job', () => {
  const once = job({ schedule: 'at:2026-03-02T10:00', catch_up: 'all' });

  it('runs its one slot under catch-up all, with no next slot and nothing behind', () => {
    expect(view(planClaim(once, t('10:00:00'), t('10:05:00')))).toEqual({
      run: '10:00:00',
      missed: null,
      next: null,
      behind: false,
    });
  });

  it('runs once for a next_run set after its instant (no slot follows it)', () => {
    expect(view(planClaim(once, t('10:07:00'), t('10:08:00')))).toEqual({
      run: '10:07:00',
      missed: null,
      next: null,
      behind: false,
    });
  });
});

describe('planClaim after a gap too long to walk', () => {
  it('looks back for the latest slot and then forward, so it finds the last of slots close together', () => {
    // Minutes 0 and 1 of every hour, for most of a year: over 10,000 slots.
    const twice = job({ schedule: 'cron:0,1 * * * *' });
    const plan = planClaim(twice, new Date('2025-06-01T00:00:00Z'), t('10:05:00'));
    expect(plan.run).toEqual(t('10:01:00'));
    expect(plan.missed?.last).toEqual(t('10:00:00'));
    expect(plan.next?.slot).toEqual(t('11:00:00'));
  });

  it('all: a slot exactly at the catch-up window bound runs; the one before it is the last missed', () => {
    const all = job({ schedule: 'every_minute', catch_up: 'all' });
    // The window (600 s) reaches back to 12:24:00 exactly: that slot is on time.
    const plan = planClaim(all, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-31T12:34:00Z'));
    expect(plan.run?.toISOString()).toBe('2026-01-31T12:24:00.000Z');
    expect(plan.missed?.last.toISOString()).toBe('2026-01-31T12:23:00.000Z');
    expect(plan.behind).toBe(true);
  });
});

describe('nextRunOf at the edges', () => {
  it('includes a slot exactly at ends_at and exactly at starts_at', () => {
    const windowed = job({ starts_at: t('10:15:00'), ends_at: t('10:30:00') });
    expect(hms(nextRunOf(windowed, t('10:15:00'))?.slot)).toBe('10:30:00');
    expect(hms(nextRunOf(windowed, t('10:14:59'))?.slot)).toBe('10:15:00');
    const between = job({ starts_at: t('10:10:00') });
    expect(hms(nextRunOf(between, t('09:00:00'))?.slot)).toBe('10:15:00');
  });

  it('is the first slot whose run time (slot + spread offset) is after the instant', () => {
    const spread = job({ spread_offset_ms: 1_234 });
    // 10:00 runs at 10:00:01.234, after 10:00: it is the next one.
    expect(nextRunOf(spread, t('10:00:00'))).toEqual({
      slot: t('10:00:00'),
      runAt: new Date(t('10:00:00').getTime() + 1_234),
    });
    expect(nextRunOf(spread, new Date(t('10:00:00').getTime() + 1_234))?.slot).toEqual(
      t('10:15:00'),
    );
  });
});
