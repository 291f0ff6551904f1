import { CronExpressionParser } from 'cron-parser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSimpleCron, nextSimpleCronTime } from '../lib/cron-fields';
import { nextSlot, parseSchedule } from '../lib/schedule';

// [min, max] per field of a 6-field expression; values a little outside them are generated too.
const BOUNDS = [
  [0, 59],
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 7],
] as const;

const part = (min: number, max: number) =>
  fc.oneof(
    fc.constant('*'),
    fc.integer({ min, max: max + 1 }).map(String),
    fc
      .tuple(fc.integer({ min, max }), fc.integer({ min, max: max + 1 }))
      .map(([a, b]) => `${a}-${b}`),
    fc.integer({ min: 0, max: 13 }).map((step) => `*/${step}`),
    fc
      .tuple(fc.integer({ min, max }), fc.integer({ min: 1, max: 13 }))
      .map(([a, step]) => `${a}/${step}`),
    fc
      .tuple(fc.integer({ min, max }), fc.integer({ min, max }), fc.integer({ min: 1, max: 9 }))
      .map(([a, b, step]) => `${Math.min(a, b)}-${Math.max(a, b)}/${step}`),
  );
const field = (index: number) => {
  const [min, max] = BOUNDS[index]!;
  return fc.array(part(min, max), { minLength: 1, maxLength: 3 }).map((parts) => parts.join(','));
};
const expression = fc
  .tuple(field(0), field(1), field(2), field(3), field(4), field(5), fc.boolean())
  // Mostly one restricted day field, as the schedule parser requires.
  .map(([s, m, h, dom, mon, dow, domFree]) => [
    s,
    m,
    h,
    domFree ? '*' : dom,
    mon,
    domFree ? dow : '*',
  ]);
const instant = fc.integer({
  min: Date.UTC(2020, 0, 1),
  max: Date.UTC(2032, 0, 1),
});

describe('the fast cron path', () => {
  it('finds the same next time as cron-parser for every expression it accepts', () => {
    fc.assert(
      fc.property(expression, instant, (fields, after) => {
        const fast = compileSimpleCron(fields);
        if (!fast) return;
        const slow = CronExpressionParser.parse(fields.join(' '), { tz: 'UTC', strict: true });
        slow.reset(new Date(after));
        expect(nextSimpleCronTime(fast, after)).toBe(slow.next().getTime());
      }),
      { numRuns: 3000 },
    );
  });

  it('accepts only expressions the schedule parser accepts', () => {
    fc.assert(
      fc.property(expression, (fields) => {
        if (compileSimpleCron(fields)) {
          expect(() => parseSchedule(`cron:${fields.join(' ')}`)).not.toThrow();
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('leaves names, L, W, # and both day fields restricted to cron-parser', () => {
    for (const text of [
      '0 0 0 * * MON',
      '0 0 0 L * *',
      '0 0 0 15W * *',
      '0 0 0 * * 1#2',
      '0 0 0 1 * 1',
      '0 5-2 * * * *',
      '0 */0 * * * *',
    ]) {
      expect(compileSimpleCron(text.split(' ')), text).toBeNull();
    }
  });

  it('keeps next slots right across daylight saving for thousands of distinct schedules', () => {
    // 2026-03-08 02:30 does not exist in New York: the slot fires when the clocks jump (03:00 EDT).
    const after = new Date('2026-03-08T06:00:00Z');
    for (let minute = 0; minute < 60; minute += 1) {
      const slot = nextSlot(`cron:${minute} 2 * * *`, 'America/New_York', after);
      expect(slot).toEqual(new Date('2026-03-08T07:00:00Z'));
    }
    expect(
      nextSlot('cron:30 1 * * *', 'America/New_York', new Date('2026-11-01T05:31:00Z')),
    ).toEqual(new Date('2026-11-02T06:30:00Z'));
  });
});
