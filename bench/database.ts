import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, type Sql } from '../lib/db';
import { initialEngineMetadata } from '../lib/engine/metadata';
import { startEmbeddedPostgres, type PostgresBinaries } from '../lib/local/embedded-postgres';
import { migrate } from '../lib/migrate';

export interface BenchDatabase {
  /** Connection string of the migrated benchmark database. */
  url: string;
  /** Where it runs: "embedded" or the DATABASE_URL host. */
  origin: string;
  /** True when pg_stat_statements can be read (the extension is preloaded). */
  statStatements: boolean;
  stop(): Promise<void>;
}

export const BENCH_SCHEDULE = 'cron:0 0 1 1 *';

const BENCH_DATABASE = `crm_cron_bench_${randomBytes(4).toString('hex')}`;

/** The PostgreSQL majors an embedded benchmark server can run. */
export type BenchPostgresMajor = 15 | 17;

/**
 * The embedded major: BENCH_POSTGRES (15 or 17), by default 15, the oldest the contract supports
 * and the one the sweep targets are stated on (installed under the npm alias `pg15`).
 */
export function benchPostgresMajor(env: NodeJS.ProcessEnv = process.env): BenchPostgresMajor {
  const value = env.BENCH_POSTGRES?.trim() || '15';
  if (value !== '15' && value !== '17') throw new Error('BENCH_POSTGRES must be 15 or 17');
  return Number(value) as BenchPostgresMajor;
}

async function embeddedBinaries(major: BenchPostgresMajor): Promise<PostgresBinaries> {
  return major === 15
    ? ((await import('pg15')) as PostgresBinaries)
    : ((await import(
        `@embedded-postgres/${process.platform}-${process.arch}`
      )) as PostgresBinaries);
}

/**
 * A fresh, migrated database on DATABASE_URL's server when that is set, otherwise on an embedded
 * PostgreSQL (benchPostgresMajor()) in a temporary folder. The embedded server is restarted once
 * with pg_stat_statements preloaded (embedded-postgres has no option for it, but ALTER SYSTEM does).
 */
export async function startBenchDatabase(
  options: { onLog?: (line: string) => void; major?: BenchPostgresMajor } = {},
): Promise<BenchDatabase> {
  let adminUrl = process.env.DATABASE_URL?.trim();
  let stopServer = async () => {};
  let origin = 'DATABASE_URL';
  if (!adminUrl) {
    const folder = await mkdtemp(path.join(tmpdir(), 'crm-cron-bench-'));
    // Postgres runs as its own user when we are root, and must be able to reach its folder.
    await chmod(folder, 0o755);
    const dataDir = path.join(folder, 'data');
    const major = options.major ?? benchPostgresMajor();
    const binaries = await embeddedBinaries(major);
    origin = `embedded PostgreSQL ${major}`;
    let server = await startEmbeddedPostgres({ dataDir, persistent: true, binaries });
    let admin = connect(server.url, { max: 1 });
    await admin`alter system set shared_preload_libraries = 'pg_stat_statements'`;
    await admin.end();
    await server.stop();
    server = await startEmbeddedPostgres({
      dataDir,
      persistent: true,
      binaries,
      ...(options.onLog ? { onLog: options.onLog } : {}),
    });
    // Only a server with the library loaded knows this setting (15 refuses it before).
    admin = connect(server.url, { max: 1 });
    await admin`alter system set pg_stat_statements.track_planning = on`;
    await admin`select pg_reload_conf()`;
    await admin.end();
    adminUrl = server.url;
    const running = server;
    stopServer = async () => {
      await running.stop();
      await rm(folder, { recursive: true, force: true });
    };
  }
  const admin = connect(adminUrl, { max: 1 });
  await admin.unsafe(`create database ${BENCH_DATABASE}`);
  const url = withDatabase(adminUrl, BENCH_DATABASE);
  const sql = connect(url, { max: 1 });
  await migrate(sql);
  let statStatements = false;
  try {
    await sql`create extension if not exists pg_stat_statements`;
    await sql`select 1 from pg_stat_statements limit 1`;
    statStatements = true;
  } catch {
    // Not preloaded on this server: idle cost falls back to EXPLAIN ANALYZE alone.
  }
  await sql.end();
  return {
    url,
    origin,
    statStatements,
    stop: async () => {
      await admin.unsafe(`drop database if exists ${BENCH_DATABASE} with (force)`);
      await admin.end();
      await stopServer();
    },
  };
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/**
 * Adds `count` active no-op jobs, set-based, none of them due: next_run is spread over a day,
 * starting an hour from now. Names are unique per tenant; 1,000 tenants. The schedule fires once
 * a year, so a job run by a sweep is not due again during the benchmark (with every_5_minutes, a
 * sweep that crosses a five-minute boundary rightly runs its first jobs a second time).
 */
export async function insertIdleJobs(sql: Sql, count: number): Promise<void> {
  const [row] = await sql<{ offset: number }[]>`select count(*)::int as offset from cron_job`;
  const offset = row!.offset;
  // Maintaining the secondary indexes row by row makes a large insert slow: drop them and build
  // them again from their own definitions afterwards (the primary key stays: a foreign key needs
  // it). The result is the same schema, with freshly built indexes.
  const secondary = await sql<{ name: string; constraint: boolean; definition: string }[]>`
    select i.relname as name, c.oid is not null as constraint,
      coalesce(pg_get_constraintdef(c.oid), pg_get_indexdef(i.oid)) as definition
    from pg_index x
    join pg_class i on i.oid = x.indexrelid
    left join pg_constraint c on c.conindid = i.oid and c.conrelid = x.indrelid
    where x.indrelid = 'cron_job'::regclass and not x.indisprimary`;
  const rebuild = count >= 100_000;
  if (rebuild) {
    for (const index of secondary) {
      await sql.unsafe(
        index.constraint
          ? `alter table cron_job drop constraint ${index.name}`
          : `drop index ${index.name}`,
      );
    }
  }
  await sql`
    insert into cron_job (tenant_id, name, schedule, timezone, function_name, metadata,
      timeout_seconds, next_run)
    select 'tenant-' || (n % 1000), 'bench job ' || n, ${BENCH_SCHEDULE}, 'UTC', 'noop',
      ${sql.json(initialEngineMetadata)}, 60,
      now() + interval '1 hour' + (n % 86400) * interval '1 second'
    from generate_series(${offset + 1}::int, ${offset + count}::int) as n`;
  if (rebuild) {
    for (const index of secondary) {
      await sql.unsafe(
        index.constraint
          ? `alter table cron_job add constraint ${index.name} ${index.definition}`
          : index.definition,
      );
    }
  }
  await sql`vacuum analyze cron_job`;
}
