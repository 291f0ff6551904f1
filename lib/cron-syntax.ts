/**
 * Reads the fields of a cron expression as crontab users write them and says what is wrong in
 * their own words. What crontab accepts and means one thing is accepted: numbers, `*`, lists,
 * ranges, steps, three-letter month and day names in any case, 0 and 7 both Sunday (so `0,7` and
 * `SAT-SUN` are Saturday and Sunday), a value listed twice; plus Quartz's `?`, `L` (last day of the
 * month), `5L` (last Friday) and `1#2` (second Monday), which cron-parser evaluates. Everything
 * else is refused with the field and the offending token named: `MONDAY`, `L-2`, `W`, `H`, a range
 * that runs backwards, a step as long as its range (`*\/90` in minutes would fire at 0 only).
 *
 * The result is the expression rewritten with numbers only (sorted, no duplicates), in six fields.
 */
export class CronSyntaxError extends Error {}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const MONTH_NAMES = [
  'JAN',
  'FEB',
  'MAR',
  'APR',
  'MAY',
  'JUN',
  'JUL',
  'AUG',
  'SEP',
  'OCT',
  'NOV',
  'DEC',
];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

export const FIELDS: readonly FieldSpec[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES },
  // 7 is Sunday again; it is read as 0.
  { name: 'day-of-week', min: 0, max: 7, names: DAY_NAMES },
];
const DAY_OF_MONTH = 3;
const MONTH = 4;
const DAY_OF_WEEK = 5;
// February counts 29 days: an expression asking for the 29th of February fires in leap years.
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** One field read: its plain values, and the Quartz extras cron-parser evaluates itself. */
export interface CronField {
  values: Set<number>;
  /** `L`, `5L` or `1#2`, as written (upper case). */
  specials: string[];
  /** `*` or `?`: the field does not restrict. */
  any: boolean;
}

/** Reads six fields (second first); throws CronSyntaxError naming the field and the token. */
export function readCronFields(six: readonly string[]): CronField[] {
  return six.map((text, index) => readField(text, FIELDS[index]!, index));
}

/** The expression with numbers only, as cron-parser's strict mode reads it. */
export function normalizedCron(fields: readonly CronField[]): string {
  return fields
    .map((field, index) => {
      if (field.any) return '*';
      const spec = FIELDS[index]!;
      const values = [...field.values].sort((a, b) => a - b);
      if (field.specials.length === 0 && values.length === spec.max - spec.min + 1) return '*';
      return [...values.map(String), ...field.specials].join(',');
    })
    .join(' ');
}

/** False when no month it names has a day of month it names: it would never fire. */
export function canEverFire(fields: readonly CronField[]): boolean {
  const days = fields[DAY_OF_MONTH]!;
  if (days.any || days.specials.length > 0) return true;
  const months = fields[MONTH]!;
  for (let month = 1; month <= 12; month++) {
    if (!months.any && !months.values.has(month)) continue;
    for (const day of days.values) if (day <= DAYS_IN_MONTH[month - 1]!) return true;
  }
  return false;
}

function readField(text: string, spec: FieldSpec, index: number): CronField {
  const fail = (token: string, why: string): never => {
    throw new CronSyntaxError(`the ${spec.name} field "${text}": ${JSON.stringify(token)} ${why}`);
  };
  if (text === '*' || (text === '?' && (index === DAY_OF_MONTH || index === DAY_OF_WEEK))) {
    return { values: new Set(), specials: [], any: true };
  }
  const field: CronField = { values: new Set(), specials: [], any: false };
  for (const part of text.split(',')) {
    if (part === '') fail(text, 'has an empty list item');
    const upper = part.toUpperCase();
    if (upper.replace(/THU/g, '').includes('H')) {
      fail(part, 'uses H (hashed values), which picks a random time; write the value explicitly');
    }
    if (index === DAY_OF_MONTH && upper === 'L') {
      field.specials.push('L');
      continue;
    }
    if (index === DAY_OF_MONTH && /^L/.test(upper)) {
      fail(part, 'is not supported: L alone means the last day of the month; L-n and LW are not');
    }
    if (/W$/.test(upper) && index === DAY_OF_MONTH) {
      fail(part, 'is not supported: W (nearest weekday) is not; write the days explicitly');
    }
    if (index === DAY_OF_WEEK) {
      const last = /^([^#]+)L$/.exec(upper);
      if (last) {
        field.specials.push(`${weekday(last[1]!, part, spec, fail)}L`);
        continue;
      }
      const nth = /^([^#]+)#(.*)$/.exec(upper);
      if (nth) {
        const n = /^[1-5]$/.test(nth[2]!)
          ? Number(nth[2])
          : fail(part, 'needs #1 to #5 after the day');
        field.specials.push(`${weekday(nth[1]!, part, spec, fail)}#${n}`);
        continue;
      }
    }
    if (/[#?]/.test(upper) || (upper.match(/[A-Z]+/g) ?? []).some((w) => /^(L|W|LW)$/.test(w))) {
      fail(part, `is not allowed in the ${spec.name} field`);
    }
    addRange(field.values, part, spec, index, fail);
  }
  return field;
}

/** A day of week 0-6 (7 read as 0), by number or three-letter name. */
function weekday(
  token: string,
  part: string,
  spec: FieldSpec,
  fail: (token: string, why: string) => never,
): number {
  const value = valueOf(token, spec, fail, part);
  return value === 7 ? 0 : value;
}

function addRange(
  values: Set<number>,
  part: string,
  spec: FieldSpec,
  index: number,
  fail: (token: string, why: string) => never,
): void {
  const [range = '', step, extra] = part.split('/');
  if (extra !== undefined) fail(part, 'has more than one /');
  let from = spec.min;
  let to = index === DAY_OF_WEEK ? 6 : spec.max;
  if (range !== '*') {
    const [first = '', last, more] = range.split('-');
    if (more !== undefined) fail(part, 'has more than one -');
    from = valueOf(first, spec, fail, part);
    if (last !== undefined) {
      to = valueOf(last, spec, fail, part);
      // SAT-SUN: Sunday closes a range as 7.
      if (index === DAY_OF_WEEK && to === 0 && from > 0) to = 7;
      if (to < from) {
        fail(part, `runs backwards: a range goes from low to high (${spec.min}-${spec.max})`);
      }
    } else if (step === undefined) {
      to = from;
    } else {
      to = spec.max;
    }
  }
  let by = 1;
  if (step !== undefined) {
    if (!/^[0-9]{1,3}$/.test(step) || Number(step) < 1)
      fail(part, 'needs a whole step of 1 or more after /');
    by = Number(step);
    const span = to - from + 1;
    if (span > 1 && by >= span) {
      fail(
        part,
        `steps by ${by} through ${span} value${span === 1 ? '' : 's'}, so it would fire only at ` +
          `${from}; use a step below ${span}, or list the values`,
      );
    }
  }
  for (let value = from; value <= to; value += by)
    values.add(index === DAY_OF_WEEK && value === 7 ? 0 : value);
}

function valueOf(
  token: string,
  spec: FieldSpec,
  fail: (token: string, why: string) => never,
  part: string,
): number {
  if (/^[0-9]{1,2}$/.test(token)) {
    const value = Number(token);
    if (value < spec.min || value > spec.max) {
      fail(part, `is out of range: the ${spec.name} field takes ${spec.min}-${spec.max}`);
    }
    return value;
  }
  const names = spec.names;
  if (names && /^[A-Za-z]+$/.test(token)) {
    const at = names.indexOf(token.toUpperCase());
    if (at >= 0) return spec === FIELDS[MONTH] ? at + 1 : at;
    const kind = spec === FIELDS[MONTH] ? 'month' : 'day';
    fail(
      token,
      `is not a ${kind} name: use the three-letter names ${names.join(' ')} or ` +
        `${spec.min}-${spec.max}${kind === 'day' ? ' (0 and 7 are Sunday)' : ''}`,
    );
  }
  return fail(
    part === token ? token : part,
    `is not a number${names ? ' or name' : ''} the ${spec.name} field takes (${spec.min}-${spec.max})`,
  );
}
