/**
 * A fast path for the common cron expressions: numbers, `*`, ranges `a-b`, steps `*\/s`, `a/s`
 * and `a-b/s`, and lists of those, in a 6-field expression (leading seconds). Compiling one costs
 * microseconds and finding the next matching time does plain date arithmetic, so the sweep can
 * compute next slots for thousands of distinct schedules without a parse cache to thrash.
 *
 * Anything else (names, `L`, `W`, `#`, a range that is not increasing, a value listed twice,
 * both day fields restricted) is left to cron-parser: compileSimpleCron() returns null and the caller falls back.
 * Within what it accepts it matches cron-parser exactly (a property test holds it to that):
 * day-of-week 0 and 7 are Sunday, and with day-of-month or day-of-week `*` only the other one
 * restricts the day.
 */
export interface SimpleCron {
  seconds: Uint8Array;
  minutes: Uint8Array;
  hours: Uint8Array;
  daysOfMonth: Uint8Array;
  months: Uint8Array;
  daysOfWeek: Uint8Array;
}

// [min, max] of each field, in the order of a 6-field expression.
const BOUNDS: ReadonlyArray<readonly [number, number]> = [
  [0, 59],
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 7],
];
const PART = /^(?:(\*)|(\d{1,2})(?:-(\d{1,2}))?)(?:\/(\d{1,2}))?$/;

export function compileSimpleCron(fields: readonly string[]): SimpleCron | null {
  if (fields.length !== 6) return null;
  const sets: Uint8Array[] = [];
  for (let i = 0; i < 6; i += 1) {
    const [min, max] = BOUNDS[i]!;
    const set = fieldSet(fields[i]!, min, max);
    if (!set) return null;
    sets.push(set);
  }
  const [seconds, minutes, hours, daysOfMonth, months, daysOfWeek] = sets as [
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
  ];
  // Classic cron ORs two restricted day fields; the schedule parser rejects that, so do we.
  if (fields[3] !== '*' && fields[5] !== '*') return null;
  if (daysOfWeek[7]) {
    // 7 is Sunday again; cron-parser counts 0 and 7 together as a duplicate.
    if (daysOfWeek[0]) return null;
    daysOfWeek[0] = 1;
  }
  return { seconds, minutes, hours, daysOfMonth, months, daysOfWeek };
}

function fieldSet(field: string, min: number, max: number): Uint8Array | null {
  const set = new Uint8Array(max + 1);
  for (const part of field.split(',')) {
    const match = PART.exec(part);
    if (!match) return null;
    const [, star, first, last, step] = match;
    let from = min;
    let to = max;
    if (!star) {
      from = Number(first);
      // "a/s" runs from a to the field's end; a lone "a" is just a.
      to = last !== undefined ? Number(last) : step !== undefined ? max : from;
    }
    const by = step === undefined ? 1 : Number(step);
    if (from < min || to > max || from > to || by < 1) return null;
    // A step that leaves only the first value of a range (*/90 in minutes) is refused upstream.
    if (step !== undefined && to > from && by > to - from) return null;
    for (let value = from; value <= to; value += by) {
      // cron-parser's strict mode refuses a list that names a value twice.
      if (set[value]) return null;
      set[value] = 1;
    }
  }
  return set;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
// The longest gap between two matches of an accepted expression is under 8 years (29 February).
const MAX_DAYS = 366 * 9;

/**
 * The first time strictly after `after` (epoch milliseconds read as a UTC wall clock) that the
 * expression matches, in whole seconds; null if there is none within nine years.
 */
export function nextSimpleCronTime(cron: SimpleCron, after: number): number | null {
  let t = Math.floor(after / SECOND) * SECOND + SECOND;
  const limit = t + MAX_DAYS * DAY;
  while (t < limit) {
    const date = new Date(t);
    const month = date.getUTCMonth() + 1;
    if (!cron.months[month]) {
      t = Date.UTC(date.getUTCFullYear(), month, 1);
      continue;
    }
    if (!cron.daysOfMonth[date.getUTCDate()] || !cron.daysOfWeek[date.getUTCDay()]) {
      t = Date.UTC(date.getUTCFullYear(), month - 1, date.getUTCDate() + 1);
      continue;
    }
    // Within a matching day, jump straight to the next allowed hour, minute and second.
    const hour = date.getUTCHours();
    const nextHour = firstSetFrom(cron.hours, hour);
    if (nextHour !== hour) {
      t =
        nextHour < 0
          ? Date.UTC(date.getUTCFullYear(), month - 1, date.getUTCDate() + 1)
          : t - mod(t, HOUR) + (nextHour - hour) * HOUR;
      continue;
    }
    const minute = date.getUTCMinutes();
    const nextMinute = firstSetFrom(cron.minutes, minute);
    if (nextMinute !== minute) {
      t =
        nextMinute < 0
          ? t - mod(t, HOUR) + HOUR
          : t - mod(t, MINUTE) + (nextMinute - minute) * MINUTE;
      continue;
    }
    const second = date.getUTCSeconds();
    const nextSecond = firstSetFrom(cron.seconds, second);
    if (nextSecond !== second) {
      t = nextSecond < 0 ? t - mod(t, MINUTE) + MINUTE : t + (nextSecond - second) * SECOND;
      continue;
    }
    return t;
  }
  return null;
}

// Remainder that stays non-negative before 1970.
function mod(value: number, by: number): number {
  return ((value % by) + by) % by;
}

const DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** True when some allowed month has an allowed day of month (29 February counts). */
export function canEverMatch(cron: SimpleCron): boolean {
  for (let month = 1; month <= 12; month += 1) {
    if (!cron.months[month]) continue;
    for (let day = 1; day <= DAYS_IN_MONTH[month]!; day += 1) {
      if (cron.daysOfMonth[day]) return true;
    }
  }
  return false;
}

/** The first value at or after `from` in the set, or -1. */
function firstSetFrom(set: Uint8Array, from: number): number {
  for (let value = from; value < set.length; value += 1) if (set[value]) return value;
  return -1;
}
