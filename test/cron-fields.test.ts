import { CronExpressionParser } from 'cron-parser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canEverMatch, compileSimpleCron, nextSimpleCronTime } from '../lib/cron-fields';
import { normalizedCron, readCronFields } from '../lib/cron-syntax';
import { nextSlot, parseSchedule, ScheduleError } from '../lib/schedule';

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

  it.each([
    // With a single month cron-parser drops the days it lacks before looking for duplicates (so
    // these are accepted), unless nothing but those days is left; with two months it drops none.
    ['0 0 0 L,31,31 4 *', true],
    ['0 0 0 30,30,L 2 *', true],
    ['0 0 0 L,30-31,31 2 *', true],
    ['0 0 0 30,31,31 4 *', true],
    ['0 0 0 31,31 2 *', false],
    ['0 0 0 L,31,31 2,4 *', false],
    ['0 0 0 L,29,29 2 *', false],
  ])(
    '%s: a day the single month lacks, listed twice: accepted %s, like cron-parser',
    (text, ok) => {
      const fields = text.split(' ');
      const slow = cronParserSays(fields, Date.UTC(2026, 0, 1));
      expect(typeof slow === 'number').toBe(ok);
      const fast = fastPath(fields);
      if (ok) expect(fast && nextSimpleCronTime(fast, Date.UTC(2026, 0, 1))).toBe(slow);
      else expect(fast).toBeNull();
    },
  );

  it('skips months and days that cannot match to the same next time as cron-parser', () => {
    // Yearly, monthly on a day some months lack, 29 February, months listed across the year's
    // end, and weekday forms (which the day skip must not take): each from a few instants.
    const expressions = [
      '0 0 0 1 1 *',
      '0 0 0 2,3 * *',
      '0 30 9 31 * *',
      '0 0 12 29 2 *',
      '0 5 4 15 3,11 *',
      '0 0 0 1,15 */4 *',
      '0 0 0 * 6 1',
      '0 0 0 * * 5L',
      '0 0 0 * 2 1#5',
      '0 0 0 L 4 *',
    ];
    const froms = [
      Date.UTC(2026, 0, 1),
      Date.UTC(2026, 0, 1, 0, 0, 0, 1),
      Date.UTC(2026, 10, 29, 22, 5),
      Date.UTC(2027, 11, 31, 23, 59, 59),
      Date.UTC(2028, 1, 29, 12),
    ];
    for (const text of expressions) {
      const fast = compileSimpleCron(text.split(' '))!;
      const slow = CronExpressionParser.parse(text, { tz: 'UTC', strict: true });
      for (const from of froms) {
        slow.reset(new Date(from));
        expect(
          nextSimpleCronTime(fast, from),
          `${text} after ${new Date(from).toISOString()}`,
        ).toBe(slow.next().getTime());
      }
    }
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

  it('leaves names, W, # in a list, a form listed twice and both day fields restricted', () => {
    for (const text of [
      '0 0 0 * * MON',
      '0 0 0 15W * *',
      '0 0 0 * * 1#2,3#4',
      '0 0 0 * * 1,1#2',
      '0 0 0 L,L * *',
      '0 0 0 * * 5L,5L',
      '0 0 0 * * 7L',
      '0 0 0 * * 1#6',
      '0 0 0 1 * 1',
      '0 5-2 * * * *',
      '0 */0 * * * *',
    ]) {
      expect(compileSimpleCron(text.split(' ')), text).toBeNull();
    }
  });

  it('takes a day-of-week * as every day (0-6), not Sunday twice', () => {
    const cron = compileSimpleCron('0 */5 * * * *'.split(' '));
    expect(cron?.daysOfWeek.slice(0, 7)).toEqual(new Uint8Array(7).fill(1));
    expect(compileSimpleCron('0 0 0 * * */2'.split(' '))?.daysOfWeek.slice(0, 7)).toEqual(
      Uint8Array.from([1, 0, 1, 0, 1, 0, 1]),
    );
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

// Day fields with Quartz's forms as the schedule parser writes them for cron-parser (numbers only).
const quartzExpression = fc
  .tuple(
    fc.constantFrom('0', '30'),
    fc.constantFrom('0', '15'),
    fc.constantFrom('0', '9', '*/6'),
    fc.array(fc.oneof(fc.constant('L'), fc.integer({ min: 1, max: 31 }).map(String)), {
      minLength: 1,
      maxLength: 3,
    }),
    fc.oneof(
      fc.constant('*'),
      fc.uniqueArray(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 3 }).map(String),
    ),
    fc.array(
      fc.oneof(
        fc.integer({ min: 0, max: 6 }).map((day) => `${day}L`),
        fc
          .tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 1, max: 5 }))
          .map(([day, n]) => `${day}#${n}`),
        fc.integer({ min: 0, max: 6 }).map(String),
      ),
      { minLength: 1, maxLength: 3 },
    ),
    fc.boolean(),
  )
  .map(([s, m, h, dom, mon, dow, domFree]) => [
    s,
    m,
    h,
    domFree ? '*' : dom.join(','),
    mon,
    domFree ? dow.join(',') : '*',
  ]);

// An expression that can never fire (31 April) is refused before anything searches for a slot.
function fastPath(fields: readonly string[]) {
  const compiled = compileSimpleCron(fields);
  return compiled && canEverMatch(compiled) ? compiled : null;
}

/** What cron-parser says of an expression: its next time after `after`, or its refusal. */
function cronParserSays(fields: readonly string[], after: number): number | string {
  try {
    const parsed = CronExpressionParser.parse(fields.join(' '), { tz: 'UTC', strict: true });
    parsed.reset(new Date(after));
    return parsed.next().getTime();
  } catch (error) {
    return (error as Error).message;
  }
}

describe('L, nL and n#k without cron-parser', () => {
  it('compiles exactly what cron-parser accepts, and finds the same next time', () => {
    fc.assert(
      fc.property(quartzExpression, instant, (fields, after) => {
        const fast = fastPath(fields);
        const slow = cronParserSays(fields, after);
        if (typeof slow === 'string') expect(fast, slow).toBeNull();
        else expect(fast && nextSimpleCronTime(fast, after)).toBe(slow);
      }),
      { numRuns: 1500 },
    );
  });

  it('compiles every expression the schedule parser accepts, once written with numbers only', () => {
    fc.assert(
      fc.property(quartzExpression, (fields) => {
        const read = readCronFields(fields);
        const normalized = normalizedCron(read).split(' ');
        let accepted = true;
        try {
          parseSchedule(`cron:${fields.join(' ')}`);
        } catch (error) {
          if (!(error instanceof ScheduleError)) throw error;
          accepted = false;
        }
        expect(fastPath(normalized) !== null, fields.join(' ')).toBe(accepted);
      }),
      { numRuns: 3000 },
    );
  });

  it.each([
    ['0 0 L,L * *', 'CronDayOfMonth Validation error, duplicate values found: L'],
    ['0 0 * * 5L,5L', 'CronDayOfWeek Validation error, duplicate values found: 5L'],
    ['0 0 * * 0L,7L', 'CronDayOfWeek Validation error, duplicate values found: 0L'],
    [
      '0 0 * * 1#2,3#4',
      'Constraint error, invalid dayOfWeek `#` and `,` special characters are incompatible',
    ],
    [
      '0 0 * * MON,MON#2',
      'Constraint error, invalid dayOfWeek `#` and `,` special characters are incompatible',
    ],
  ])("still refuses %s with cron-parser's words", (expression, message) => {
    expect(() => parseSchedule(`cron:${expression}`)).toThrow(
      `cron expression "${expression}": ${message}`,
    );
  });

  it.each([
    // The fifth Monday of February needs 29 February on a Monday: 2044, 2072, then 2112 (2100 is
    // no leap year), as cron-parser finds by searching day by day.
    ['0 0 * 2 MON#5', ['2044-02-29', '2072-02-29', '2112-02-29']],
    ['0 0 L 2 *', ['2027-02-28', '2028-02-29', '2029-02-28']],
    ['0 0 * * 5L', ['2026-06-26', '2026-07-31', '2026-08-28']],
    ['0 0 * * 0#5', ['2026-08-30', '2026-11-29', '2027-01-31']],
    ['0 0 1,15,L * *', ['2026-06-15', '2026-06-30', '2026-07-01']],
    ['0 0 * * 5,5L', ['2026-06-05', '2026-06-12', '2026-06-19']],
  ])('%s fires on %j', (expression, days) => {
    let after = new Date('2026-06-01T00:00:00Z');
    const fired: string[] = [];
    while (fired.length < days.length) {
      after = nextSlot(`cron:${expression}`, 'UTC', after)!;
      fired.push(after.toISOString().slice(0, 10));
    }
    expect(fired).toEqual(days);
  });
});
