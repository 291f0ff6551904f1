import type { Sql } from '../db';

/** Keys of `cron_job.metadata` the engine owns: kept up to date after every run, never taken from clients. */
export const ENGINE_METADATA_KEYS = [
  'execution_count',
  'error_count',
  'last_execution_status',
  'last_error',
  'last_duration_ms',
] as const;

export const initialEngineMetadata = {
  execution_count: 0,
  error_count: 0,
  last_execution_status: null,
  last_error: null,
  last_duration_ms: null,
};

/** The executor's configuration: metadata without the engine's keys. */
export function executorConfig(metadata: Record<string, unknown>): Record<string, unknown> {
  const config = { ...metadata };
  for (const key of ENGINE_METADATA_KEYS) delete config[key];
  return config;
}

/**
 * SQL for a job's metadata after one finished run, in a statement that names the job row `j` and
 * the finished run `o` (with `status`, `error` and `duration_ms`). Counters tolerate values
 * hand-edited into something that is not a number.
 */
export function metadataAfterRun(sql: Sql) {
  return sql`j.metadata || jsonb_build_object(
    'execution_count', case when jsonb_typeof(j.metadata->'execution_count') = 'number'
      then (j.metadata->>'execution_count')::bigint else 0 end + 1,
    'error_count', case when jsonb_typeof(j.metadata->'error_count') = 'number'
      then (j.metadata->>'error_count')::bigint else 0 end + (o.status <> 'success')::int,
    'last_execution_status', case when o.status = 'success' then 'success' else 'error' end,
    'last_error', case when o.status = 'success' then 'null'::jsonb else to_jsonb(o.error) end,
    'last_duration_ms', o.duration_ms
  )`;
}

/** Only the engine's keys of a job's metadata. */
export function engineMetadata(metadata: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    ENGINE_METADATA_KEYS.filter((key) => key in metadata).map((key) => [key, metadata[key]]),
  );
}
