/**
 * A fast path for cron expressions: numbers, `*`, ranges `a-b`, steps `*\/s`, `a/s` and `a-b/s`,
 * and lists of those, in a 6-field expression (leading seconds); plus Quartz's `L` in day-of-month
 * (the month's last day), and in day-of-week `nL` (the month's last weekday n) and `n#k` (its k-th
 * weekday n, alone in the field). Compiling one costs microseconds and finding the next matching
 * time does plain date arithmetic, so the sweep can compute next slots for thousands of distinct
 * schedules without a parse cache to thrash, and validating a rare schedule (the fifth Monday of
 * February, 40 years apart across 2100) costs well under a millisecond.
 *
 * Every expression the schedule parser accepts, once rewritten with numbers only
 * (normalizedCron()), compiles here. Anything else (names, `W`, a range that is not increasing, a
 * value listed twice (but for days a single month lacks, which cron-parser drops first), both day fields restricted, `#` in a list) returns null; cron-parser then
 * refuses it with its own message. Within what it accepts it matches cron-parser exactly (a
 * property test holds it to that): day-of-week 0 and 7 are Sunday, and with day-of-month or
 * day-of-week `*` only the other one restricts the day.
 */
export interface SimpleCron {
  seconds: Uint8Array;
  minutes: Uint8Array;
  hours: Uint8Array;
  daysOfMonth: Uint8Array;
  months: Uint8Array;
  daysOfWeek: Uint8Array;
  /** `L` in day-of-month. */
  lastDayOfMonth: boolean;
  /** By weekday 0-6: 1 for `nL`, the month's last such weekday. */
  lastWeekdays: Uint8Array;
  /** By weekday 0-6: bit k set for `n#k`, the month's k-th such weekday. */
  nthWeekdays: Uint8Array;
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
const DAY_OF_MONTH = 3;
const MONTH = 4;
const DAY_OF_WEEK = 5;
// `*` in day-of-week is 0-6: 7 would be Sunday a second time.
const LAST_WEEKDAY = 6;

export function compileSimpleCron(fields: readonly string[]): SimpleCron | null {
  if (fields.length !== 6) return null;
  const specials = {
    lastDayOfMonth: false,
    lastWeekdays: new Uint8Array(7),
    nthWeekdays: new Uint8Array(7),
  };
  const sets: Uint8Array[] = [];
  // The month first: with a single month, cron-parser drops the days of month it does not have.
  const monthSet = fieldSet(
    fields[MONTH]!,
    BOUNDS[MONTH]![0],
    BOUNDS[MONTH]![1],
    BOUNDS[MONTH]![1],
  );
  if (!monthSet) return null;
  const onlyMonth = monthSet.indexOf(1) === monthSet.lastIndexOf(1) ? monthSet.indexOf(1) : -1;
  for (let i = 0; i < 6; i += 1) {
    const [min, max] = BOUNDS[i]!;
    const set =
      i === MONTH
        ? monthSet
        : i === DAY_OF_MONTH || i === DAY_OF_WEEK
          ? dayFieldSet(fields[i]!, i, specials, onlyMonth)
          : fieldSet(fields[i]!, min, max, max);
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
  return { seconds, minutes, hours, daysOfMonth, months, daysOfWeek, ...specials };
}

/**
 * A day field's plain values, recording its Quartz forms in `specials`; null for anything
 * cron-parser would refuse or read otherwise (`#` beside another item, a form listed twice).
 */
function dayFieldSet(
  field: string,
  index: number,
  specials: Pick<SimpleCron, 'lastDayOfMonth' | 'lastWeekdays' | 'nthWeekdays'>,
  onlyMonth: number,
): Uint8Array | null {
  const [min, max] = BOUNDS[index]!;
  const parts = field.split(',');
  const plain: string[] = [];
  for (const part of parts) {
    if (index === DAY_OF_MONTH && part === 'L') {
      if (specials.lastDayOfMonth) return null;
      specials.lastDayOfMonth = true;
      continue;
    }
    const last = index === DAY_OF_WEEK ? /^([0-6])L$/.exec(part) : null;
    if (last) {
      const weekday = Number(last[1]);
      if (specials.lastWeekdays[weekday]) return null;
      specials.lastWeekdays[weekday] = 1;
      continue;
    }
    const nth = index === DAY_OF_WEEK ? /^([0-6])#([1-5])$/.exec(part) : null;
    if (nth) {
      // cron-parser takes `#` only alone in the field.
      if (parts.length > 1) return null;
      specials.nthWeekdays[Number(nth[1])] = 1 << Number(nth[2]);
      continue;
    }
    plain.push(part);
  }
  if (plain.length === 0) return new Uint8Array(max + 1);
  const list = plain.join(',');
  if (index === DAY_OF_MONTH && onlyMonth > 0) {
    // cron-parser (CronDayOfMonth.fromMonth) drops the days a single month lacks before it looks
    // for duplicates, unless that would leave the field empty: `L,31,31` in April is `L`.
    const monthDays = DAYS_IN_MONTH[onlyMonth]!;
    const kept = fieldSet(list, min, max, max, monthDays);
    if (kept && (specials.lastDayOfMonth || kept.indexOf(1) >= 0)) return kept;
  }
  return fieldSet(list, min, max, index === DAY_OF_WEEK ? LAST_WEEKDAY : max);
}

/** A field's values; `keepUpTo`: values above it are left out (and so never count as twice). */
function fieldSet(
  field: string,
  min: number,
  max: number,
  starMax: number,
  keepUpTo = max,
): Uint8Array | null {
  const set = new Uint8Array(max + 1);
  for (const part of field.split(',')) {
    const match = PART.exec(part);
    if (!match) return null;
    const [, star, first, last, step] = match;
    let from = min;
    let to = starMax;
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
      if (value > keepUpTo) continue;
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
// The longest gap between two matches of an accepted expression is 40 years: a fifth Monday in
// February needs 29 February on a Monday (2072, then 2112, as 2100 is no leap year).
const MAX_YEARS = 41;
const MAX_DAYS = 366 * MAX_YEARS;

/**
 * The first time strictly after `after` (epoch milliseconds read as a UTC wall clock) that the
 * expression matches, in whole seconds; null if there is none within 41 years. Outside matching
 * months it moves a month at a time and within them a day at a time, so even the 40-year search
 * takes a few thousand steps.
 */
export function nextSimpleCronTime(cron: SimpleCron, after: number): number | null {
  let t = Math.floor(after / SECOND) * SECOND + SECOND;
  const limit = t + MAX_DAYS * DAY;
  while (t < limit) {
    const date = new Date(t);
    const month = date.getUTCMonth() + 1;
    if (!cron.months[month]) {
      // Straight to the first of the next month listed (this year's, else next year's first).
      const next = firstSetFrom(cron.months, month + 1);
      t =
        next < 0
          ? Date.UTC(date.getUTCFullYear() + 1, firstSetFrom(cron.months, 1) - 1, 1)
          : Date.UTC(date.getUTCFullYear(), next - 1, 1);
      continue;
    }
    if (!dayMatches(cron, date)) {
      t = nextDayToTest(cron, date);
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

/**
 * The day after `date` that could match, at midnight: with every weekday allowed and no `L`, only
 * the days of month listed can, so a monthly or yearly schedule skips to the next of them (past the
 * month's end: the next month's first) instead of testing each day in turn.
 */
function nextDayToTest(cron: SimpleCron, date: Date): number {
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  const day = date.getUTCDate();
  if (!cron.lastDayOfMonth && everyWeekdayAllowed(cron)) {
    const next = firstSetFrom(cron.daysOfMonth, day + 1);
    return next < 0 ? Date.UTC(year, month + 1, 1) : Date.UTC(year, month, next);
  }
  return Date.UTC(year, month, day + 1);
}

function everyWeekdayAllowed(cron: SimpleCron): boolean {
  for (let weekday = 0; weekday <= LAST_WEEKDAY; weekday += 1) {
    if (!cron.daysOfWeek[weekday] || cron.lastWeekdays[weekday] || cron.nthWeekdays[weekday]) {
      return false;
    }
  }
  return true;
}

function dayMatches(cron: SimpleCron, date: Date): boolean {
  const day = date.getUTCDate();
  const lastDay = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
  if (!cron.daysOfMonth[day] && !(cron.lastDayOfMonth && day === lastDay)) return false;
  const weekday = date.getUTCDay();
  if (cron.daysOfWeek[weekday]) return true;
  if (cron.lastWeekdays[weekday] && day + 7 > lastDay) return true;
  return (cron.nthWeekdays[weekday]! & (1 << Math.ceil(day / 7))) !== 0;
}

// Remainder that stays non-negative before 1970.
function mod(value: number, by: number): number {
  return ((value % by) + by) % by;
}

// By month 1-12, as cron-parser counts them (February 29).
const DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * True when some allowed month has an allowed day of month (29 February counts). Every month has
 * a last day, a last weekday n and a fourth one; a fifth one needs 29 days, which every month has
 * in some year.
 */
export function canEverMatch(cron: SimpleCron): boolean {
  if (cron.lastDayOfMonth) return true;
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
