import { beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { createDemoSchema } from '../../lib/demo-data';
import { seedDefaultJobs } from '../../lib/default-jobs';
import { sweep } from '../../lib/engine/sweep';
import { createBuiltInRegistry } from '../../lib/executors/built-ins';
import { markUsersOffline } from '../../lib/executors/mark-users-offline';
import { silentLog } from '../../lib/logger';
import { createTestDatabase } from '../helpers/database';

// The suite runs this file on every tested PostgreSQL major (vitest.config.ts): before 17,
// jsonpath's datetime() refused the `Z` that Date.toISOString() writes, and the default job marked
// every online user offline on every sweep.
const { sql } = await createTestDatabase();
const registry = createBuiltInRegistry();

beforeAll(() => createDemoSchema(sql));
beforeEach(async () => {
  await sql`truncate users, employees`;
  await sql`delete from cron_job`;
});

/** `at` written in the zone `offsetMinutes` east of UTC as `+hh:mm` (or `+hhmm` without colon). */
function withOffset(
  at: Date,
  offsetMinutes: number,
  options: { colon: boolean; fraction: string },
) {
  const local = new Date(at.getTime() + offsetMinutes * 60_000).toISOString().slice(0, 19);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const hours = String(Math.floor(Math.abs(offsetMinutes) / 60)).padStart(2, '0');
  const minutes = String(Math.abs(offsetMinutes) % 60).padStart(2, '0');
  return `${local}${options.fraction}${sign}${hours}${options.colon ? ':' : ''}${minutes}`;
}

/** Every ISO 8601 form a client writes, for the instant `at` (fractions are whole milliseconds). */
function isoForms(at: Date): Record<string, string> {
  const iso = at.toISOString(); // 2026-11-29T16:00:00.123Z
  const whole = `${iso.slice(0, 19)}`;
  const millis = iso.slice(19, 23);
  return {
    'Z with milliseconds (Date.toISOString)': iso,
    'Z without fraction': `${whole}Z`,
    'lower-case z': `${whole}${millis}z`,
    'Z with microseconds': `${whole}${millis}000Z`,
    'Z with nanoseconds': `${whole}${millis}000000Z`,
    '+00:00 without fraction': `${whole}+00:00`,
    '+00:00 with milliseconds': `${whole}${millis}+00:00`,
    '+0000': `${whole}+0000`,
    '+0530 without fraction': withOffset(at, 330, { colon: false, fraction: '' }),
    '+0530 with milliseconds': withOffset(at, 330, { colon: false, fraction: millis }),
    '+05:30 with milliseconds': withOffset(at, 330, { colon: true, fraction: millis }),
    '-0800 with milliseconds': withOffset(at, -480, { colon: false, fraction: millis }),
    '-08:00 without fraction': withOffset(at, -480, { colon: true, fraction: '' }),
    'space separator, +00': `${iso.slice(0, 10)} ${iso.slice(11, 23)}+00`,
  };
}

async function insertUsers(rows: Array<{ name: string; lastSeen?: unknown }>) {
  await sql`
    insert into users ${sql(
      rows.map((row) => ({
        tenant_id: 'acme',
        email: `${row.name}@example.test`,
        name: row.name,
        metadata: sql.json(
          (row.lastSeen === undefined
            ? { live_status: 'online' }
            : { live_status: 'online', last_seen: row.lastSeen }) as never,
        ),
      })),
    )}`;
}

async function statusByName(): Promise<Record<string, string>> {
  const rows = await sql<{ name: string; status: string }[]>`
    select name, metadata->>'live_status' as status from users`;
  return Object.fromEntries(rows.map((row) => [row.name, row.status]));
}

function runExecutor() {
  return markUsersOffline.run({
    sql,
    config: markUsersOffline.configSchema.parse({ timeout_minutes: 5 }),
    tenantId: null,
    attempt: 1,
    signal: new AbortController().signal,
    log: silentLog,
    secret: async () => null,
  });
}

describe(`markUsersOffline on PostgreSQL ${inject('postgresMajor') ?? 'from TEST_DATABASE_URL'}`, () => {
  it('reads every ISO 8601 form alike: a minute old stays online, ten minutes old goes offline', async () => {
    const fresh = isoForms(new Date(Date.now() - 60_000));
    const stale = isoForms(new Date(Date.now() - 10 * 60_000));
    await insertUsers([
      ...Object.entries(fresh).map(([form, lastSeen]) => ({ name: `fresh ${form}`, lastSeen })),
      ...Object.entries(stale).map(([form, lastSeen]) => ({ name: `stale ${form}`, lastSeen })),
    ]);

    await runExecutor();

    const expected = Object.fromEntries([
      ...Object.keys(fresh).map((form) => [`fresh ${form}`, 'online']),
      ...Object.keys(stale).map((form) => [`stale ${form}`, 'offline']),
    ]);
    expect(await statusByName()).toEqual(expected);
  });

  it('still treats a missing, malformed or non-string last_seen as stale', async () => {
    const recent = new Date(Date.now() - 60_000).toISOString();
    const malformed: Record<string, unknown> = {
      null: null,
      empty: '',
      words: 'yesterday',
      'impossible date': '2024-02-30T00:00:00Z',
      'month 13': '2026-13-01T00:00:00Z',
      'zone only': 'Z',
      'trailing garbage': `${recent}x`,
      number: Date.now(),
      array: [recent],
      object: { at: recent },
    };
    await insertUsers([
      { name: 'missing' },
      ...Object.entries(malformed).map(([name, lastSeen]) => ({ name, lastSeen })),
      { name: 'control', lastSeen: recent },
    ]);

    const result = await runExecutor();

    expect(result).toEqual({ users: Object.keys(malformed).length + 1, employees: 0 });
    const statuses = await statusByName();
    expect(statuses.control).toBe('online');
    for (const name of ['missing', ...Object.keys(malformed)])
      expect(statuses[name]).toBe('offline');
  });

  it('keeps a user who was seen a minute ago (new Date().toISOString()) online through a sweep', async () => {
    await seedDefaultJobs(sql, registry);
    await insertUsers([
      { name: 'seen a minute ago', lastSeen: new Date(Date.now() - 60_000).toISOString() },
      { name: 'seen an hour ago', lastSeen: new Date(Date.now() - 3_600_000).toISOString() },
    ]);

    const summary = await sweep({ sql, registry, log: silentLog });

    expect(summary.results).toContainEqual(
      expect.objectContaining({
        name: 'Mark Users Offline',
        status: 'success',
        result: { users: 1, employees: 0 },
      }),
    );
    expect(await statusByName()).toEqual({
      'seen a minute ago': 'online',
      'seen an hour ago': 'offline',
    });
  });
});
