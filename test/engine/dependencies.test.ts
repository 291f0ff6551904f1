import { beforeEach, describe, expect, it } from 'vitest';
import { claimDueJobs } from '../../lib/engine/claim';
import { fireDependencies } from '../../lib/engine/dependencies';
import { releaseRuns } from '../../lib/engine/run-state';
import { sweep } from '../../lib/engine/sweep';
import { silentLog } from '../../lib/logger';
import { createTestDatabase } from '../helpers/database';
import { insertJob, testRegistry } from '../helpers/jobs';

// after: schedules through the engine: sweeps on a moved clock, several at once, on the real
// tables. Which runs happen, in which order, and which upstream run each records.

const { sql } = await createTestDatabase();
const deps = { sql, registry: testRegistry, log: silentLog };
const at = (iso: string) => new Date(iso);
let clock = at('2026-12-01T10:00:10Z');
/** Three sweeps at once, at the current moved clock; then the clock moves on 10 seconds. */
async function sweeps() {
  const summaries = await Promise.all(
    [1, 2, 3].map(() => sweep(deps, { now: () => clock, leaseSeconds: 3600 })),
  );
  clock = new Date(clock.getTime() + 10_000);
  return summaries;
}

beforeEach(async () => {
  await sql`truncate cron_job cascade`;
  clock = at('2026-12-01T10:00:10Z');
});

/** A job every minute, first due at 10:00. */
async function timed(name: string, functionName = 'noop', tenant: string | null = 'acme') {
  return insertJob(sql, {
    name,
    schedule: 'every_minute',
    function_name: functionName,
    tenant_id: tenant,
    next_run: at('2026-12-01T10:00:00Z'),
  });
}

/** An after: job (active, no next_run), as the job service stores it. */
async function after(name: string, upstream: string[], tenant: string | null = 'acme') {
  const id = await insertJob(sql, { name, tenant_id: tenant, schedule: 'hourly' });
  await sql`update cron_job set schedule = ${`after:${upstream.join(',')}`},
    after_job_ids = ${upstream}::uuid[], next_run = null where id = ${id}`;
  await sql`update cron_job set has_dependents = true where id = any(${upstream}::uuid[])`;
  return id;
}

interface RunView {
  job: string;
  trigger: string;
  status: string;
  triggered_by_job: string | null;
}

/** Every run in the order the runs started (each sweep is 10 moved seconds after the last). */
async function history(): Promise<RunView[]> {
  return sql<RunView[]>`
    select split_part(j.name, ' ', 1) as job, r.trigger, r.status,
      split_part(u.name, ' ', 1) as triggered_by_job
    from cron_job_run r
    join cron_job j on j.id = r.job_id
    left join cron_job_run ur on ur.id = r.triggered_by
    left join cron_job u on u.id = ur.job_id
    order by r.started_at, j.name`;
}

const run = (job: string, triggeredBy: string | null = null, status = 'success'): RunView => ({
  job,
  trigger: triggeredBy ? 'dependency' : 'schedule',
  status,
  triggered_by_job: triggeredBy,
});

describe('after: dependencies', () => {
  it('runs a chain A -> B -> C in order, exactly once per success of A', async () => {
    const a = await timed('A');
    const b = await after('B', [a]);
    await after('C', [b]);

    for (let i = 0; i < 5; i++) await sweeps();
    expect(await history()).toEqual([run('A'), run('B', 'A'), run('C', 'B')]);

    // A's next slot: the chain runs once more, and only once.
    clock = at('2026-12-01T10:01:05Z');
    for (let i = 0; i < 5; i++) await sweeps();
    expect(await history()).toEqual([
      run('A'),
      run('B', 'A'),
      run('C', 'B'),
      run('A'),
      run('B', 'A'),
      run('C', 'B'),
    ]);
    // B and C stay active without a slot of their own, waiting for the next trigger.
    const waiting = await sql`
      select name, is_active, next_run, triggered_by from cron_job where name in ('B 1', 'C 1') order by name`;
    expect(waiting).toEqual([
      { name: 'B 1', is_active: true, next_run: null, triggered_by: null },
      { name: 'C 1', is_active: true, next_run: null, triggered_by: null },
    ]);
  });

  it('records the exact upstream run that triggered each run', async () => {
    const a = await timed('A');
    const b = await after('B', [a]);
    for (let i = 0; i < 3; i++) await sweeps();
    const [aRun] = await sql<{ id: string }[]>`select id from cron_job_run where job_id = ${a}`;
    const [bRun] = await sql<{ triggered_by: string; trigger: string }[]>`
      select triggered_by, trigger from cron_job_run where job_id = ${b}`;
    expect(bRun).toEqual({ triggered_by: aRun!.id, trigger: 'dependency' });
  });

  it('fan-in: runs C once after both A and B succeeded since its last run, never after one of them alone', async () => {
    const a = await timed('A');
    const b = await timed('B', 'fail');
    await after('C', [a, b]);

    // A succeeds, B fails: C waits.
    for (let i = 0; i < 4; i++) await sweeps();
    expect(await history()).toEqual([run('A'), run('B', null, 'error')]);

    // Next slot: B succeeds too (A again): C runs once, triggered by the later of the two.
    await sql`update cron_job set function_name = 'noop' where id = ${b}`;
    clock = at('2026-12-01T10:01:05Z');
    for (let i = 0; i < 4; i++) await sweeps();
    const runs = await history();
    expect(runs.slice(0, 4)).toEqual([run('A'), run('B', null, 'error'), run('A'), run('B')]);
    expect(runs.slice(4)).toHaveLength(1);
    expect(runs[4]).toMatchObject({ job: 'C', trigger: 'dependency', status: 'success' });
    expect(['A', 'B']).toContain(runs[4]!.triggered_by_job);

    // Only A succeeds at the next slot: C has had no new success of B since its run, so it waits.
    await sql`update cron_job set function_name = 'fail' where id = ${b}`;
    clock = at('2026-12-01T10:02:05Z');
    for (let i = 0; i < 4; i++) await sweeps();
    expect((await history()).filter((view) => view.job === 'C')).toHaveLength(1);
    const [state] = await sql<{ keys: string[] }[]>`
      select array(select jsonb_object_keys(dependency_runs)) as keys from cron_job where name = 'C 1'`;
    expect(state!.keys).toEqual([a]);
  });

  it('a failed run of A does not trigger B; a timed-out or lost one neither', async () => {
    const a = await timed('A', 'fail');
    await after('B', [a]);
    for (let i = 0; i < 4; i++) await sweeps();
    expect(await history()).toEqual([run('A', null, 'error')]);
    const [events] = await sql<{ n: number }[]>`
      select count(*)::int as n from cron_job_dependency_event`;
    expect(events!.n).toBe(0);
  });

  it('a manual run of A that succeeds triggers B like a scheduled one', async () => {
    const a = await timed('A');
    await sql`update cron_job set next_run = ${at('2026-12-01T11:00:00Z')} where id = ${a}`;
    await after('B', [a]);
    await sql`
      insert into cron_job_run (job_id, trigger, status, deadline)
      values (${a}, 'manual', 'running', now() + interval '1 hour')`;
    const [manual] = await sql<{ id: string }[]>`select id from cron_job_run where job_id = ${a}`;
    const { finishRuns } = await import('../../lib/engine/run-state');
    await finishRuns(sql, [
      {
        run_id: manual!.id,
        status: 'success',
        finished_at: at('2026-12-01T10:00:05Z'),
        duration_ms: 5,
        result: null,
        error: null,
      },
    ]);
    for (let i = 0; i < 2; i++) await sweeps();
    expect(await history()).toEqual([
      { job: 'A', trigger: 'manual', status: 'success', triggered_by_job: null },
      run('B', 'A'),
    ]);
  });

  it('an inactive or paused dependent drops the triggers that came while it was off', async () => {
    const a = await timed('A');
    const b = await after('B', [a]);
    await sql`update cron_job set is_active = false where id = ${b}`;
    for (let i = 0; i < 2; i++) await sweeps();
    await sql`update cron_job set is_active = true where id = ${b}`;
    for (let i = 0; i < 2; i++) await sweeps();
    expect(await history()).toEqual([run('A')]);
  });

  it('a fan-in completed by events consumed in several transactions at once fires each dependent exactly once', async () => {
    const a = await timed('A');
    const b = await timed('B');
    const dependents = [];
    for (let i = 0; i < 40; i++) dependents.push(await after(`C${i}`, [a, b]));
    for (let round = 0; round < 5; round++) {
      // A's and B's successes arrive as separate events; consumers race for them. One success of
      // each per round: several successes of one upstream before the other's are counted in the
      // order they are consumed (a known limit, see docs/schedules.md), not what this test is about.
      await sql`
        insert into cron_job_dependency_event (upstream_job_id, tenant_id, run_id, finished_at)
        select u, 'acme', gen_random_uuid(), ${at('2026-12-01T10:00:00Z')}
        from unnest(array[${a}::uuid, ${b}::uuid]) u`;
      const fired = await Promise.all([1, 2, 3, 4].map(() => fireDependencies(sql)));
      const total = fired.reduce((sum, n) => sum + n, 0);
      expect(total).toBe(dependents.length);
      const [due] = await sql<{ n: number; empty: number }[]>`
        select count(*)::int as n, count(*) filter (where dependency_runs = '{}')::int as empty
        from cron_job where id = any(${dependents}::uuid[]) and next_run is not null`;
      expect(due).toEqual({ n: dependents.length, empty: dependents.length });
      await sql`update cron_job set next_run = null, triggered_by = null
        where id = any(${dependents}::uuid[])`;
    }
  });

  it('a crash after the success but before the sweep applies it loses nothing: the event waits', async () => {
    const a = await timed('A');
    const b = await after('B', [a]);
    // The success is recorded with its event in one statement; no sweep has applied it yet.
    await sweep(deps, { now: () => at('2026-12-01T10:00:10Z'), leaseSeconds: 3600 });
    const [events] = await sql<{ n: number }[]>`
      select count(*)::int as n from cron_job_dependency_event`;
    expect(events!.n).toBe(1);
    // A failing apply (its transaction rolls back) keeps the event for the next sweep.
    await expect(
      sql.begin(async (tx) => {
        await fireDependencies(tx as never);
        throw new Error('crash');
      }),
    ).rejects.toThrow('crash');
    const [still] = await sql<{ n: number }[]>`
      select count(*)::int as n from cron_job_dependency_event`;
    expect(still!.n).toBe(1);
    await sweep(deps, { now: () => at('2026-12-01T10:00:20Z'), leaseSeconds: 3600 });
    const [bRuns] = await sql<{ n: number }[]>`
      select count(*)::int as n from cron_job_run where job_id = ${b}`;
    expect(bRuns!.n).toBe(1);
  });

  it('a dependency run claimed but never started is given back: due again, same trigger', async () => {
    const a = await timed('A');
    const b = await after('B', [a]);
    const upstreamRun = '0b5c3a8e-6f1d-4c2b-9a7e-2f4d6c8b1a30';
    const trigger = at('2026-12-01T10:00:05Z');
    await sql`update cron_job set next_run = ${trigger}, triggered_by = ${upstreamRun}
      where id = ${b}`;
    const claim = await claimDueJobs(sql, {
      now: at('2026-12-01T10:00:10Z'),
      limit: 10,
      maxTimeoutSeconds: 900,
      leaseSeconds: 60,
      ids: [b],
    });
    expect(claim.runnable).toHaveLength(1);
    const [claimed] = await sql`
      select r.trigger, r.triggered_by, j.next_run, j.triggered_by as pending, j.is_active
      from cron_job_run r join cron_job j on j.id = r.job_id where r.job_id = ${b}`;
    expect(claimed).toEqual({
      trigger: 'dependency',
      triggered_by: upstreamRun,
      next_run: null,
      pending: null,
      is_active: true,
    });
    await releaseRuns(sql, [claim.runnable[0]!.run_id]);
    const [released] = await sql`
      select next_run, triggered_by, is_active from cron_job where id = ${b}`;
    expect(released).toEqual({ next_run: trigger, triggered_by: upstreamRun, is_active: true });
  });
});
