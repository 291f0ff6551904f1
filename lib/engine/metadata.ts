import type { Sql, SqlFragment } from '../db';

/** Keys of `cron_job.metadata` the engine owns: kept up to date after every run, never taken from clients. */
export const ENGINE_METADATA_KEYS = [
  'execution_count',
  'error_count',
  'last_execution_status',
  'last_error',
  'last_duration_ms',
  'consecutive_failures',
] as const;

export const initialEngineMetadata = {
  execution_count: 0,
  error_count: 0,
  last_execution_status: null,
  last_error: null,
  last_duration_ms: null,
  consecutive_failures: 0,
};

const ENGINE_KEYS: ReadonlySet<string> = new Set(ENGINE_METADATA_KEYS);

/** The executor's configuration: metadata without the engine's keys. */
export function executorConfig(metadata: Record<string, unknown>): Record<string, unknown> {
  // Copied key by key (every run does this): deleting keys from a copy is several times slower.
  const config: Record<string, unknown> = {};
  for (const key of Object.keys(metadata)) {
    if (ENGINE_KEYS.has(key)) continue;
    // A JSON key "__proto__" is an own property of the metadata; assigning it would set the prototype.
    if (key === '__proto__') {
      Object.defineProperty(config, key, {
        value: metadata[key],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else config[key] = metadata[key];
  }
  return config;
}

/**
 * SQL for a job's metadata after one finished attempt, in a statement that names the job row `j`
 * and the finished run `o` (with `status`, `error` and `duration_ms`). Every finished attempt
 * counts in `execution_count`, every failed one in `error_count`. `consecutive_failures` counts
 * failed slots in a row: `slotFailed` (SQL) says whether this attempt ended its slot as a failure
 * (no retry follows); a success resets it. Counters tolerate values hand-edited into something
 * that is not a number.
 */
export function metadataAfterRun(sql: Sql, slotFailed: SqlFragment) {
  return sql`j.metadata || jsonb_build_object(
    'execution_count', ${counter(sql, 'execution_count')} + 1,
    'error_count', ${counter(sql, 'error_count')} + (o.status <> 'success')::int,
    'last_execution_status', case when o.status = 'success' then 'success' else 'error' end,
    'last_error', case when o.status = 'success' then 'null'::jsonb else to_jsonb(o.error) end,
    'last_duration_ms', o.duration_ms,
    'consecutive_failures', ${consecutiveFailuresAfterRun(sql, slotFailed)}
  )`;
}

/** SQL for `consecutive_failures` after the attempt `o` (see metadataAfterRun). */
export function consecutiveFailuresAfterRun(sql: Sql, slotFailed: SqlFragment) {
  return sql`case when o.status = 'success' then 0
    when ${slotFailed} then ${counter(sql, 'consecutive_failures')} + 1
    else ${counter(sql, 'consecutive_failures')} end`;
}

/** SQL reading one of the engine's counters from `j.metadata`; 0 when absent or not a number. */
export function counter(sql: Sql, key: (typeof ENGINE_METADATA_KEYS)[number]) {
  return sql`(case when jsonb_typeof(j.metadata->${key}::text) = 'number'
    then (j.metadata->>${key}::text)::bigint else 0 end)`;
}

/** Only the engine's keys of a job's metadata. */
export function engineMetadata(metadata: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    ENGINE_METADATA_KEYS.filter((key) => key in metadata).map((key) => [key, metadata[key]]),
  );
}
