import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { localDateTimes } from './helpers/schedules';
import {
  afterJobIds,
  isValidTimeZone,
  nextSlot,
  parseSchedule,
  ScheduleError,
  shortestIntervalSeconds,
  utcOffsetMinutes,
} from '../lib/schedule';

const iso = (date: Date) => date.toISOString().replace('.000Z', 'Z');

/** Every slot in [from, until), found by chaining nextSlot; checks the chain only moves forward. */
function slots(schedule: string, timeZone: string, from: string, until: string): string[] {
  const found: string[] = [];
  let after = new Date(from);
  for (;;) {
    const next = nextSlot(schedule, timeZone, after);
    if (next === null || next >= new Date(until)) break;
    expect(next.getTime()).toBeGreaterThan(after.getTime());
    found.push(iso(next));
    after = next;
  }
  expect(new Set(found).size).toBe(found.length);
  return found;
}

function rejection(text: string): string {
  try {
    parseSchedule(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ScheduleError);
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

/** Schedules parseSchedule refuses, with fragments of each message. */
const REFUSED: [string, string[]][] = [
  ['', ['empty', 'every_minute', 'cron:<5 or 6 field expression>']],
  [' daily', ['whitespace']],
  ['daily\n', ['whitespace']],
  [
    'Daily',
    [
      'unknown schedule "Daily": use every_minute, ' +
        'every_N_minutes (N: 2, 3, 4, 5, 6, 10, 12, 15, 20, 30), ' +
        'hourly, every_N_hours (N: 2, 3, 4, 6, 8, 12), daily, weekly, monthly, ' +
        '@hourly, @daily, @weekly, @monthly, @yearly, @annually, ' +
        'cron:<5 or 6 field expression>, at:<YYYY-MM-DDTHH:mm[:ss]> or ' +
        'after:<job id>[,<job id>…]',
    ],
  ],
  ['xyz', ['unknown schedule "xyz"']],
  ['every_7_minutes', ['must be one of 2, 3, 4, 5, 6, 10, 12, 15, 20, 30']],
  ['every_1_minutes', ['must be one of 2, 3, 4']],
  ['every_60_minutes', ['must be one of 2, 3, 4']],
  ['every_05_minutes', ['must be one of 2, 3, 4']],
  ['every_5_hours', ['must be one of 2, 3, 4, 6, 8, 12']],
  ['every_24_hours', ['must be one of 2, 3, 4, 6, 8, 12']],
  ['cron:', ['needs an expression', 'cron:0 2 * * *']],
  ['cron: 0 2 * * *', ['whitespace']],
  ['cron:61 * * * *', ['minute field "61"', '0-59']],
  ['cron:* 25 * * *', ['hour field "25"', '0-23']],
  ['cron:0 0 32 * *', ['day-of-month field "32"', '1-31']],
  ['cron:0 0 * 13 *', ['month field "13"', '1-12']],
  ['cron:0 0 * * 8', ['day-of-week field "8"']],
  ['cron:60 * * * * *', ['second field "60"', '0-59']],
  ['cron:*/0 * * * *', ['minute field "*/0"']],
  ['cron:0 0 * * xyz', ['day-of-week field "xyz"']],
  ['cron:a b c d e', ['minute field "a"']],
  ['cron:* * * *', ['has 4 fields', 'expected 5', 'or 6']],
  ['cron:* * * * * * *', ['has 7 fields']],
  ['cron:garbage', ['has 1 field;']],
  ['cron:@reboot', ['unknown macro "@reboot"', '@hourly, @daily, @weekly']],
  ['@reboot', ['unknown macro "@reboot"']],
  ['@DAILY', ['unknown macro "@DAILY"']],
  [
    'cron:0 0 * * MONDAY',
    ['day-of-week field "MONDAY"', '"MONDAY" is not a day name', 'SUN MON TUE'],
  ],
  ['cron:0 0 1 JANUARY *', ['month field "JANUARY"', '"JANUARY" is not a month name', 'JAN FEB']],
  ['cron:0 0 L-2 * *', ['day-of-month field "L-2"', 'L alone means the last day']],
  ['cron:0 0 15W * *', ['day-of-month field "15W"', 'W (nearest weekday)']],
  ['cron:*/90 * * * *', ['minute field "*/90"', 'steps by 90 through 60 values', 'only at 0']],
  ['cron:0 */24 * * *', ['hour field "*/24"', 'only at 0']],
  ['cron:0 0 * * FRI-MON', ['day-of-week field "FRI-MON"', 'runs backwards']],
  ['cron:0 0 * * 1#6', ['day-of-week field "1#6"', '#1 to #5']],
  ['cron:0 0 * * MON,', ['day-of-week field "MON,"', 'empty list item']],
  ['cron:0 0 30 2 *', ['never fire']],
  ['cron:0 0 31 4,6 *', ['never fire']],
  ['cron:0 0 1 * 1', ['day-of-month or day-of-week, not both']],
  ['cron:H * * * *', ['H (hashed values)']],
  ['at:2026-02-30T09:00', ['not a real calendar date-time']],
  ['at:2026-12-01T24:00', ['not a real calendar date-time']],
  ['at:2026-12-01', ['YYYY-MM-DDTHH:mm[:ss]']],
  ['at:2026-12-01T09:00:00Z', ['without offset', "job's time zone"]],
  ['at:2026-12-01 09:00', ['YYYY-MM-DDTHH:mm[:ss]']],
  ['at:tomorrow', ['YYYY-MM-DDTHH:mm[:ss]']],
  ['at:x2026-12-01T09:00', ['YYYY-MM-DDTHH:mm[:ss]']],
  ['after:', ['needs the id of at least one job']],
  ['xevery_5_minutes', ['unknown schedule "xevery_5_minutes"']],
  ['every_5_minutesx', ['unknown schedule "every_5_minutesx"']],
  // 242 characters, every value once: too long, however well formed.
  [
    `cron:${Array.from({ length: 60 }, (_, i) => i).join(',')} ${Array.from({ length: 24 }, (_, i) => i).join(',')} * * *`,
    ['schedule is 242 characters long; at most 200 are allowed'],
  ],
  ['after:7D2E9F10-3C4B-4A5D-8E6F-1A2B3C4D5E6F', ['is not a job id', 'lowercase']],
  ['at:1969-12-31T23:00', ['1970 or later']],
  [`cron:${'1,'.repeat(100)}1 * * * *`, ['at most 200']],
];

describe('parseSchedule', () => {
  const aliases: [string, string][] = [
    ['every_minute', '* * * * *'],
    ...[2, 3, 4, 5, 6, 10, 12, 15, 20, 30].map((n): [string, string] => [
      `every_${n}_minutes`,
      `*/${n} * * * *`,
    ]),
    ['hourly', '0 * * * *'],
    ...[2, 3, 4, 6, 8, 12].map((n): [string, string] => [`every_${n}_hours`, `0 */${n} * * *`]),
    ['daily', '0 0 * * *'],
    ['weekly', '0 0 * * 0'],
    ['monthly', '0 0 1 * *'],
  ];

  it.each(aliases)('%s is exactly cron %s', (text, cron) => {
    expect(parseSchedule(text)).toEqual({ kind: 'recurring', text, cron });
  });

  it.each(aliases)('%s fires exactly when cron:%s does, DST included', (text, cron) => {
    for (const from of ['2026-03-07T00:00:00Z', '2026-10-31T00:00:00Z']) {
      let alias: Date | null = new Date(from);
      let expression: Date | null = alias;
      for (let i = 0; i < 100; i++) {
        alias = nextSlot(text, 'America/New_York', alias!);
        expression = nextSlot(`cron:${cron}`, 'America/New_York', expression!);
        expect(alias).toEqual(expression);
      }
    }
  });

  const macros: [string, string][] = [
    ['@hourly', '0 * * * *'],
    ['@daily', '0 0 * * *'],
    ['@weekly', '0 0 * * 0'],
    ['@monthly', '0 0 1 * *'],
    ['@yearly', '0 0 1 1 *'],
    ['@annually', '0 0 1 1 *'],
  ];

  it.each(macros)("crontab's %s is exactly cron %s, also written cron:%s", (macro, cron) => {
    expect(parseSchedule(macro)).toEqual({ kind: 'recurring', text: macro, cron });
    expect(parseSchedule(`cron:${macro}`)).toMatchObject({ cron });
    let a: Date | null = new Date('2026-03-07T00:00:00Z');
    let b: Date | null = a;
    for (let i = 0; i < 30; i++) {
      a = nextSlot(macro, 'America/New_York', a!);
      b = nextSlot(`cron:${cron}`, 'America/New_York', b!);
      expect(a).toEqual(b);
    }
  });

  it.each([
    ['0 0 * * 0,7', '0 0 * * 0'],
    ['0 0 * * SAT-SUN', '0 0 * * 6,0'],
    ['0 0 * * sat,sun', '0 0 * * 6,0'],
    ['0 0 * * 6-7', '0 0 * * 6,0'],
    ['0 0 * * MON-FRI', '0 0 * * 1-5'],
    ['0 0 * * 1,1,2', '0 0 * * 1,2'],
    ['0 0 1 jan,Jul *', '0 0 1 1,7 *'],
    ['0 0 * * 5L', '0 0 * * 5L'],
    ['0 0 * * FRI#2', '0 0 * * 5#2'],
    ['*/7 * * * *', '*/7 * * * *'],
  ])('accepts %s as crontab means it (same slots as %s)', (text, same) => {
    let a: Date | null = new Date('2026-01-01T00:00:00Z');
    let b: Date | null = a;
    for (let i = 0; i < 20; i++) {
      a = nextSlot(`cron:${text}`, 'Europe/Berlin', a!);
      b = nextSlot(`cron:${same}`, 'Europe/Berlin', b!);
      expect(a, text).toEqual(b);
    }
  });

  it('accepts a rare expression that can fire and refuses one that cannot, without searching', () => {
    expect(parseSchedule('cron:0 0 0 29 2 *')).toMatchObject({ kind: 'recurring' });
    expect(parseSchedule('cron:0 0 0 * 2 MON#5')).toMatchObject({ kind: 'recurring' });
    expect(nextSlot('cron:0 0 0 * 2 MON#5', 'UTC', new Date('2026-01-01T00:00:00Z'))).toEqual(
      new Date('2044-02-29T00:00:00Z'), // the next February with five Mondays
    );
    expect(rejection('cron:0 0 30 2 *')).toContain('it can never fire');
    expect(rejection('cron:0 0 31 2,4,6,9,11 *')).toContain('it can never fire');
  });

  it('accepts cron fields separated by several spaces or tabs, as crontab does', () => {
    expect(parseSchedule('cron:0  2\t* * *')).toMatchObject({
      kind: 'recurring',
      cron: '0 2 * * *',
    });
    expect(nextSlot('cron:0  2\t* * *', 'UTC', new Date('2026-05-05T10:00:00Z'))).toEqual(
      new Date('2026-05-06T02:00:00Z'),
    );
  });

  it('accepts cron expressions with 5 or 6 fields', () => {
    expect(parseSchedule('cron:0 2 * * *')).toEqual({
      kind: 'recurring',
      text: 'cron:0 2 * * *',
      cron: '0 2 * * *',
    });
    expect(parseSchedule('cron:30 */5 * * * *')).toMatchObject({ cron: '30 */5 * * * *' });
    expect(parseSchedule('cron:0 9 * * mon-fri')).toMatchObject({ cron: '0 9 * * mon-fri' });
    expect(parseSchedule('cron:0 0 L * *')).toMatchObject({ cron: '0 0 L * *' });
  });

  it('accepts at: with or without seconds', () => {
    expect(parseSchedule('at:2026-12-01T09:00:00')).toEqual({
      kind: 'once',
      text: 'at:2026-12-01T09:00:00',
      localDateTime: '2026-12-01T09:00:00',
    });
    expect(parseSchedule('at:2026-12-01T09:00')).toMatchObject({
      localDateTime: '2026-12-01T09:00:00',
    });
    expect(parseSchedule('at:2028-02-29T23:59:59')).toMatchObject({
      localDateTime: '2028-02-29T23:59:59',
    });
  });

  it.each(REFUSED)('rejects %j', (text, fragments) => {
    const message = rejection(text);
    for (const fragment of fragments) expect(message).toContain(fragment);
  });
});

describe('parseSchedule refusals, word for word', () => {
  it('throws a ScheduleError by that name', () => {
    expect(() => parseSchedule('xyz')).toThrow(expect.objectContaining({ name: 'ScheduleError' }));
  });

  it.each([
    [
      'every_7_minutes',
      'schedule "every_7_minutes": N in every_N_minutes must be one of 2, 3, 4, 5, 6, 10, 12, 15, ' +
        '20, 30 (an interval that divides the hour evenly); for anything else use cron:<expression>',
    ],
    [
      'every_5_hours',
      'schedule "every_5_hours": N in every_N_hours must be one of 2, 3, 4, 6, 8, 12 (an interval ' +
        'that divides the day evenly); for anything else use cron:<expression>',
    ],
    [
      '@reboot',
      'unknown macro "@reboot": crontab\'s macros accepted are @hourly, @daily, @weekly, @monthly, ' +
        '@yearly, @annually',
    ],
    ['', expect.stringMatching(/^schedule is empty: use every_minute, /)],
    [
      `cron:${'1,'.repeat(100)}1 * * * *`,
      'schedule is 214 characters long; at most 200 are allowed',
    ],
  ])('refuses %j saying exactly why', (text, message) => {
    expect(rejection(text)).toEqual(message);
  });

  it('takes a schedule of exactly 200 characters', () => {
    const text = `cron:${'1,'.repeat(93)}1 * * * *`;
    expect(text).toHaveLength(200);
    expect(parseSchedule(text)).toMatchObject({ kind: 'recurring' });
    expect(rejection(`cron:${'1,'.repeat(93)}11 * * * *`)).toContain('at most 200');
  });

  it.each(['xevery_5_minutes', 'every_5_minutesx', 'every_5_hoursx'])(
    'refuses %j: the every_N_ form is the whole text',
    (text) => {
      expect(rejection(text)).toContain(`unknown schedule ${JSON.stringify(text)}`);
    },
  );

  it('takes at: from 1970 on', () => {
    expect(parseSchedule('at:1970-01-01T00:00')).toMatchObject({ kind: 'once' });
  });
});

describe('isValidTimeZone', () => {
  it.each(['UTC', 'America/New_York', 'Europe/Berlin', 'Asia/Kolkata', 'Australia/Sydney'])(
    'accepts %s',
    (zone) => expect(isValidTimeZone(zone)).toBe(true),
  );

  it.each(['', 'Mars/Base', 'America/Atlantis', 'Europe/Berlin '])('rejects %j', (zone) =>
    expect(isValidTimeZone(zone)).toBe(false),
  );

  it('makes nextSlot throw a ScheduleError naming the zone', () => {
    expect(() => nextSlot('daily', 'Mars/Base', new Date())).toThrow(ScheduleError);
    expect(() => nextSlot('daily', 'Mars/Base', new Date())).toThrow(
      'unknown time zone "Mars/Base"',
    );
    expect(() => nextSlot('daily', '', new Date())).toThrow('time zone is empty');
  });
});

describe('nextSlot', () => {
  it('is strictly after `after`, also when `after` is exactly a slot', () => {
    const onSlot = new Date('2026-05-05T10:00:00Z');
    expect(nextSlot('hourly', 'UTC', onSlot)).toEqual(new Date('2026-05-05T11:00:00Z'));
    expect(nextSlot('hourly', 'UTC', new Date(onSlot.getTime() - 1))).toEqual(onSlot);
    expect(nextSlot('every_5_minutes', 'UTC', new Date('2026-05-05T10:02:30.500Z'))).toEqual(
      new Date('2026-05-05T10:05:00Z'),
    );
  });

  it('throws a ScheduleError on an invalid schedule', () => {
    expect(() => nextSlot('sometimes', 'UTC', new Date())).toThrow(ScheduleError);
  });

  // A stored schedule that no longer parses stops its job with parseSchedule's reason: the fast
  // path that computes most slots must refuse exactly what parseSchedule refuses.
  it.each(REFUSED)('refuses %j with the words of parseSchedule', (text) => {
    const message = rejection(text);
    expect(() => nextSlot(text, 'UTC', new Date('2026-05-05T10:00:00Z'))).toThrow(
      new ScheduleError(message),
    );
  });

  it('refuses an invalid Date', () => {
    expect(() => nextSlot('daily', 'UTC', new Date(Number.NaN))).toThrow(
      new RangeError('invalid Date'),
    );
  });

  it('reads slots in the job time zone', () => {
    expect(slots('daily', 'Asia/Kolkata', '2026-06-01T00:00:00Z', '2026-06-03T00:00:00Z')).toEqual([
      '2026-06-01T18:30:00Z',
      '2026-06-02T18:30:00Z',
    ]);
    expect(nextSlot('weekly', 'Europe/Berlin', new Date('2026-06-01T00:00:00Z'))).toEqual(
      new Date('2026-06-06T22:00:00Z'), // Sunday 2026-06-07 00:00 CEST
    );
    expect(nextSlot('monthly', 'America/New_York', new Date('2026-06-15T00:00:00Z'))).toEqual(
      new Date('2026-07-01T04:00:00Z'),
    );
  });

  it('supports a leading seconds field', () => {
    expect(
      slots('cron:*/20 * * * * *', 'UTC', '2026-05-05T10:00:00Z', '2026-05-05T10:01:00Z'),
    ).toEqual(['2026-05-05T10:00:20Z', '2026-05-05T10:00:40Z']);
    expect(nextSlot('cron:30 0 9 * * *', 'UTC', new Date('2026-05-05T10:00:00Z'))).toEqual(
      new Date('2026-05-06T09:00:30Z'),
    );
  });

  it('finds rare slots', () => {
    expect(nextSlot('cron:0 0 29 2 *', 'UTC', new Date('2026-01-01T00:00:00Z'))).toEqual(
      new Date('2028-02-29T00:00:00Z'),
    );
  });

  it('fires at: once, in the job time zone, and never when it is not in the future', () => {
    const at = 'at:2026-12-01T09:00';
    const due = new Date('2026-12-01T08:00:00Z'); // 09:00 CET
    expect(nextSlot(at, 'Europe/Berlin', new Date('2026-01-01T00:00:00Z'))).toEqual(due);
    expect(nextSlot(at, 'Europe/Berlin', new Date(due.getTime() - 1))).toEqual(due);
    expect(nextSlot(at, 'Europe/Berlin', due)).toBeNull();
    expect(nextSlot(at, 'Europe/Berlin', new Date('2027-01-01T00:00:00Z'))).toBeNull();
    expect(nextSlot(at, 'UTC', new Date('2026-01-01T00:00:00Z'))).toEqual(
      new Date('2026-12-01T09:00:00Z'),
    );
  });
});

describe('daylight saving', () => {
  const NY = 'America/New_York';
  const BERLIN = 'Europe/Berlin';
  const SYDNEY = 'Australia/Sydney';

  describe('America/New_York, spring forward 2026-03-08 (02:00 EST -> 03:00 EDT)', () => {
    it('daily at 00:00 is unaffected', () => {
      expect(slots('daily', NY, '2026-03-07T00:00:00Z', '2026-03-10T00:00:00Z')).toEqual([
        '2026-03-07T05:00:00Z',
        '2026-03-08T05:00:00Z',
        '2026-03-09T04:00:00Z',
      ]);
    });

    it('hourly fires 01:00 EST, then 03:00 EDT once for the 02:00 and 03:00 slots', () => {
      expect(slots('hourly', NY, '2026-03-08T04:30:00Z', '2026-03-08T09:30:00Z')).toEqual([
        '2026-03-08T05:00:00Z',
        '2026-03-08T06:00:00Z',
        '2026-03-08T07:00:00Z',
        '2026-03-08T08:00:00Z',
        '2026-03-08T09:00:00Z',
      ]);
    });

    it('cron:30 2 * * * fires at 03:00 EDT, when the clocks jump', () => {
      expect(slots('cron:30 2 * * *', NY, '2026-03-07T00:00:00Z', '2026-03-10T00:00:00Z')).toEqual([
        '2026-03-07T07:30:00Z',
        '2026-03-08T07:00:00Z',
        '2026-03-09T06:30:00Z',
      ]);
    });

    it('every_15_minutes fires the gap slots once, at 03:00 EDT', () => {
      expect(slots('every_15_minutes', NY, '2026-03-08T06:20:00Z', '2026-03-08T07:20:00Z')).toEqual(
        [
          '2026-03-08T06:30:00Z',
          '2026-03-08T06:45:00Z',
          '2026-03-08T07:00:00Z',
          '2026-03-08T07:15:00Z',
        ],
      );
    });
  });

  describe('America/New_York, fall back 2026-11-01 (02:00 EDT -> 01:00 EST)', () => {
    it('daily at 00:00 is unaffected', () => {
      expect(slots('daily', NY, '2026-10-31T00:00:00Z', '2026-11-03T00:00:00Z')).toEqual([
        '2026-10-31T04:00:00Z',
        '2026-11-01T04:00:00Z',
        '2026-11-02T05:00:00Z',
      ]);
    });

    it('hourly fires 01:00 EDT, not 01:00 EST, then 02:00 EST', () => {
      expect(slots('hourly', NY, '2026-11-01T03:30:00Z', '2026-11-01T08:30:00Z')).toEqual([
        '2026-11-01T04:00:00Z',
        '2026-11-01T05:00:00Z',
        '2026-11-01T07:00:00Z',
        '2026-11-01T08:00:00Z',
      ]);
    });

    it('cron:30 2 * * * fires once, at 02:30 EST', () => {
      expect(slots('cron:30 2 * * *', NY, '2026-10-31T00:00:00Z', '2026-11-03T00:00:00Z')).toEqual([
        '2026-10-31T06:30:00Z',
        '2026-11-01T07:30:00Z',
        '2026-11-02T07:30:00Z',
      ]);
    });

    it('cron:30 1 * * * fires once, at the first 01:30 (EDT)', () => {
      expect(slots('cron:30 1 * * *', NY, '2026-10-31T00:00:00Z', '2026-11-03T00:00:00Z')).toEqual([
        '2026-10-31T05:30:00Z',
        '2026-11-01T05:30:00Z',
        '2026-11-02T06:30:00Z',
      ]);
    });

    it('every_15_minutes skips the repeated 01:xx EST slots', () => {
      expect(slots('every_15_minutes', NY, '2026-11-01T04:50:00Z', '2026-11-01T07:20:00Z')).toEqual(
        [
          '2026-11-01T05:00:00Z',
          '2026-11-01T05:15:00Z',
          '2026-11-01T05:30:00Z',
          '2026-11-01T05:45:00Z',
          '2026-11-01T07:00:00Z',
          '2026-11-01T07:15:00Z',
        ],
      );
    });

    it('resumes after the repeated hour when `after` falls inside it', () => {
      const secondPass = new Date('2026-11-01T06:30:00Z'); // 01:30 EST
      expect(nextSlot('hourly', NY, secondPass)).toEqual(new Date('2026-11-01T07:00:00Z'));
      expect(nextSlot('every_minute', NY, secondPass)).toEqual(new Date('2026-11-01T07:00:00Z'));
      expect(nextSlot('cron:* * * * * *', NY, new Date('2026-11-01T06:00:00Z'))).toEqual(
        new Date('2026-11-01T07:00:00Z'),
      );
      expect(nextSlot('cron:30 1 * * *', NY, secondPass)).toEqual(new Date('2026-11-02T06:30:00Z'));
    });
  });

  describe('Europe/Berlin, spring forward 2026-03-29 (02:00 CET -> 03:00 CEST)', () => {
    it('daily at 00:00 is unaffected', () => {
      expect(slots('daily', BERLIN, '2026-03-28T00:00:00Z', '2026-03-31T00:00:00Z')).toEqual([
        '2026-03-28T23:00:00Z',
        '2026-03-29T22:00:00Z',
        '2026-03-30T22:00:00Z',
      ]);
    });

    it('hourly fires 01:00 CET, then 03:00 CEST once', () => {
      expect(slots('hourly', BERLIN, '2026-03-28T22:30:00Z', '2026-03-29T02:30:00Z')).toEqual([
        '2026-03-28T23:00:00Z',
        '2026-03-29T00:00:00Z',
        '2026-03-29T01:00:00Z',
        '2026-03-29T02:00:00Z',
      ]);
    });

    it('cron:30 2 * * * fires at 03:00 CEST, when the clocks jump', () => {
      expect(
        slots('cron:30 2 * * *', BERLIN, '2026-03-28T00:00:00Z', '2026-03-31T00:00:00Z'),
      ).toEqual(['2026-03-28T01:30:00Z', '2026-03-29T01:00:00Z', '2026-03-30T00:30:00Z']);
    });
  });

  describe('Europe/Berlin, fall back 2026-10-25 (03:00 CEST -> 02:00 CET)', () => {
    it('daily at 00:00 is unaffected', () => {
      expect(slots('daily', BERLIN, '2026-10-24T00:00:00Z', '2026-10-27T00:00:00Z')).toEqual([
        '2026-10-24T22:00:00Z',
        '2026-10-25T23:00:00Z',
        '2026-10-26T23:00:00Z',
      ]);
    });

    it('hourly fires 02:00 CEST, not 02:00 CET, then 03:00 CET', () => {
      expect(slots('hourly', BERLIN, '2026-10-24T21:30:00Z', '2026-10-25T03:30:00Z')).toEqual([
        '2026-10-24T22:00:00Z',
        '2026-10-24T23:00:00Z',
        '2026-10-25T00:00:00Z',
        '2026-10-25T02:00:00Z',
        '2026-10-25T03:00:00Z',
      ]);
    });

    it('cron:30 2 * * * fires once, at 02:30 CEST', () => {
      expect(
        slots('cron:30 2 * * *', BERLIN, '2026-10-24T00:00:00Z', '2026-10-27T00:00:00Z'),
      ).toEqual(['2026-10-24T00:30:00Z', '2026-10-25T00:30:00Z', '2026-10-26T01:30:00Z']);
    });
  });

  describe('Australia/Sydney', () => {
    it('cron:30 2 * * * fires once at the first 02:30 when falling back on 2026-04-05', () => {
      expect(
        slots('cron:30 2 * * *', SYDNEY, '2026-04-03T00:00:00Z', '2026-04-06T00:00:00Z'),
      ).toEqual(['2026-04-03T15:30:00Z', '2026-04-04T15:30:00Z', '2026-04-05T16:30:00Z']);
    });

    it('cron:30 2 * * * fires at 03:00 AEDT when springing forward on 2026-10-04', () => {
      expect(
        slots('cron:30 2 * * *', SYDNEY, '2026-10-02T00:00:00Z', '2026-10-05T00:00:00Z'),
      ).toEqual(['2026-10-02T16:30:00Z', '2026-10-03T16:00:00Z', '2026-10-04T15:30:00Z']);
    });
  });

  // St. John's (UTC-3:30) changes its clocks at 02:00 local, half past a UTC hour: offsets change
  // inside an hour, not at its start.
  describe('America/St_Johns, where the clocks change at half past a UTC hour', () => {
    const STJ = 'America/St_Johns';
    it('every_15_minutes springs forward on 2026-03-08 at 05:30Z (02:00 NST -> 03:00 NDT)', () => {
      expect(
        slots('every_15_minutes', STJ, '2026-03-08T04:00:00Z', '2026-03-08T06:30:00Z'),
      ).toEqual([
        '2026-03-08T04:15:00Z',
        '2026-03-08T04:30:00Z',
        '2026-03-08T04:45:00Z',
        '2026-03-08T05:00:00Z',
        '2026-03-08T05:15:00Z',
        // 02:00 to 02:45 NST do not exist: they fire once, at the jump (03:00 NDT).
        '2026-03-08T05:30:00Z',
        '2026-03-08T05:45:00Z',
        '2026-03-08T06:00:00Z',
        '2026-03-08T06:15:00Z',
      ]);
    });

    it('every_15_minutes falls back on 2026-11-01 at 04:30Z (02:00 NDT -> 01:00 NST), once', () => {
      expect(
        slots('every_15_minutes', STJ, '2026-11-01T03:00:00Z', '2026-11-01T06:00:00Z'),
      ).toEqual([
        '2026-11-01T03:15:00Z',
        '2026-11-01T03:30:00Z',
        '2026-11-01T03:45:00Z',
        '2026-11-01T04:00:00Z',
        '2026-11-01T04:15:00Z',
        // 01:00 to 01:45 NST repeat 01:xx NDT, which fired already.
        '2026-11-01T05:30:00Z',
        '2026-11-01T05:45:00Z',
      ]);
    });

    it('reads the offset on both sides of the change within one UTC hour', () => {
      expect(utcOffsetMinutes(STJ, new Date('2026-03-08T05:29:59Z'))).toBe(-210);
      expect(utcOffsetMinutes(STJ, new Date('2026-03-08T05:30:00Z'))).toBe(-150);
      expect(utcOffsetMinutes(STJ, new Date('2026-03-08T05:45:00Z'))).toBe(-150);
      expect(utcOffsetMinutes(STJ, new Date('2026-03-08T05:15:00Z'))).toBe(-210);
    });
  });

  it('resolves at: in a gap to the jump and in a repeat to the first occurrence', () => {
    const start = new Date('2026-01-01T00:00:00Z');
    expect(nextSlot('at:2026-03-08T02:30', NY, start)).toEqual(new Date('2026-03-08T07:00:00Z'));
    expect(nextSlot('at:2026-11-01T01:30', NY, start)).toEqual(new Date('2026-11-01T05:30:00Z'));
  });

  it('fires every wall-clock hour of a year once, less the one that does not exist', () => {
    const year = slots('hourly', NY, '2026-01-01T04:59:59Z', '2027-01-01T05:00:00Z');
    expect(year).toHaveLength(365 * 24 - 1);
  });
});

describe('shortestIntervalSeconds', () => {
  const from = new Date('2026-05-05T10:00:00Z');

  it('measures the gap between consecutive slots', () => {
    expect(shortestIntervalSeconds('every_5_minutes', 'UTC', from)).toBe(300);
    expect(shortestIntervalSeconds('hourly', 'Europe/Berlin', from)).toBe(3600);
    expect(shortestIntervalSeconds('cron:*/10 * * * * *', 'UTC', from)).toBe(10);
    expect(shortestIntervalSeconds('cron:0 9,17 * * 1-5', 'UTC', from)).toBe(8 * 3600);
  });

  it('sees daylight-saving days', () => {
    const march = new Date('2026-03-01T00:00:00Z');
    expect(shortestIntervalSeconds('daily', 'America/New_York', march)).toBe(23 * 3600);
    expect(shortestIntervalSeconds('cron:30 2,3 * * *', 'America/New_York', march)).toBe(1800);
  });

  it('is null for a one-off schedule', () => {
    expect(shortestIntervalSeconds('at:2030-01-01T00:00', 'UTC', from)).toBeNull();
  });

  it('measures schedules written with day and month names', () => {
    expect(shortestIntervalSeconds('cron:0 9 * * MON-FRI', 'UTC', from)).toBe(86_400);
    expect(shortestIntervalSeconds('cron:0 12 * * SAT', 'Europe/Berlin', from)).toBe(7 * 86_400);
  });
});

describe('at: over its whole range, in every IANA zone', () => {
  const zones = Intl.supportedValuesOf('timeZone');
  const latest = new Date('9999-12-31T23:59:59.999Z');
  const now = new Date('2026-06-01T00:00:00Z');

  /** nextSlot's answer, or the ScheduleError it refused with: anything else fails the test. */
  function outcome(schedule: string, zone: string): Date | null | ScheduleError {
    try {
      return nextSlot(schedule, zone, now);
    } catch (error) {
      expect(error, `${schedule} in ${zone}`).toBeInstanceOf(ScheduleError);
      return error as ScheduleError;
    }
  }

  it('knows the zones', () => {
    expect(zones.length).toBeGreaterThan(300);
    for (const zone of zones) expect(isValidTimeZone(zone), zone).toBe(true);
  });

  it('refuses at:9999-12-31T23:59:59 where it falls after 9999 in UTC, and only there', () => {
    let refused = 0;
    for (const zone of zones) {
      const result = outcome('at:9999-12-31T23:59:59', zone);
      if (result instanceof ScheduleError) {
        refused += 1;
        expect(result.message).toContain(`in ${zone} is +010000-01-01T`);
        expect(result.message).toContain('after 9999-12-31T23:59:59Z');
      } else {
        expect(result, zone).toBeInstanceOf(Date);
        expect(result!.getTime()).toBeLessThanOrEqual(latest.getTime());
      }
    }
    expect(outcome('at:9999-12-31T23:59:59', 'America/New_York')).toBeInstanceOf(ScheduleError);
    expect(outcome('at:9999-12-31T23:59:59', 'UTC')).toEqual(new Date('9999-12-31T23:59:59Z'));
    expect(refused).toBeGreaterThan(50);
  });

  it('answers a slot, null or a ScheduleError for any date from 1970 to 9999 in any zone', () => {
    fc.assert(
      fc.property(localDateTimes, fc.constantFrom(...zones), (at, zone) => {
        const result = outcome(at, zone);
        if (result instanceof Date) {
          expect(result.getTime()).toBeGreaterThan(now.getTime());
          expect(result.getTime()).toBeLessThanOrEqual(latest.getTime());
        }
      }),
      { numRuns: 3000, seed: 20261129 },
    );
  });

  it('gives every recurring form a slot in every zone', () => {
    for (const zone of zones) {
      for (const schedule of ['every_minute', 'hourly', 'daily', 'monthly', 'cron:0 0 29 2 *']) {
        expect(outcome(schedule, zone), `${schedule} in ${zone}`).toBeInstanceOf(Date);
      }
    }
  });
});

describe('after: schedules', () => {
  const JOB_A = '0b5c3a8e-6f1d-4c2b-9a7e-2f4d6c8b1a30';
  const JOB_B = '7d2e9f10-3c4b-4a5d-8e6f-1a2b3c4d5e6f';
  const example = 'e.g. after:0b5c3a8e-6f1d-4c2b-9a7e-2f4d6c8b1a30';
  const jobIds = (count: number) =>
    Array.from(
      { length: count },
      (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    );

  it('names the jobs it waits for, in the order written', () => {
    expect(parseSchedule(`after:${JOB_A}`)).toEqual({
      kind: 'after',
      text: `after:${JOB_A}`,
      jobIds: [JOB_A],
    });
    expect(afterJobIds(`after:${JOB_B},${JOB_A}`)).toEqual([JOB_B, JOB_A]);
    expect(afterJobIds('daily')).toBeNull();
  });

  it('takes five jobs, as many as the 200 characters of a schedule hold', () => {
    const ids = jobIds(5);
    expect(afterJobIds(`after:${ids.join(',')}`)).toEqual(ids);
    expect(rejection(`after:${jobIds(6).join(',')}`)).toBe(
      'schedule is 227 characters long; at most 200 are allowed',
    );
  });

  it.each([
    ['after:', `after: needs the id of at least one job, ${example}`],
    [
      `after:${JOB_A}, ${JOB_B}`,
      `after: " ${JOB_B}" is not a job id: list lowercase job ids (uuids) separated by commas ` +
        `without spaces, ${example}`,
    ],
    [
      `after:${JOB_A},`,
      `after: "" is not a job id: list lowercase job ids (uuids) separated by commas without ` +
        `spaces, ${example}`,
    ],
    [
      `after:,${JOB_A}`,
      `after: "" is not a job id: list lowercase job ids (uuids) separated by commas without ` +
        `spaces, ${example}`,
    ],
    [`after:${JOB_A},${JOB_A}`, 'after: names a job more than once; list each job once'],
  ])('refuses %j saying exactly why', (text, message) => {
    expect(rejection(text)).toBe(message);
  });

  it('has no time slots: no next slot, no shortest interval', () => {
    const from = new Date('2026-05-05T10:00:00Z');
    expect(nextSlot(`after:${JOB_A}`, 'UTC', from)).toBeNull();
    expect(shortestIntervalSeconds(`after:${JOB_A}`, 'UTC', from)).toBeNull();
  });
});

describe('utcOffsetMinutes', () => {
  it('is the offset east of UTC in minutes, daylight saving included', () => {
    const winter = new Date('2026-01-15T12:00:00Z');
    const summer = new Date('2026-07-15T12:00:00Z');
    expect(utcOffsetMinutes('Europe/Berlin', winter)).toBe(60);
    expect(utcOffsetMinutes('Europe/Berlin', summer)).toBe(120);
    expect(utcOffsetMinutes('America/New_York', winter)).toBe(-300);
    expect(utcOffsetMinutes('Asia/Kolkata', summer)).toBe(330);
    expect(utcOffsetMinutes('UTC', summer)).toBe(0);
  });

  it('refuses an unknown zone', () => {
    expect(() => utcOffsetMinutes('Mars/Base', new Date())).toThrow(ScheduleError);
  });
});

describe('input that is not what the types say (from JSON or hand-edited rows)', () => {
  it('refuses a schedule that is not a string as empty', () => {
    for (const value of [null, undefined, 42]) {
      expect(rejection(value as never)).toMatch(/^schedule is empty: use every_minute, /);
    }
  });

  it('calls a time zone that is not a string invalid', () => {
    expect(isValidTimeZone(undefined as never)).toBe(false);
    expect(isValidTimeZone(null as never)).toBe(false);
  });

  it('quotes at most 200 characters of an unknown time zone', () => {
    const zone = `Nowhere/${'x'.repeat(300)}`;
    expect(() => nextSlot('daily', zone, new Date())).toThrow(
      new ScheduleError(
        `unknown time zone ${JSON.stringify(zone.slice(0, 200))}: use an IANA name such as ` +
          '"Europe/Berlin" or "UTC"',
      ),
    );
  });
});
