/**
 * Schedules (contract section 5): parsing, validation and the slots a schedule fires at.
 *
 * Daylight-saving policy. Slots are wall-clock times in the job's time zone, and a slot never
 * fires twice:
 * - Fall back (a wall-clock hour repeats): a repeated wall-clock time fires once, at its first
 *   occurrence. Hourly in America/New_York on 2026-11-01 fires 01:00 EDT, then 02:00 EST, and not
 *   01:00 EST; `cron:30 1 * * *` fires once that day, at 01:30 EDT.
 * - Spring forward (a wall-clock hour does not exist): a slot inside the gap fires at the first
 *   instant after the gap, the moment the clocks jump (03:00 EDT in New York), and slots that land
 *   on the same instant fire once. On 2026-03-08 in New York `cron:30 2 * * *` fires at 03:00 EDT
 *   and hourly fires 01:00 EST, then 03:00 EDT.
 * `at:` date-times are resolved by the same two rules. Successive slots are strictly increasing.
 *
 * Schedule text is taken verbatim: surrounding whitespace is rejected, not trimmed, so the text
 * stored is the text that was validated.
 */
import { CronExpressionParser, type CronExpression } from 'cron-parser';
import {
  canEverMatch,
  compileSimpleCron,
  nextSimpleCronTime,
  type SimpleCron,
} from './cron-fields';
import {
  canEverFire,
  CronSyntaxError,
  normalizedCron,
  readCronFields,
  type CronField,
} from './cron-syntax';

export class ScheduleError extends Error {
  override name = 'ScheduleError';
}

export type Schedule =
  | { kind: 'recurring'; text: string; cron: string }
  | { kind: 'once'; text: string; localDateTime: string }
  | { kind: 'after'; text: string; jobIds: string[] };

/** The prefix of a dependency schedule: `after:<job id>[,<job id>…]`. */
export const AFTER_PREFIX = 'after:';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const MAX_LENGTH = 200;
// The latest instant whose ISO 8601 form has a four-digit year: JSON timestamps (and the API's
// date-time format) cannot write a later one, so no slot may lie beyond it.
const LATEST_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const MINUTE_STEPS = ['2', '3', '4', '5', '6', '10', '12', '15', '20', '30'];
const HOUR_STEPS = ['2', '3', '4', '6', '8', '12'];
const ALIASES: Record<string, string> = {
  every_minute: '* * * * *',
  hourly: '0 * * * *',
  daily: '0 0 * * *',
  weekly: '0 0 * * 0',
  monthly: '0 0 1 * *',
  // crontab's macros, each exactly what crontab(5) says it stands for.
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
};
const MACROS = Object.keys(ALIASES).filter((name) => name.startsWith('@'));
const FORMS =
  `every_minute, every_N_minutes (N: ${MINUTE_STEPS.join(', ')}), hourly, ` +
  `every_N_hours (N: ${HOUR_STEPS.join(', ')}), daily, weekly, monthly, ${MACROS.join(', ')}, ` +
  'cron:<5 or 6 field expression>, at:<YYYY-MM-DDTHH:mm[:ss]> or after:<job id>[,<job id>…]';

export function parseSchedule(text: string): Schedule {
  if (typeof text !== 'string' || text === '') {
    throw new ScheduleError(`schedule is empty: use ${FORMS}`);
  }
  if (text.length > MAX_LENGTH) {
    throw new ScheduleError(
      `schedule is ${text.length} characters long; at most ${MAX_LENGTH} are allowed`,
    );
  }
  if (text.trim() !== text) {
    throw new ScheduleError(
      `schedule ${JSON.stringify(text)} has surrounding whitespace; remove it`,
    );
  }
  const alias = Object.hasOwn(ALIASES, text) ? ALIASES[text] : undefined;
  if (alias) return { kind: 'recurring', text, cron: alias };
  const step = /^every_(\d+)_(minutes|hours)$/.exec(text);
  if (step) {
    const [, n = '', unit] = step;
    const allowed = unit === 'minutes' ? MINUTE_STEPS : HOUR_STEPS;
    if (!allowed.includes(n)) {
      throw new ScheduleError(
        `schedule "${text}": N in every_N_${unit} must be one of ${allowed.join(', ')} ` +
          `(an interval that divides the ${unit === 'minutes' ? 'hour' : 'day'} evenly); ` +
          'for anything else use cron:<expression>',
      );
    }
    const cron = unit === 'minutes' ? `*/${n} * * * *` : `0 */${n} * * *`;
    return { kind: 'recurring', text, cron };
  }
  if (text.startsWith('@')) {
    throw new ScheduleError(
      `unknown macro ${JSON.stringify(text)}: crontab's macros accepted are ${MACROS.join(', ')}`,
    );
  }
  if (text.startsWith('cron:')) {
    return { kind: 'recurring', text, cron: cronFor(text.slice('cron:'.length)).cron };
  }
  if (text.startsWith('at:')) {
    return { kind: 'once', text, localDateTime: parseLocalDateTime(text.slice('at:'.length)) };
  }
  if (text.startsWith(AFTER_PREFIX)) return { kind: 'after', text, jobIds: parseAfter(text) };
  throw new ScheduleError(`unknown schedule ${JSON.stringify(text)}: use ${FORMS}`);
}

/**
 * The job ids of `after:<id>[,<id>…]`: lowercase uuids, comma-separated without spaces, each
 * once. The 200 characters of a schedule hold at most five. Whether they exist (in the job's
 * tenant) is the job service's check.
 */
function parseAfter(text: string): string[] {
  const ids = text.slice(AFTER_PREFIX.length).split(',');
  const example = 'e.g. after:0b5c3a8e-6f1d-4c2b-9a7e-2f4d6c8b1a30';
  if (ids.length === 1 && ids[0] === '') {
    throw new ScheduleError(`after: needs the id of at least one job, ${example}`);
  }
  for (const id of ids) {
    if (!UUID.test(id)) {
      throw new ScheduleError(
        `after: ${JSON.stringify(id)} is not a job id: list lowercase job ids (uuids) separated ` +
          `by commas without spaces, ${example}`,
      );
    }
  }
  if (new Set(ids).size !== ids.length) {
    throw new ScheduleError('after: names a job more than once; list each job once');
  }
  return ids;
}

/** The jobs a dependency schedule waits for; null for a schedule of time slots. */
export function afterJobIds(schedule: string): string[] | null {
  if (!schedule.startsWith(AFTER_PREFIX)) return null;
  const parsed = parseSchedule(schedule);
  return parsed.kind === 'after' ? parsed.jobIds : null;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

export function nextSlot(schedule: string, timeZone: string, after: Date): Date | null {
  const next = slotAfter(compiled(schedule, timeZone), instantOf(after));
  return next === null ? null : new Date(next);
}

/** The UTC offset of `timeZone` at `at`, in minutes east of UTC (the engine's own reading of tz data). */
export function utcOffsetMinutes(timeZone: string, at: Date): number {
  formatterFor(timeZone);
  return offsetAt(zoneFor(timeZone), instantOf(at)) / 60_000;
}

export function shortestIntervalSeconds(
  schedule: string,
  timeZone: string,
  from: Date,
): number | null {
  // Every job write asks this; within an hour the answer for a schedule does not change.
  const hour = Math.floor(from.getTime() / 3_600_000);
  return remember(intervals, `${timeZone}\0${schedule}\0${hour}`, () =>
    measureShortestInterval(schedule, timeZone, from),
  );
}

function measureShortestInterval(schedule: string, timeZone: string, from: Date): number | null {
  const plan = compiled(schedule, timeZone);
  if (plan.kind !== 'recurring') return null;
  const first = slotAfter(plan, instantOf(from));
  let previous = first;
  let shortest = Infinity;
  // Bounded in slots and in time: every matching day has the same times of day, so the gaps of a
  // month from the first slot show how often it fires, and a rare schedule (29 February) costs two
  // slot searches instead of fifty, each years apart.
  for (
    let i = 0;
    i < MEASURED_SLOTS && previous !== null && previous - first! <= MEASURED_SPAN_MS;
    i++
  ) {
    const next = slotAfter(plan, previous);
    if (next !== null) shortest = Math.min(shortest, next - previous);
    previous = next;
  }
  return shortest === Infinity ? null : shortest / 1000;
}

const MEASURED_SLOTS = 50;
const MEASURED_SPAN_MS = 32 * 86_400_000;

// Wall-clock times are handled as "naive" epoch milliseconds: the wall reading encoded as if UTC.
type Plan =
  | { kind: 'recurring'; walls: CronExpression | SimpleCron; zone: Zone }
  | { kind: 'once'; instant: number }
  // after:<job id>: no time slots at all; the job runs when its upstream jobs succeed.
  | { kind: 'none' };

function compiled(schedule: string, timeZone: string): Plan {
  // The zone goes first and cannot contain NUL, so distinct pairs never share a key.
  return remember(plans, `${timeZone}\0${schedule}`, () => {
    const zone = zoneFor(timeZone);
    // Most schedules compile in microseconds without cron-parser, so a cache miss is cheap and
    // thousands of distinct (schedule, zone) pairs cost no more than a few.
    const simple = simpleCronOf(schedule);
    if (simple) return { kind: 'recurring', walls: simple, zone };
    const parsed = parseSchedule(schedule);
    if (parsed.kind === 'after') return { kind: 'none' };
    if (parsed.kind === 'once') {
      const instant = resolveWall(zone, Date.parse(`${parsed.localDateTime}Z`));
      if (instant > LATEST_INSTANT) {
        throw new ScheduleError(
          `${schedule} in ${timeZone} is ${new Date(instant).toISOString()} in UTC, after ` +
            '9999-12-31T23:59:59Z, the latest time a job can be scheduled for',
        );
      }
      return { kind: 'once', instant };
    }
    return { kind: 'recurring', walls: cronFor(parsed.cron).walls, zone };
  });
}

/**
 * The fast form of a recurring schedule that parseSchedule() accepts and whose cron expression
 * uses only plain numbers, ranges, steps and lists; null for everything else.
 */
function simpleCronOf(schedule: string): SimpleCron | null {
  let expression: string | undefined;
  if (Object.hasOwn(ALIASES, schedule)) expression = ALIASES[schedule];
  else if (schedule.startsWith('cron:')) expression = schedule.slice('cron:'.length);
  else {
    const step = /^every_(\d+)_(minutes|hours)$/.exec(schedule);
    const [, n = '', unit] = step ?? [];
    if (unit === 'minutes' && MINUTE_STEPS.includes(n)) expression = `*/${n} * * * *`;
    if (unit === 'hours' && HOUR_STEPS.includes(n)) expression = `0 */${n} * * *`;
  }
  if (expression === undefined || schedule.length > MAX_LENGTH) return null;
  if (expression === '' || expression.trim() !== expression) return null;
  const fields = expression.split(/\s+/);
  if (fields.length === 5) fields.unshift('0');
  const cron = compileSimpleCron(fields);
  return cron && canEverMatch(cron) ? cron : null;
}

function nextWall(walls: CronExpression | SimpleCron, after: number): number {
  if ('seconds' in walls) {
    const next = nextSimpleCronTime(walls, after);
    if (next === null) throw new ScheduleError('schedule has no computable next slot');
    return next;
  }
  walls.reset(new Date(after));
  try {
    return walls.next().getTime();
  } catch (error) {
    throw new ScheduleError(`schedule has no computable next slot: ${(error as Error).message}`);
  }
}

function slotAfter(plan: Plan, after: number): number | null {
  if (plan.kind === 'none') return null;
  if (plan.kind === 'once') return plan.instant > after ? plan.instant : null;
  const { walls, zone } = plan;
  const offset = offsetAt(zone, after);
  let from = after + offset;
  const firstOccurrence = resolveWall(zone, from);
  if (firstOccurrence < after) {
    // `after` is the second pass through a repeated hour: every wall time left in the repeat
    // resolves to its first occurrence, which is already past, so resume at the repeat's end.
    const fellBackAt = firstInstant(firstOccurrence, after, (t) => offsetAt(zone, t) === offset);
    from = fellBackAt + (from - firstOccurrence) - 1;
  }
  for (;;) {
    const wall = nextWall(walls, from);
    // Resolution is monotonic in wall time, so the first wall time that lands after `after` wins.
    const instant = resolveWall(zone, wall);
    if (instant > after) return instant;
    from = wall;
  }
}

/** A parsed cron expression; its iterator runs in UTC (no DST), so it yields wall times. */
function cronFor(expression: string): { cron: string; walls: CronExpression | SimpleCron } {
  return remember(crons, expression, () => parseCron(expression));
}

function parseCron(expression: string): { cron: string; walls: CronExpression | SimpleCron } {
  const example = 'e.g. cron:0 2 * * *';
  if (expression === '') throw new ScheduleError(`cron: needs an expression, ${example}`);
  if (expression.trim() !== expression) {
    throw new ScheduleError(
      `cron expression ${JSON.stringify(expression)} has surrounding whitespace`,
    );
  }
  // cron:@daily is @daily.
  if (expression.startsWith('@')) {
    const macro = Object.hasOwn(ALIASES, expression) ? ALIASES[expression] : undefined;
    if (!macro || !MACROS.includes(expression)) {
      throw new ScheduleError(
        `unknown macro ${JSON.stringify(expression)}: crontab's macros accepted are ${MACROS.join(', ')}`,
      );
    }
    return parseCron(macro);
  }
  const fields = expression.split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    throw new ScheduleError(
      `cron expression "${expression}" has ${fields.length} ` +
        `field${fields.length === 1 ? '' : 's'}; ` +
        'expected 5 (minute hour day-of-month month day-of-week) or 6 (a leading second field), ' +
        example,
    );
  }
  const six = fields.length === 6 ? [...fields] : ['0', ...fields];
  const problem = (message: string) =>
    new ScheduleError(`cron expression "${expression}": ${message}`);
  let read: CronField[];
  try {
    read = readCronFields(six);
  } catch (error) {
    if (error instanceof CronSyntaxError) throw problem(error.message);
    throw error;
  }
  if (!read[3]!.any && !read[5]!.any) {
    // Classic cron fires when EITHER matches, which is rarely what the writer meant.
    throw problem('restrict day-of-month or day-of-week, not both; put * in one of them');
  }
  // Decided from the fields, not by searching for a slot, so refusing costs no more than parsing.
  if (!canEverFire(read)) {
    throw problem('it can never fire: none of its months has the day of month it asks for');
  }
  const normalized = normalizedCron(read);
  const simple = compileSimpleCron(normalized.split(' '));
  if (simple && canEverMatch(simple)) return { cron: fields.join(' '), walls: simple };
  // Only what the fast path declines gets here, and cron-parser refuses all of that (`L,L`,
  // `1#2,3#4`) while parsing, before any search; its words are the message.
  let walls: CronExpression;
  try {
    walls = CronExpressionParser.parse(normalized, { tz: 'UTC', strict: true });
  } catch (error) {
    throw problem((error as Error).message);
  }
  return { cron: fields.join(' '), walls };
}

function parseLocalDateTime(value: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value);
  if (!match) {
    throw new ScheduleError(
      `at: expects a local date-time YYYY-MM-DDTHH:mm[:ss] without offset (it is read in the ` +
        `job's time zone), e.g. at:2026-12-01T09:00; got ${JSON.stringify(value)}`,
    );
  }
  const [year = 0, month = 0, day, hour, minute, second] = match
    .slice(1)
    .map((part) => Number(part ?? 0));
  // Also keeps Date.UTC away from years 0-99, which it reads as 1900-1999.
  if (year < 1970) throw new ScheduleError(`at:${value}: the year must be 1970 or later`);
  const localDateTime = `${value.slice(0, 16)}:${match[6] ?? '00'}`;
  // Date.UTC rolls 2026-02-30 over to March; a round trip catches every impossible field.
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  if (new Date(wall).toISOString().slice(0, 19) !== localDateTime) {
    throw new ScheduleError(`at:${value} is not a real calendar date-time`);
  }
  return localDateTime;
}

/** The instant a wall-clock time stands for, by the daylight-saving policy above. */
function resolveWall(zone: Zone, wall: number): number {
  const DAY = 86_400_000;
  const before = offsetAt(zone, wall - DAY);
  const after = offsetAt(zone, wall + DAY);
  // tz data never has two transitions within two days, so equal offsets mean none near `wall`.
  if (before === after) return wall - before;
  // The larger offset gives the earlier instant, so trying it first picks the first occurrence.
  for (const offset of before >= after ? [before, after] : [after, before]) {
    if (offsetAt(zone, wall - offset) === offset) return wall - offset;
  }
  // In a gap the wall time read with the old offset is already past the jump.
  return firstInstant(wall - after, wall - before, (t) => offsetAt(zone, t) === after);
}

/** Smallest whole second in (low, high] where `reached` turns true; it must hold at `high`. */
function firstInstant(low: number, high: number, reached: (t: number) => boolean): number {
  let lo = Math.floor(low / 1000);
  let hi = Math.ceil(high / 1000);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (reached(mid * 1000)) hi = mid;
    else lo = mid;
  }
  return hi * 1000;
}

/** A time zone as the slot arithmetic uses it: its formatter and offsets already looked up. */
interface Zone {
  format: Intl.DateTimeFormat;
  utc: boolean;
  /** Offset by hour since 1970, for hours without a transition; NaN marks an hour with one. */
  hours: Map<number, number>;
}

const HOUR_MS = 3_600_000;
const HOURS_KEPT = 5_000;

function zoneFor(timeZone: string): Zone {
  return remember(zoneStates, timeZone, () => {
    const format = formatterFor(timeZone);
    return { format, utc: format.resolvedOptions().timeZone === 'UTC', hours: new Map() };
  });
}

/**
 * UTC offset in milliseconds of `zone` at instant `t` (whole seconds, as tz data has). Formatting
 * is the costly part, so offsets are kept per hour: when the first and last second of an hour have
 * the same offset, the whole hour has it (tz data never has two transitions within two days).
 */
function offsetAt(zone: Zone, t: number): number {
  if (zone.utc) return 0;
  const hour = Math.floor(t / HOUR_MS);
  const known = zone.hours.get(hour);
  if (known !== undefined && !Number.isNaN(known)) return known;
  if (known === undefined) {
    const first = exactOffsetAt(zone.format, hour * HOUR_MS);
    const last = exactOffsetAt(zone.format, hour * HOUR_MS + HOUR_MS - 1000);
    if (zone.hours.size >= HOURS_KEPT) zone.hours.clear();
    zone.hours.set(hour, first === last ? first : Number.NaN);
    if (first === last) return first;
  }
  return exactOffsetAt(zone.format, t);
}

function exactOffsetAt(format: Intl.DateTimeFormat, t: number): number {
  // format() is several times faster than formatToParts(); en-US gives "M/D/YYYY, HH:mm:ss".
  const match = /^(\d+)\/(\d+)\/(\d+), (\d+):(\d+):(\d+)$/.exec(format.format(t));
  if (!match) throw new Error(`unexpected date format from Intl: ${format.format(t)}`);
  const [, month, day, year, hour, minute, second] = match.map(Number);
  const wall = Date.UTC(year ?? 0, (month ?? 0) - 1, day, hour, minute, second);
  return wall - Math.floor(t / 1000) * 1000;
}

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  if (typeof timeZone !== 'string' || timeZone === '') {
    throw new ScheduleError(
      'time zone is empty: use an IANA name such as "Europe/Berlin" or "UTC"',
    );
  }
  return remember(zones, timeZone, () => {
    try {
      return new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new ScheduleError(
        `unknown time zone ${JSON.stringify(timeZone.slice(0, MAX_LENGTH))}: use an IANA name ` +
          'such as "Europe/Berlin" or "UTC"',
      );
    }
  });
}

function instantOf(date: Date): number {
  const t = date.getTime();
  if (Number.isNaN(t)) throw new RangeError('invalid Date');
  return t;
}

// Bounded because schedule and zone text come from API requests.
const CACHE_LIMIT = 1000;
const plans = new Map<string, Plan>();
const crons = new Map<string, { cron: string; walls: CronExpression | SimpleCron }>();
const zones = new Map<string, Intl.DateTimeFormat>();
const zoneStates = new Map<string, Zone>();
const intervals = new Map<string, number | null>();

// Evicts the oldest entry first: simple, and a miss only costs one parse.
function remember<T>(cache: Map<string, T>, key: string, make: () => T): T {
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const value = make();
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(key, value);
  return value;
}
