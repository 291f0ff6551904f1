import * as z from 'zod/mini';
import type { TransactionSql } from './db';
import { jsonb } from './db';
import { ENGINE_METADATA_KEYS, executorConfig, initialEngineMetadata } from './engine/metadata';
import type { ExecutorRegistry } from './executors/registry';
import { isValidTimeZone, nextSlot, parseSchedule } from './schedule';

/**
 * Taking over the `cron_job` table of the earlier Express system (see the README's upgrade
 * section). It is recognised by a `cron_job` table in a database without `cron_migrations`.
 *
 * How: before the migrations run, the earlier table is renamed `cron_job_earlier` (kept as the
 * backup; nothing is dropped); the migrations then create our tables as on any database; after
 * them every earlier row is inserted into the new `cron_job`, in the same transaction, so the
 * database is either fully adopted or untouched. Every row is kept with its counters in
 * `metadata`; uuid ids are kept, serial ids get a uuid and keep the number in `legacy_id`;
 * `next_run` is recomputed; a job whose schedule, time zone, executor or configuration this
 * system refuses is kept but inactive, with the reason in `inactive_reason`. Refusing a job never
 * fails the adoption.
 */
export const EARLIER_TABLE = 'cron_job_earlier';

export interface AdoptedJob {
  /** The id in the earlier table (a uuid, or a number for serial ids). */
  earlier_id: string;
  id: string;
  name: string;
  function_name: string;
  schedule: string;
  is_active: boolean;
  /** Set when adoption switched the job off. */
  inactive_reason: string | null;
  next_run: { from: string | null; to: string | null };
  /** What adoption changes on this row, in words. */
  changes: string[];
  counters: Record<string, unknown>;
}

export interface AdoptionReport {
  /** False: there was no earlier table to adopt. */
  adopt: boolean;
  earlier_table?: {
    renamed_to: string;
    id_type: 'uuid' | 'integer';
    rows: number;
    /** Our columns the earlier table lacked (filled with their defaults). */
    missing_columns: string[];
    /** Its columns we have no use for (kept in the renamed earlier table only). */
    extra_columns: string[];
  };
  jobs: AdoptedJob[];
  /** The jobs adoption switches off, with why. */
  deactivated: Array<{ earlier_id: string; name: string; reason: string }>;
}

const OUR_COLUMNS = [
  'id',
  'tenant_id',
  'name',
  'schedule',
  'timezone',
  'function_name',
  'is_active',
  'metadata',
  'timeout_seconds',
  'precise',
  'last_run',
  'next_run',
  'created_at',
  'updated_at',
];
const REQUIRED_COLUMNS = ['id', 'name', 'schedule', 'function_name'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Prepared {
  report: AdoptionReport;
  rows: Array<Record<string, unknown>>;
}

/**
 * Step one, before the migrations: when the database holds the earlier system's `cron_job`,
 * renames it out of the way and returns what adoption will insert; otherwise null. Throws only
 * when `cron_job` is neither ours nor the earlier system's (it lacks the columns every version of
 * the earlier system had): adopting a stranger's table would be guessing.
 */
export async function prepareAdoption(
  tx: TransactionSql,
  registry: ExecutorRegistry,
  now: Date,
): Promise<Prepared | null> {
  const [state] = await tx<{ job: boolean; migrations: boolean }[]>`
    select to_regclass('cron_job') is not null as job,
      to_regclass('cron_migrations') is not null as migrations`;
  if (!state!.job || state!.migrations) return null;

  const columns = await tx<{ column_name: string; data_type: string }[]>`
    select column_name, data_type from information_schema.columns
    where table_schema = current_schema() and table_name = 'cron_job'`;
  const types = new Map(columns.map((column) => [column.column_name, column.data_type]));
  const lacking = REQUIRED_COLUMNS.filter((column) => !types.has(column));
  if (lacking.length > 0) {
    throw new Error(
      `cron_job exists but was made neither by these migrations nor by the earlier system ` +
        `(no column ${lacking.join(', ')}): rename or drop it, then start again`,
    );
  }
  const idType = types.get('id') === 'uuid' ? 'uuid' : 'integer';
  const earlier = await tx<{ row: Record<string, unknown> }[]>`
    select to_jsonb(t) as row from cron_job t order by 1`;
  await tx.unsafe(`alter table cron_job rename to ${EARLIER_TABLE}`);
  // The earlier table's constraints and indexes keep their names; ours would collide with them.
  await renameIndexesAndConstraints(tx);

  const jobs: AdoptedJob[] = [];
  const rows: Array<Record<string, unknown>> = [];
  const names = new Set<string>();
  for (const { row } of earlier.sort((a, b) => compareIds(a.row.id, b.row.id))) {
    const adopted = adoptRow(row, { idType, registry, now, names });
    jobs.push(adopted.job);
    rows.push(adopted.row);
  }
  return {
    report: {
      adopt: true,
      earlier_table: {
        renamed_to: EARLIER_TABLE,
        id_type: idType,
        rows: earlier.length,
        missing_columns: OUR_COLUMNS.filter((column) => !types.has(column)),
        extra_columns: [...types.keys()].filter((column) => !OUR_COLUMNS.includes(column)).sort(),
      },
      jobs,
      deactivated: jobs
        .filter((job) => job.inactive_reason !== null)
        .map((job) => ({
          earlier_id: job.earlier_id,
          name: job.name,
          reason: job.inactive_reason!,
        })),
    },
    rows,
  };
}

/** Step two, after the migrations created our tables: inserts the adopted rows. */
export async function completeAdoption(tx: TransactionSql, prepared: Prepared): Promise<void> {
  if (prepared.rows.length === 0) return;
  await tx`
    insert into cron_job (id, legacy_id, tenant_id, name, schedule, timezone, function_name,
      is_active, inactive_reason, metadata, timeout_seconds, last_run, next_run, created_at, updated_at)
    select id, legacy_id, tenant_id, name, schedule, timezone, function_name,
      is_active, inactive_reason, metadata, timeout_seconds, last_run, next_run, created_at, updated_at
    from jsonb_to_recordset(${jsonb(tx, prepared.rows)}) as r(
      id uuid, legacy_id text, tenant_id text, name text, schedule text, timezone text,
      function_name text, is_active boolean, inactive_reason text, metadata jsonb,
      timeout_seconds integer, last_run timestamptz, next_run timestamptz,
      created_at timestamptz, updated_at timestamptz)`;
}

function adoptRow(
  row: Record<string, unknown>,
  options: {
    idType: 'uuid' | 'integer';
    registry: ExecutorRegistry;
    now: Date;
    names: Set<string>;
  },
): { job: AdoptedJob; row: Record<string, unknown> } {
  const changes: string[] = [];
  const earlierId = String(row.id);
  const id = options.idType === 'uuid' && UUID.test(earlierId) ? earlierId : crypto.randomUUID();
  if (id !== earlierId) changes.push(`new uuid id; the earlier id ${earlierId} kept in legacy_id`);

  const tenantId = typeof row.tenant_id === 'string' && row.tenant_id !== '' ? row.tenant_id : null;
  const schedule = String(row.schedule ?? '');
  const functionName = String(row.function_name ?? '');
  const timezone = typeof row.timezone === 'string' && row.timezone ? row.timezone : 'UTC';
  const timeout =
    Number.isInteger(row.timeout_seconds) &&
    (row.timeout_seconds as number) >= 1 &&
    (row.timeout_seconds as number) <= 840
      ? (row.timeout_seconds as number)
      : 60;

  let name = String(row.name ?? '').slice(0, 200) || `job ${earlierId}`;
  if (name !== row.name)
    changes.push(`name ${JSON.stringify(row.name)} becomes ${JSON.stringify(name)}`);
  const key = (candidate: string) => `${tenantId ?? ''}\u0000${candidate}`;
  if (options.names.has(key(name))) {
    const renamed = `${name.slice(0, 180)} (earlier id ${earlierId})`;
    changes.push(`name taken by another job: renamed ${JSON.stringify(renamed)}`);
    name = renamed;
  }
  options.names.add(key(name));

  const metadata = objectOf(row.metadata);
  const counters = Object.fromEntries(
    ENGINE_METADATA_KEYS.filter((k) => k in metadata).map((k) => [k, metadata[k]]),
  );
  const wasActive = row.is_active === true;

  // Why we would refuse this job, first reason wins.
  let refusal: string | null = null;
  if (!isValidTimeZone(timezone)) refusal = `time zone ${JSON.stringify(timezone)} is unknown`;
  if (refusal === null) {
    try {
      parseSchedule(schedule);
    } catch (error) {
      refusal = `schedule refused: ${(error as Error).message}`;
    }
  }
  const executor = options.registry.get(functionName);
  let config: Record<string, unknown> = executorConfig(metadata);
  if (refusal === null && !executor) {
    refusal = `executor ${JSON.stringify(functionName)} is not registered: add it (docs/adding-an-executor.md) or point the job at another one`;
  }
  if (refusal === null && executor) {
    const parsed = z.safeParse(executor.configSchema, config);
    if (parsed.success) config = parsed.data as Record<string, unknown>;
    else {
      const problems = parsed.error.issues.map(
        (issue) => `${['metadata', ...issue.path.map(String)].join('.')}: ${issue.message}`,
      );
      refusal = `configuration refused: ${problems.join('; ')}`;
    }
  }
  const fromNextRun = timestamp(row.next_run);
  let nextRun: string | null = null;
  let inactiveReason: string | null = null;
  if (wasActive && refusal !== null) {
    inactiveReason = refusal;
    changes.push(`deactivated: ${refusal}`);
  } else if (wasActive) {
    // Overdue (or never scheduled) jobs are due at once, as the earlier system would have run them
    // on its next heartbeat; the others move to this system's next slot of their schedule.
    const slot = nextSlot(schedule, timezone, options.now);
    if (fromNextRun === null || Date.parse(fromNextRun) <= options.now.getTime()) {
      nextRun = options.now.toISOString();
    } else nextRun = slot?.toISOString() ?? null;
    if (nextRun === null) {
      inactiveReason = `schedule ${JSON.stringify(schedule)} has no future slot`;
      changes.push(`deactivated: ${inactiveReason}`);
    } else if (nextRun !== fromNextRun)
      changes.push(`next_run ${fromNextRun ?? 'null'} -> ${nextRun}`);
  } else if (fromNextRun !== null) changes.push(`next_run ${fromNextRun} -> null (inactive)`);

  const isActive = nextRun !== null;
  const adoptedMetadata = { ...initialEngineMetadata, ...config, ...counters };
  return {
    job: {
      earlier_id: earlierId,
      id,
      name,
      function_name: functionName,
      schedule,
      is_active: isActive,
      inactive_reason: inactiveReason,
      next_run: { from: fromNextRun, to: nextRun },
      changes,
      counters,
    },
    row: {
      id,
      legacy_id: id === earlierId ? null : earlierId,
      tenant_id: tenantId,
      name,
      schedule,
      timezone,
      function_name: functionName,
      is_active: isActive,
      inactive_reason: inactiveReason,
      metadata: adoptedMetadata,
      timeout_seconds: timeout,
      last_run: timestamp(row.last_run),
      next_run: nextRun,
      created_at: timestamp(row.created_at) ?? options.now.toISOString(),
      updated_at: timestamp(row.updated_at) ?? options.now.toISOString(),
    },
  };
}

async function renameIndexesAndConstraints(tx: TransactionSql): Promise<void> {
  const constraints = await tx<{ name: string }[]>`
    select conname as name from pg_constraint where conrelid = ${EARLIER_TABLE}::regclass`;
  for (const { name } of constraints) {
    await tx.unsafe(
      `alter table ${EARLIER_TABLE} rename constraint ${quote(name)} to ${quote(`${EARLIER_TABLE}_${name}`.slice(0, 63))}`,
    );
  }
  const indexes = await tx<{ name: string }[]>`
    select indexname as name from pg_indexes
    where schemaname = current_schema() and tablename = ${EARLIER_TABLE}`;
  for (const { name } of indexes) {
    if (name.startsWith(`${EARLIER_TABLE}_`)) continue;
    await tx.unsafe(
      `alter index ${quote(name)} rename to ${quote(`${EARLIER_TABLE}_${name}`.slice(0, 63))}`,
    );
  }
}

// Names come from the catalog, not from input; quoted all the same.
function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

function objectOf(value: unknown): Record<string, unknown> {
  if (typeof value === 'string') {
    try {
      return objectOf(JSON.parse(value));
    } catch {
      return {};
    }
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** An ISO timestamp from to_jsonb output; one without an offset was stored as UTC wall-clock time. */
function timestamp(value: unknown): string | null {
  if (typeof value !== 'string' || value === '') return null;
  const withZone = /(Z|[+-]\d\d(:?\d\d)?)$/.test(value) ? value : `${value}Z`;
  const time = Date.parse(withZone);
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}

function compareIds(a: unknown, b: unknown): number {
  return typeof a === 'number' && typeof b === 'number'
    ? a - b
    : String(a).localeCompare(String(b));
}

/** The report as lines for a terminal: one per change, nothing when there is nothing to adopt. */
export function describeAdoption(report: AdoptionReport): string[] {
  if (!report.adopt || !report.earlier_table) {
    return ['no earlier cron_job table to adopt'];
  }
  const table = report.earlier_table;
  const lines = [
    `cron_job of the earlier system: ${table.rows} job(s), ${table.id_type} ids; kept as ${table.renamed_to}, rows copied into the new cron_job`,
  ];
  if (table.missing_columns.length > 0) {
    lines.push(`columns added with defaults: ${table.missing_columns.join(', ')}`);
  }
  if (table.extra_columns.length > 0) {
    lines.push(`columns kept only in ${table.renamed_to}: ${table.extra_columns.join(', ')}`);
  }
  for (const job of report.jobs) {
    const counters = Object.entries(job.counters)
      .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
      .join(' ');
    lines.push(
      `job ${job.earlier_id} ${JSON.stringify(job.name)} (${job.function_name}, ${job.schedule}): ` +
        `${job.is_active ? 'active' : 'inactive'}${counters ? `; counters kept: ${counters}` : ''}`,
    );
    for (const change of job.changes) lines.push(`  - ${change}`);
  }
  return lines;
}
