import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { sweep } from '../../lib/engine/sweep';
import { createRegistry } from '../../lib/executors/registry';
import { defineExecutor } from '../../lib/executors/types';
import { silentLog, type Log } from '../../lib/logger';
import { createEngineTestDatabase } from '../helpers/engine';
import { storeJobSecret } from '../../lib/job-secrets';
import { insertJob, testExecutors } from '../helpers/jobs';
import { capturingLog } from '../helpers/log';

// What a run's outcome holds for whatever an executor does: results JSON can and cannot hold,
// errors of every shape, bad config, an executor that gives up when aborted, and the fields its
// log lines carry. Checked through sweep() and cron_job_run.

const circular: Record<string, unknown> = {};
circular.self = circular;

const returning = (name: string, value: () => unknown) =>
  defineExecutor({
    name,
    description: `returns ${name}`,
    configSchema: z.object({}),
    run: async () => value(),
  });
const rejecting = (name: string, reason: () => unknown) =>
  defineExecutor({
    name,
    description: `rejects with ${name}`,
    configSchema: z.object({}),
    run: () => Promise.reject(reason()),
  });

/** Why each `abortWatcher` run's signal was aborted, by job name. */
const abortReasons = new Map<string, string>();

const registry = createRegistry([
  ...testExecutors,
  defineExecutor({
    name: 'context',
    description: 'returns what it was given',
    configSchema: z.object({}).loose(),
    run: async ({ config, tenantId, attempt, signal, secret, sql: given }) => ({
      config,
      tenantId,
      attempt,
      aborted: signal.aborted,
      secret: await secret(),
      database: (await given<{ db: string }[]>`select current_database() as db`)[0]!.db,
    }),
  }),
  defineExecutor({
    name: 'finishesWatched',
    description: 'notes why its signal was aborted, and returns at once',
    configSchema: z.object({ name: z.string() }),
    run: async ({ config, signal }) => {
      signal.addEventListener('abort', () =>
        abortReasons.set(config.name, (signal.reason as Error).message),
      );
      return null;
    },
  }),
  defineExecutor({
    name: 'dividesByZero',
    description: 'runs a statement the database refuses with a SQLSTATE the engine does not name',
    configSchema: z.object({}),
    run: async ({ sql: given }) => given`select 1 / 0`,
  }),
  defineExecutor({
    name: 'nested',
    description: 'takes { limits: { count: integer } }',
    configSchema: z.object({ limits: z.object({ count: z.number().int() }) }),
    run: async () => null,
  }),
  defineExecutor({
    name: 'abortWatcher',
    description: 'notes why its signal was aborted, and never settles',
    configSchema: z.object({ name: z.string() }),
    run: ({ config, signal }) => {
      signal.addEventListener('abort', () =>
        abortReasons.set(config.name, (signal.reason as Error).message),
      );
      return new Promise(() => {});
    },
  }),
  returning('returnsUndefined', () => undefined),
  returning('returnsBigInt', () => ({ big: 1n })),
  returning('returnsCircular', () => circular),
  returning('returnsDate', () => new Date('2026-11-28T10:00:00Z')),
  rejecting('emptyError', () => new Error('')),
  rejecting('emptyTypeError', () => new TypeError('')),
  rejecting('longError', () => new Error('x'.repeat(5_000))),
  rejecting('plainObject', () => ({ code: 7 })),
  rejecting('circularObject', () => circular),
  defineExecutor({
    name: 'strict',
    description: 'takes exactly { count: integer }',
    configSchema: z.strictObject({ count: z.number().int() }),
    run: async () => null,
  }),
  defineExecutor({
    name: 'logs',
    description: 'logs one line at each level',
    configSchema: z.object({}),
    run: async ({ log }) => {
      log.debug('d', { n: 1 });
      log.info('i', { n: 2 });
      log.warn('w', { n: 3 });
      log.error('e', { n: 4 });
      return null;
    },
  }),
]);

const { sql } = await createEngineTestDatabase(registry);

async function outcomeOf(fixture: Parameters<typeof insertJob>[1], log?: Log) {
  const id = await insertJob(sql, fixture);
  await sweep({ sql, registry, log: log ?? silentLog }, {});
  const [run] = await sql<{ status: string; result: unknown; error: string | null }[]>`
    select status, result, error from cron_job_run where job_id = ${id}`;
  return { id, ...run! };
}

describe('a run’s outcome', () => {
  it.each([
    ['returnsUndefined', null],
    ['returnsDate', '2026-11-28T10:00:00.000Z'],
  ])('stores what %s returns as JSON', async (function_name, expected) => {
    expect(await outcomeOf({ function_name })).toMatchObject({
      status: 'success',
      result: expected,
    });
  });

  it.each([
    ['returnsBigInt', /BigInt/],
    ['returnsCircular', /circular/i],
  ])('describes a result JSON cannot hold (%s) instead of failing', async (function_name, why) => {
    const outcome = await outcomeOf({ function_name });
    expect(outcome).toMatchObject({ status: 'success', error: null });
    expect(outcome.result).toEqual({ unserializable_result: expect.stringMatching(why) });
  });

  it.each([
    ['emptyError', 'Error'],
    ['emptyTypeError', 'TypeError'],
    ['throwString', 'non-Error thrown: plain string'],
    ['plainObject', 'non-Error thrown: {"code":7}'],
    ['circularObject', 'non-Error thrown: [object Object]'],
  ])('records %s as the error %j', async (function_name, error) => {
    expect(await outcomeOf({ function_name })).toMatchObject({ status: 'error', error });
  });

  it('keeps the first 2000 characters of a long error', async () => {
    const outcome = await outcomeOf({ function_name: 'longError' });
    expect(outcome.error).toBe('x'.repeat(2000));
  });

  it('names every invalid config field, or (root) for the whole object, without running', async () => {
    const outcome = await outcomeOf({
      function_name: 'strict',
      metadata: { count: 1.5, extra: true },
    });
    expect(outcome.status).toBe('error');
    expect(outcome.error).toMatch(/^invalid config: /);
    const problems = outcome.error!.slice('invalid config: '.length).split('; ');
    expect(problems).toHaveLength(2);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^count: /),
        expect.stringMatching(/^\(root\): .*extra/),
      ]),
    );
  });

  it('names a nested invalid config field by its path', async () => {
    const outcome = await outcomeOf({
      function_name: 'nested',
      metadata: { limits: { count: 'x' } },
    });
    expect(outcome.status).toBe('error');
    expect(outcome.error).toMatch(/^invalid config: limits\.count: /);
  });

  it('records a database error by its SQLSTATE alone when the engine has no name for it', async () => {
    expect(await outcomeOf({ function_name: 'dividesByZero' })).toMatchObject({
      status: 'error',
      error: "database error 22012; details are in the run's log line for operators",
    });
  });

  it('fails a job whose executor is not registered, naming it', async () => {
    expect(await outcomeOf({ function_name: 'retired' })).toMatchObject({
      status: 'error',
      result: null,
      error: 'unknown executor "retired"',
    });
  });

  it('counts an executor that rejects as soon as it is aborted as timed out', async () => {
    const outcome = await outcomeOf({
      function_name: 'sleep',
      metadata: { ms: 60_000 },
      timeout_seconds: 1,
    });
    expect(outcome).toMatchObject({ status: 'timeout', error: 'timed out after 1 s' });
  });

  it('gives the executor its config without the engine keys, its tenant, attempt, secret, database and a live signal', async () => {
    const id = await insertJob(sql, {
      function_name: 'context',
      tenant_id: 'acme',
      metadata: { region: 'eu', execution_count: 3, error_count: 1 },
    });
    await storeJobSecret(sql, id, 'hunter2-hunter2');
    await sweep({ sql, registry, log: silentLog }, {});
    const [run] = await sql<{ status: string; result: unknown }[]>`
      select status, result from cron_job_run where job_id = ${id}`;
    const [{ db } = { db: '' }] = await sql<{ db: string }[]>`select current_database() as db`;
    expect(run).toEqual({
      status: 'success',
      result: {
        config: { region: 'eu' },
        tenantId: 'acme',
        attempt: 1,
        aborted: false,
        secret: 'hunter2-hunter2',
        database: db,
      },
    });
  });

  it('measures a run from its start to its end, within the sweep that ran it', async () => {
    const before = new Date();
    const t0 = performance.now();
    const id = await insertJob(sql, {
      function_name: 'sleep',
      metadata: { ms: 50 },
      timeout_seconds: 5,
    });
    await sweep({ sql, registry, log: silentLog }, {});
    const elapsed = performance.now() - t0;
    const after = new Date();
    const [run] = await sql<{ status: string; duration_ms: number; finished_at: Date }[]>`
      select status, duration_ms, finished_at from cron_job_run where job_id = ${id}`;
    expect(run!.status).toBe('success');
    // Node may fire a timer up to a millisecond early.
    expect(run!.duration_ms).toBeGreaterThanOrEqual(49);
    expect(run!.duration_ms).toBeLessThanOrEqual(Math.ceil(elapsed));
    expect(run!.finished_at.getTime()).toBeGreaterThanOrEqual(before.getTime());
    expect(run!.finished_at.getTime()).toBeLessThanOrEqual(after.getTime());
  });

  it('aborts the signal of a run that times out, saying so', async () => {
    const outcome = await outcomeOf({
      function_name: 'abortWatcher',
      metadata: { name: 'watched' },
      timeout_seconds: 1,
    });
    expect(outcome).toMatchObject({ status: 'timeout', error: 'timed out after 1 s' });
    expect(abortReasons.get('watched')).toBe('timed out after 1 s');
  });

  it('never aborts the signal of a run that finished in time', async () => {
    // `early` finishes at once with a 1 s timeout. A later run that hangs for its 1 s timeout
    // outlasts early's timer, had it not been cleared: Node fires same-length timers in order.
    await outcomeOf({
      function_name: 'finishesWatched',
      metadata: { name: 'early' },
      timeout_seconds: 1,
    });
    expect(await outcomeOf({ function_name: 'hang', timeout_seconds: 1 })).toMatchObject({
      status: 'timeout',
    });
    expect(abortReasons.has('early')).toBe(false);
  });

  it('gives an executor log lines that carry the job id, name and attempt', async () => {
    const { log, lines } = capturingLog();
    const { id } = await outcomeOf({ name: 'chatty', function_name: 'logs' }, log);
    const fields = { job_id: id, job_name: 'chatty 1', attempt: 1 };
    for (const [level, message, n] of [
      ['debug', 'd', 1],
      ['info', 'i', 2],
      ['warn', 'w', 3],
      ['error', 'e', 4],
    ] as const) {
      expect(lines).toContainEqual({
        level,
        message,
        extra: expect.objectContaining({ ...fields, n }),
      });
    }
  });
});
