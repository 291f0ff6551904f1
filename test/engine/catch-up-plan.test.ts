import { describe, expect, it } from 'vitest';
import {
  MAX_COUNTED_SLOTS,
  nextRunOf,
  planClaim,
  type CatchUpJob,
} from '../../lib/engine/catch-up';

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
const t = (iso: string) => new Date(`2026-03-02T${iso}Z`);
const view = (plan: ReturnType<typeof planClaim>) => ({
  run: plan.run?.toISOString().slice(11, 19) ?? null,
  missed: plan.missed
    ? [
        plan.missed.first.toISOString().slice(11, 19),
        plan.missed.last.toISOString().slice(11, 19),
        plan.missed.count,
      ]
    : null,
  next: plan.next?.runAt.toISOString().slice(11, 19) ?? null,
  behind: plan.behind,
});

describe('planClaim: which due slot runs, which are missed', () => {
  it('one due slot on time: it runs under every policy, nothing missed', () => {
    for (const catch_up of ['skip', 'latest', 'all'] as const) {
      expect(view(planClaim(job({ catch_up }), t('10:00:00'), t('10:02:00')))).toEqual({
        run: '10:00:00',
        missed: null,
        next: '10:15:00',
        behind: false,
      });
    }
  });

  it('one due slot, late: skip misses it, latest runs it, all misses it', () => {
    const now = t('10:14:00'); // 840 s after the 10:00 slot, window 600 s
    expect(view(planClaim(job({ catch_up: 'skip' }), t('10:00:00'), now)).missed).toEqual([
      '10:00:00',
      '10:00:00',
      1,
    ]);
    expect(view(planClaim(job({ catch_up: 'latest' }), t('10:00:00'), now)).run).toBe('10:00:00');
    expect(view(planClaim(job({ catch_up: 'all' }), t('10:00:00'), now)).run).toBeNull();
  });

  it('spread: the slot is due only once slot + offset has passed, and next is offset too', () => {
    const spread = job({ spread_offset_ms: 300_000 });
    // At 10:20 with a 5-minute offset, 10:15 is due (10:20), so the slot run is 10:15; 10:00 missed.
    expect(view(planClaim(spread, t('10:00:00'), t('10:20:00')))).toEqual({
      run: '10:15:00',
      missed: ['10:00:00', '10:00:00', 1],
      next: '10:35:00',
      behind: false,
    });
    expect(nextRunOf(spread, t('10:19:59'))?.slot.toISOString().slice(11, 19)).toBe('10:15:00');
    expect(nextRunOf(spread, t('10:20:00'))?.slot.toISOString().slice(11, 19)).toBe('10:30:00');
  });

  it('all: runs the oldest slot within the window and stays behind while more are due', () => {
    const all = job({ catch_up: 'all', catch_up_window_seconds: 3600 });
    expect(view(planClaim(all, t('00:15:00'), t('03:12:00')))).toEqual({
      run: '02:15:00',
      missed: ['00:15:00', '02:00:00', 8],
      next: '02:30:00',
      behind: true,
    });
    expect(view(planClaim(all, t('03:00:00'), t('03:12:00')))).toMatchObject({
      run: '03:00:00',
      missed: null,
      behind: false,
    });
  });

  it('a window: nothing after ends_at is due; starts_at is the first slot', () => {
    const windowed = job({ ends_at: t('10:30:00'), starts_at: t('10:15:00') });
    expect(view(planClaim(windowed, t('10:15:00'), t('11:50:00')))).toEqual({
      run: '10:30:00',
      missed: ['10:15:00', '10:15:00', 1],
      next: null,
      behind: false,
    });
    expect(nextRunOf(windowed, t('09:00:00'))?.slot).toEqual(t('10:15:00'));
    expect(nextRunOf(windowed, t('10:30:00'))).toBeNull();
  });

  it(`a gap longer than ${MAX_COUNTED_SLOTS} slots is bounded: the right latest slot, a lower-bound count`, () => {
    const minute = job({ schedule: 'every_minute' });
    const from = new Date('2026-01-01T00:00:00Z');
    const now = new Date('2026-01-31T12:34:30Z'); // 43,954 slots later
    const plan = planClaim(minute, from, now);
    expect(plan.run?.toISOString()).toBe('2026-01-31T12:34:00.000Z');
    expect(plan.missed?.first.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(plan.missed?.last.toISOString()).toBe('2026-01-31T12:33:00.000Z');
    expect(plan.missed?.count).toBe(MAX_COUNTED_SLOTS);
    expect(plan.next?.slot.toISOString()).toBe('2026-01-31T12:35:00.000Z');
    const all = planClaim(job({ schedule: 'every_minute', catch_up: 'all' }), from, now);
    // The window (600 s) reaches back to 12:24:30: 12:25 is the oldest slot that runs.
    expect(all.run?.toISOString()).toBe('2026-01-31T12:25:00.000Z');
    expect(all.missed?.last.toISOString()).toBe('2026-01-31T12:24:00.000Z');
    expect(all.behind).toBe(true);
  });
});
