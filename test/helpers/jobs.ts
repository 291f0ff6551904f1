import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import type { Sql } from '../../lib/db';
import { initialEngineMetadata } from '../../lib/engine/metadata';
import { defaultRetryPolicy, type RetryPolicy } from '../../lib/engine/retry-policy';
import { createRegistry } from '../../lib/executors/registry';
import { defineExecutor } from '../../lib/executors/types';

const noConfig = z.object({}).loose();

/** Executors with predictable behaviour, for engine tests. */
export const testExecutors = [
  defineExecutor({
    name: 'noop',
    description: 'does nothing',
    configSchema: noConfig,
    run: async () => ({ ok: true }),
  }),
  defineExecutor({
    name: 'fail',
    description: 'rejects with an Error',
    configSchema: noConfig,
    run: async () => {
      throw new Error('boom');
    },
  }),
  defineExecutor({
    name: 'throwString',
    description: 'rejects with a non-Error',
    configSchema: noConfig,
    run: () => Promise.reject('plain string'),
  }),
  defineExecutor({
    name: 'flaky',
    description:
      'fails until attempt `succeed_on_attempt` (0: always fails), then returns its attempt',
    configSchema: z.object({ succeed_on_attempt: z.number().int().default(0) }),
    run: async ({ config, attempt }) => {
      if (config.succeed_on_attempt === 0 || attempt < config.succeed_on_attempt) {
        throw new Error(`attempt ${attempt} failed`);
      }
      return { attempt };
    },
  }),
  defineExecutor({
    name: 'hang',
    description: 'never settles',
    configSchema: noConfig,
    run: () => new Promise(() => {}),
  }),
  defineExecutor({
    name: 'sleep',
    description: 'waits `ms` milliseconds, or until aborted',
    configSchema: z.object({ ms: z.number().default(100) }),
    run: ({ config, signal }) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve({ slept: config.ms }), config.ms);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(signal.reason);
        });
      }),
  }),
];

export const testRegistry = createRegistry(testExecutors);

const gates = new Map<string, { opened: Promise<void>; open: () => void }>();

function gate(key: string) {
  let entry = gates.get(key);
  if (!entry) {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    entry = { opened, open };
    gates.set(key, entry);
  }
  return entry;
}

/**
 * Lets the runs of `gated` jobs with `metadata: { gate: key }` finish. Until then they stay in
 * progress (or time out), so a test can hold a run open without sleeping. Gates live in the test
 * file's process: the local test server runs in it too.
 */
export function openGate(key: string): void {
  gate(key).open();
}

/** Runs until the test calls openGate(config.gate), or until aborted. Not in testExecutors. */
export const gatedExecutor = defineExecutor({
  name: 'gated',
  description: 'runs until the test opens its gate',
  configSchema: z.object({ gate: z.string() }),
  run: ({ config, signal }) =>
    new Promise((resolve, reject) => {
      void gate(config.gate).opened.then(() => resolve({ gate: config.gate }));
      signal.addEventListener('abort', () => reject(signal.reason));
    }),
});

/** The test executors and `gated`. */
export const gatedRegistry = createRegistry([...testExecutors, gatedExecutor]);

export interface JobFixture {
  name?: string;
  schedule?: string;
  timezone?: string;
  function_name?: string;
  is_active?: boolean;
  metadata?: Record<string, unknown>;
  timeout_seconds?: number;
  tenant_id?: string | null;
  next_run?: Date | null;
  retry?: Partial<RetryPolicy>;
  pause_after_failures?: number | null;
}

/** Inserts `count` jobs in one statement; names get a numeric suffix. Returns their ids in order. */
export async function insertJobs(
  sql: Sql,
  count: number,
  fixture: JobFixture = {},
): Promise<string[]> {
  const active = fixture.is_active ?? true;
  const rows = await sql<{ id: string }[]>`
    insert into cron_job (name, schedule, timezone, function_name, is_active, metadata,
      timeout_seconds, tenant_id, next_run, retry, pause_after_failures)
    select ${fixture.name ?? `job-${randomUUID().slice(0, 8)}`} || ' ' || n, ${fixture.schedule ?? 'every_5_minutes'},
      ${fixture.timezone ?? 'UTC'}, ${fixture.function_name ?? 'noop'}, ${active},
      ${sql.json({ ...initialEngineMetadata, ...fixture.metadata } as never)},
      ${fixture.timeout_seconds ?? 60}, ${fixture.tenant_id ?? null},
      ${active ? (fixture.next_run ?? new Date(Date.now() - 60_000)) : null},
      ${sql.json({ ...defaultRetryPolicy, ...fixture.retry } as never)},
      ${fixture.pause_after_failures ?? null}
    from generate_series(1, ${count}) as n
    order by n
    returning id`;
  return rows.map((row) => row.id);
}

export async function insertJob(sql: Sql, fixture: JobFixture = {}): Promise<string> {
  const [id] = await insertJobs(sql, 1, fixture);
  return id!;
}
