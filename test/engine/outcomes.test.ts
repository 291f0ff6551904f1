import { beforeEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { sweep } from '../../lib/engine/sweep';
import { createRegistry } from '../../lib/executors/registry';
import { defineExecutor } from '../../lib/executors/types';
import { silentLog, type Log } from '../../lib/logger';
import { createTestDatabase } from '../helpers/database';
import { insertJob, testExecutors } from '../helpers/jobs';
import { capturingLog } from '../helpers/log';

// What a run's outcome holds for whatever an executor does: results JSON can and cannot hold,
// errors of every shape, bad config, an executor that gives up when aborted, and the fields its
// log lines carry. Checked through sweep() and cron_job_run.

const { sql } = await createTestDatabase();

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

const registry = createRegistry([
  ...testExecutors,
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

beforeEach(async () => {
  await sql`truncate cron_job cascade`;
});

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

  it('counts an executor that rejects as soon as it is aborted as timed out', async () => {
    const outcome = await outcomeOf({
      function_name: 'sleep',
      metadata: { ms: 60_000 },
      timeout_seconds: 1,
    });
    expect(outcome).toMatchObject({ status: 'timeout', error: 'timed out after 1 s' });
  });

  it('gives an executor log lines that carry the job id and name', async () => {
    const { log, lines } = capturingLog();
    const { id } = await outcomeOf({ name: 'chatty', function_name: 'logs' }, log);
    const fields = { job_id: id, job_name: 'chatty 1' };
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
