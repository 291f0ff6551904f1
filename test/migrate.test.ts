import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrations } from '../lib/migrations/index';
import { createTestDatabase } from './helpers/database';

const { sql, url } = await createTestDatabase({ migrated: false });

function migrateInChildProcess(databaseUrl: string): Promise<number[]> {
  const script = `
    import { connect } from './lib/db';
    import { migrate } from './lib/migrate';
    const sql = connect(process.env.DATABASE_URL, { max: 1 });
    console.log(JSON.stringify(await migrate(sql)));
    await sql.end();`;
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        cwd: path.resolve(import.meta.dirname, '..'),
        env: { ...process.env, DATABASE_URL: databaseUrl },
      },
    );
    let output = '';
    let errors = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(output.trim()) as number[]) : reject(new Error(errors)),
    );
  });
}

describe('migrations', () => {
  it('are applied once, in order, when two processes start at the same moment', async () => {
    const results = await Promise.all([migrateInChildProcess(url), migrateInChildProcess(url)]);
    const all = migrations.map((migration) => migration.id);
    expect(results.sort((a, b) => b.length - a.length)).toEqual([all, []]);
    const applied = await sql<{ id: number }[]>`select id from cron_migrations order by id`;
    // Applied in array order (an id may come after a larger one it depends on), listed by id.
    expect(applied.map((row) => row.id)).toEqual([...all].sort((a, b) => a - b));
    const tables = await sql`
      select table_name from information_schema.tables
      where table_schema = 'public' and table_name like 'cron_%' order by table_name`;
    expect(tables.map((row) => row.table_name)).toEqual([
      'cron_alert_delivery',
      'cron_alert_destination',
      'cron_alert_rule',
      'cron_job',
      'cron_job_audit',
      'cron_job_backfill',
      'cron_job_dependency_event',
      'cron_job_run',
      'cron_job_run_log',
      'cron_job_secret',
      'cron_migrations',
      'cron_run_queue',
      'cron_sweep_state',
      'cron_tenant_limit',
    ]);
    expect(await migrateInChildProcess(url)).toEqual([]);
  });

  it('create the index that makes finding due jobs cost in proportion to the due jobs', async () => {
    await sql`insert into cron_job (name, schedule, function_name, is_active, next_run)
      select 'job ' || n, 'hourly', 'noop', n % 100 = 0, case when n % 100 = 0 then now() + interval '1 hour' end
      from generate_series(1, 20000) n`;
    await sql`analyze cron_job`;
    const plan = await sql.unsafe(
      `explain (format json) select id from cron_job where is_active and next_run <= now() order by next_run limit 1000`,
    );
    const text = JSON.stringify(plan);
    expect(text).toContain('cron_job_due');
    expect(text).not.toContain('Seq Scan');
  });
});
