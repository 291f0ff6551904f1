import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AppContext } from '../../lib/app-context';
import { ValidationError } from '../../lib/errors';
import { SYSTEM_CALLER } from '../../lib/identity/caller';
import { createBuiltInRegistry } from '../../lib/executors/built-ins';
import { createJob, updateJob } from '../../lib/jobs/service';
import { silentLog } from '../../lib/logger';
import { createTestDatabase } from '../helpers/database';
import { localDateTimes } from '../helpers/schedules';

/**
 * Every at: date and zone the API can be sent reaches the job service, which must store the job
 * or refuse it with a ValidationError (a 4xx): never anything else (a 500).
 */
const { sql } = await createTestDatabase();
const app: AppContext = {
  sql,
  registry: createBuiltInRegistry(),
  log: silentLog,
  settings: { sweepIntervalSeconds: 300, sweepConcurrency: 1 },
};
const zones = Intl.supportedValuesOf('timeZone');
let names = 0;

/** 'created', or the refused fields: any other error fails the test. */
async function create(schedule: string, timezone: string, is_active: boolean): Promise<string> {
  try {
    await createJob(app, SYSTEM_CALLER, {
      name: `job ${(names += 1)}`,
      schedule,
      timezone,
      is_active,
      function_name: 'markUsersOffline',
    });
    return 'created';
  } catch (error) {
    expect(error, `${schedule} in ${timezone}`).toBeInstanceOf(ValidationError);
    return (error as ValidationError).errors.map((e) => e.path).join(',');
  }
}

describe('at: schedules in the job service', () => {
  it('stores or refuses the extremes of at: in every IANA zone, active or not', async () => {
    const outcomes = new Map<string, number>();
    for (const zone of zones) {
      for (const at of ['at:9999-12-31T23:59:59', 'at:1970-01-01T00:00:00']) {
        for (const active of [true, false]) {
          const result = `${at} active=${active}: ${await create(at, zone, active)}`;
          outcomes.set(result, (outcomes.get(result) ?? 0) + 1);
        }
      }
    }
    // West of UTC 9999-12-31T23:59 is in year 10000, which no timestamp here can hold.
    expect(await create('at:9999-12-31T23:59:59', 'America/New_York', true)).toBe('schedule');
    expect(await create('at:9999-12-31T23:59:59', 'Asia/Tokyo', true)).toBe('created');
    expect([...outcomes.keys()].sort()).toEqual([
      'at:1970-01-01T00:00:00 active=false: created',
      'at:1970-01-01T00:00:00 active=true: schedule',
      'at:9999-12-31T23:59:59 active=false: created',
      'at:9999-12-31T23:59:59 active=false: schedule',
      'at:9999-12-31T23:59:59 active=true: created',
      'at:9999-12-31T23:59:59 active=true: schedule',
    ]);
  });

  it('stores or refuses any at: date with any zone, on create and on update', async () => {
    const [job] = await sql<{ id: string }[]>`
      select id from cron_job where schedule like 'at:%' and is_active limit 1`;
    await fc.assert(
      fc.asyncProperty(
        localDateTimes,
        fc.constantFrom(...zones),
        fc.boolean(),
        async (at, zone, active) => {
          const created = await create(at, zone, active);
          expect(['created', 'schedule']).toContain(created);
          try {
            await updateJob(app, SYSTEM_CALLER, job!.id, {
              schedule: at,
              timezone: zone,
              is_active: active,
            });
          } catch (error) {
            expect(error, `${at} in ${zone}`).toBeInstanceOf(ValidationError);
          }
        },
      ),
      { numRuns: 150, seed: 20261129 },
    );
  });
});
