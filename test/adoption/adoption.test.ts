import { describe, expect, it } from 'vitest';
import { createDemoSchema } from '../../lib/demo-data';
import type { Sql } from '../../lib/db';
import { createTestDatabase } from '../helpers/database';
import { runAdopt, startAgainst } from './npm-start';

/**
 * The earlier Express system's cron_job as the seed describes it (cron-system-summary.md): its
 * columns, its three default jobs with counters in metadata, and two jobs this system refuses.
 */
async function buildEarlierTable(sql: Sql, variant: 'serial' | 'uuid') {
  // The CRM's own tables exist in its database.
  await createDemoSchema(sql);
  await sql.unsafe(
    variant === 'serial'
      ? `create table cron_job (
          id serial primary key, name varchar(255) not null, schedule varchar(100) not null,
          function_name varchar(255), is_active boolean default true, metadata jsonb default '{}',
          last_run timestamp, next_run timestamp,
          created_at timestamp default now(), updated_at timestamp default now())`
      : `create table cron_job (
          id uuid primary key default gen_random_uuid(), tenant_id text, name text not null,
          schedule text not null, function_name text, is_active boolean default true,
          metadata jsonb default '{}', last_run timestamptz, next_run timestamptz,
          description text not null default '',
          created_at timestamptz default now(), updated_at timestamptz default now())`,
  );
  const counters = (executions: number, errors: number, status: string | null) => ({
    execution_count: executions,
    error_count: errors,
    last_execution_status: status,
    last_error: errors > 0 ? 'connection reset' : null,
  });
  const rows = [
    [
      'Mark Users Offline',
      'every_5_minutes',
      'markUsersOffline',
      true,
      { timeout_minutes: 5, ...counters(812, 3, 'success') },
    ],
    [
      'Clean Old Activities',
      'daily',
      'cleanOldActivities',
      false,
      { retention_days: 365, ...counters(0, 0, null) },
    ],
    ['Sync Denormalized Fields', 'hourly', 'syncDenormalizedFields', false, counters(0, 0, null)],
    [
      'Custom Cleanup Job',
      'daily',
      'cleanupOldRecords',
      true,
      { retention_days: 30, ...counters(40, 1, 'error') },
    ],
    [
      'Presence every 7',
      'every_7_minutes',
      'markUsersOffline',
      true,
      { timeout_minutes: 5, ...counters(77, 0, 'success') },
    ],
  ] as const;
  for (const [name, schedule, fn, active, metadata] of rows) {
    await sql`
      insert into cron_job (name, schedule, function_name, is_active, metadata, last_run, next_run)
      values (${name}, ${schedule}, ${fn}, ${active}, ${sql.json(metadata as never)},
        now() - interval '20 minutes', ${active ? sql`now() - interval '10 minutes'` : null})`;
  }
  return sql<{ id: string | number; name: string }[]>`select id, name from cron_job order by name`;
}

interface ApiJob {
  id: string;
  name: string;
  is_active: boolean;
  inactive_reason: string | null;
  metadata: Record<string, unknown>;
  next_run: string | null;
}

describe.each(['serial', 'uuid'] as const)('adopting the earlier cron_job (%s ids)', (variant) => {
  it('dry run lists the changes; npm start adopts them, keeps counters and runs the good jobs', async () => {
    const { url, sql } = await createTestDatabase({ migrated: false });
    const earlier = await buildEarlierTable(sql, variant);

    // Dry run: the report, and nothing changed.
    const report = JSON.parse(await runAdopt(url, ['--dry-run', '--json']));
    expect(report.dry_run).toBe(true);
    expect(report.adoption.adopt).toBe(true);
    expect(report.adoption.earlier_table).toMatchObject({
      id_type: variant === 'serial' ? 'integer' : 'uuid',
      rows: 5,
      renamed_to: 'cron_job_earlier',
    });
    expect(report.adoption.earlier_table.missing_columns).toEqual(
      variant === 'serial'
        ? ['tenant_id', 'timezone', 'timeout_seconds', 'precise']
        : ['timezone', 'timeout_seconds', 'precise'],
    );
    expect(report.adoption.earlier_table.extra_columns).toEqual(
      variant === 'serial' ? [] : ['description'],
    );
    const deactivated = report.adoption.deactivated
      .sort((a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name))
      .map((job: { name: string; reason: string }) => [job.name, job.reason]);
    expect(deactivated).toEqual([
      [
        'Custom Cleanup Job',
        expect.stringMatching(/^executor "cleanupOldRecords" is not registered/),
      ],
      ['Presence every 7', expect.stringMatching(/^schedule refused: .*every_7_minutes/)],
    ]);
    const [unchanged] = await sql<{ migrations: boolean; earlier: boolean }[]>`
      select to_regclass('cron_migrations') is not null as migrations,
        to_regclass('cron_job_earlier') is not null as earlier`;
    expect(unchanged).toEqual({ migrations: false, earlier: false });
    expect(await sql`select id, name from cron_job order by name`).toEqual(earlier);
    const text = await runAdopt(url, ['--dry-run']);
    expect(text).toMatch(/^dry run: nothing was changed/);
    expect(text).toContain('deactivated: executor "cleanupOldRecords" is not registered');

    // npm start against it: adopts, seeds nothing new, sweeps.
    const stack = startAgainst(url, 1);
    try {
      const [up] = await stack.waitFor((line) => line.message === 'crm-cron is up');
      expect(up!.default_jobs_seeded).toEqual([]);
      expect(up!.database_url).not.toContain(new URL(url).password || '\u0000');
      await stack.waitFor(
        (line) => line.message === 'sweep finished' && (line.executed as number) >= 1,
      );
      const api = String(up!.url);
      const { jobs } = (await (await fetch(`${api}/jobs?limit=50`)).json()) as { jobs: ApiJob[] };
      const byName = new Map(jobs.map((job) => [job.name, job]));
      expect([...byName.keys()].sort()).toEqual(earlier.map((row) => row.name));
      // The columns later migrations add take their defaults on every adopted row.
      for (const job of jobs) {
        expect(job).toMatchObject({ overlap: 'skip', max_concurrent_runs: 1, priority: 0 });
      }

      // Every row kept with its counters; the good active job ran on the first sweep.
      const presence = byName.get('Mark Users Offline')!;
      expect(presence).toMatchObject({ is_active: true, inactive_reason: null });
      expect(presence.metadata).toMatchObject({
        timeout_minutes: 5,
        execution_count: 813,
        error_count: 3,
        last_execution_status: 'success',
      });
      expect(Date.parse(presence.next_run!)).toBeGreaterThan(Date.now() - 60_000);
      const runs = (await (await fetch(`${api}/jobs/${presence.id}/runs`)).json()) as {
        runs: { status: string }[];
      };
      expect(runs.runs.map((run) => run.status)).toEqual(['success']);

      for (const name of ['Clean Old Activities', 'Sync Denormalized Fields']) {
        expect(byName.get(name)).toMatchObject({
          is_active: false,
          inactive_reason: null,
          next_run: null,
        });
      }
      const custom = byName.get('Custom Cleanup Job')!;
      expect(custom).toMatchObject({
        is_active: false,
        next_run: null,
        inactive_reason: report.adoption.deactivated[0].reason,
      });
      expect(custom.metadata).toMatchObject({
        retention_days: 30,
        execution_count: 40,
        error_count: 1,
        last_execution_status: 'error',
      });
      const seven = byName.get('Presence every 7')!;
      expect(seven).toMatchObject({
        is_active: false,
        inactive_reason: report.adoption.deactivated[1].reason,
      });
      expect(seven.metadata).toMatchObject({ execution_count: 77 });

      // Ids: uuids kept; serial ids get uuids and keep the number.
      const ids = await sql<{ name: string; id: string; legacy_id: string | null }[]>`
        select name, id, legacy_id from cron_job order by name`;
      for (const [index, row] of ids.entries()) {
        if (variant === 'uuid')
          expect(row).toMatchObject({ id: earlier[index]!.id, legacy_id: null });
        else expect(row.legacy_id).toBe(String(earlier[index]!.id));
      }
      // Exactly what the dry run listed: the same jobs switched off, the same active ones.
      const active = jobs.filter((job) => job.is_active).map((job) => job.name);
      expect(active.sort()).toEqual(
        report.adoption.jobs
          .filter((job: { is_active: boolean }) => job.is_active)
          .map((job: { name: string }) => job.name)
          .sort(),
      );
      expect(active).toEqual(['Mark Users Offline']);
      expect(stack.lines.filter((line) => line.message === 'run failed')).toEqual([]);

      // The earlier table stays as the backup.
      const [backup] = await sql<{ n: number }[]>`select count(*)::int as n from cron_job_earlier`;
      expect(backup!.n).toBe(5);
    } finally {
      expect(await stack.stop()).toBe(0);
    }
    // A second start finds nothing more to adopt.
    const again = JSON.parse(await runAdopt(url, ['--dry-run', '--json']));
    expect(again).toMatchObject({ applied: [], adoption: { adopt: false } });
  });
});

describe('npm start on an empty database (DATABASE_URL)', () => {
  it('seeds the default jobs inactive where their tables are missing, and logs no failed run in three sweeps', async () => {
    const { url } = await createTestDatabase({ migrated: false });
    const stack = startAgainst(url, 1);
    try {
      await stack.waitFor((line) => line.message === 'sweep finished', 3);
      const [up] = await stack.waitFor((line) => line.message === 'crm-cron is up');
      expect(up!.default_jobs_seeded).toHaveLength(3);
      expect(
        stack.lines.filter((line) => line.level === 'ERROR' || line.message === 'run failed'),
      ).toEqual([]);
      const api = String(up!.url);
      const health = (await (await fetch(`${api}/health`)).json()) as Record<string, unknown>;
      expect(health).toEqual({
        status: 'ok',
        missing_tables: {
          markUsersOffline: ['users', 'employees'],
          cleanOldActivities: ['activities'],
          syncDenormalizedFields: ['contacts', 'opportunities', 'accounts'],
        },
      });
      const { jobs } = (await (await fetch(`${api}/jobs`)).json()) as { jobs: ApiJob[] };
      const presence = jobs.find((job) => job.name === 'Mark Users Offline')!;
      expect(presence).toMatchObject({ is_active: false, next_run: null });
      expect(presence.inactive_reason).toMatch(/^table\(s\) users, employees do not exist/);
    } finally {
      expect(await stack.stop()).toBe(0);
    }
  });
});
