import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { sweep } from '../../lib/engine/sweep';
import { createRegistry } from '../../lib/executors/registry';
import { defineExecutor } from '../../lib/executors/types';
import { RUN_LOG_LIMITS, RUN_LOG_PAGE_LINES, TRUNCATION_MESSAGE } from '../../lib/run-log/limits';
import { silentLog } from '../../lib/logger';
import { expectProblem, startTestServer } from '../helpers/server';
import { testExecutors } from '../helpers/jobs';

// Released by the test: lets the `gated` executor finish after the test has read its log mid-run.
let release: () => void = () => {};

const registry = createRegistry([
  ...testExecutors,
  defineExecutor({
    name: 'chatty',
    description: 'logs `lines` lines of `size` characters, then fails if asked to',
    configSchema: z.object({
      lines: z.number().int().default(3),
      size: z.number().int().default(10),
      fail: z.boolean().default(false),
    }),
    run: async ({ config, log }) => {
      for (let i = 1; i <= config.lines; i += 1) {
        log.info(`line ${i} ${'x'.repeat(config.size)}`, { i });
      }
      log.warn('odd text \0 and \ud800', { nul: 'a\0b', lone: '\udc00', big: 10n });
      if (config.fail) throw new Error('chatty failed on purpose');
      return { logged: config.lines };
    },
  }),
  defineExecutor({
    name: 'gated',
    description: 'logs one line, waits for the test, logs another',
    configSchema: z.object({}),
    run: async ({ log }) => {
      log.info('before the gate', { step: 1 });
      await new Promise<void>((resolve) => (release = resolve));
      log.error('after the gate', { step: 2 });
      return null;
    },
  }),
]);

const server = await startTestServer({ registry });

async function createJob(name: string, function_name: string, metadata = {}) {
  const response = await server.request('POST', '/api/cron/jobs', {
    body: { name, schedule: 'daily', function_name, metadata },
  });
  expect(response.status).toBe(201);
  return response.body.id as string;
}

async function runNow(jobId: string): Promise<string> {
  const response = await server.request('POST', `/api/cron/jobs/${jobId}/run`);
  expect([200, 202]).toContain(response.status);
  return (response.body.run_id ?? response.body.id) as string;
}

/** Reads the run's log page by page until it is complete. */
async function wholeLog(jobId: string, runId: string) {
  const lines = [];
  let after = 0;
  for (let page = 0; page < 10; page += 1) {
    const response = await server.request(
      'GET',
      `/api/cron/jobs/${jobId}/runs/${runId}/log?after=${after}`,
    );
    expect(response.status).toBe(200);
    lines.push(...response.body.lines);
    after = response.body.next_after;
    if (response.body.complete) return { lines, pages: page + 1, status: response.body.status };
  }
  throw new Error('log never became complete');
}

describe('run log', () => {
  it('keeps what the executor logged with the run, in order, storable, with its fields', async () => {
    const jobId = await createJob('logs a little', 'chatty', { fail: true });
    const runId = await runNow(jobId);
    await expect.poll(async () => (await wholeLog(jobId, runId)).status).toBe('error');
    const { lines } = await wholeLog(jobId, runId);
    expect(lines.map((line: { seq: number }) => line.seq)).toEqual([1, 2, 3, 4]);
    expect(lines[0]).toEqual({
      seq: 1,
      at: expect.any(String),
      level: 'info',
      message: 'line 1 xxxxxxxxxx',
      fields: { i: 1 },
    });
    expect(lines[3]).toMatchObject({
      level: 'warn',
      message: 'odd text \ufffd and \ufffd',
      fields: { nul: 'a\ufffdb', lone: '\ufffd', big: '10' },
    });
    // The job's id and name, which the process log adds, are not repeated on every line.
    expect(lines[0].fields).not.toHaveProperty('job_id');
  });

  it('serves lines while the run is in progress, and says complete only once it has finished', async () => {
    const jobId = await createJob('waits for the test', 'gated');
    const running = server.request('POST', `/api/cron/jobs/${jobId}/run`);
    let runId = '';
    await expect
      .poll(async () => {
        const runs = await server.request('GET', `/api/cron/jobs/${jobId}/runs`);
        runId = runs.body.runs[0]?.id ?? '';
        if (!runId) return [];
        const log = await server.request('GET', `/api/cron/jobs/${jobId}/runs/${runId}/log`);
        return log.body.lines.map((line: { message: string }) => line.message);
      })
      .toEqual(['before the gate']);
    const mid = await server.request('GET', `/api/cron/jobs/${jobId}/runs/${runId}/log?after=1`);
    expect(mid.body).toEqual({
      run_id: runId,
      status: 'running',
      lines: [],
      next_after: 1,
      complete: false,
    });
    release();
    expect([200, 202]).toContain((await running).status);
    await expect
      .poll(async () => {
        const log = await server.request(
          'GET',
          `/api/cron/jobs/${jobId}/runs/${runId}/log?after=1`,
        );
        return log.body;
      })
      .toMatchObject({
        status: 'success',
        complete: true,
        next_after: 2,
        lines: [{ seq: 2, level: 'error', message: 'after the gate', fields: { step: 2 } }],
      });
  });

  it(`keeps at most ${RUN_LOG_LIMITS.maxLines} lines a run, the last one a truncation marker, paged by ${RUN_LOG_PAGE_LINES}`, async () => {
    const jobId = await createJob('logs too many lines', 'chatty', { lines: 1500 });
    const runId = await runNow(jobId);
    await expect.poll(async () => (await wholeLog(jobId, runId)).status).toBe('success');
    const { lines, pages } = await wholeLog(jobId, runId);
    expect(pages).toBe(Math.ceil(RUN_LOG_LIMITS.maxLines / RUN_LOG_PAGE_LINES));
    expect(lines).toHaveLength(RUN_LOG_LIMITS.maxLines);
    expect(lines.at(-2).message).toMatch(/^line 999 /);
    expect(lines.at(-1)).toMatchObject({
      seq: RUN_LOG_LIMITS.maxLines,
      level: 'warn',
      message: TRUNCATION_MESSAGE,
      fields: { truncated: true },
    });
  });

  it(`keeps at most ${RUN_LOG_LIMITS.maxBytes / 1024} KiB a run`, async () => {
    const jobId = await createJob('logs too many bytes', 'chatty', { lines: 200, size: 4000 });
    const runId = await runNow(jobId);
    await expect.poll(async () => (await wholeLog(jobId, runId)).status).toBe('success');
    const { lines } = await wholeLog(jobId, runId);
    const kept = lines.slice(0, -1);
    const bytes = kept.reduce(
      (sum: number, line: { message: string; fields: unknown }) =>
        sum + Buffer.byteLength(line.message) + Buffer.byteLength(JSON.stringify(line.fields)),
      0,
    );
    expect(bytes).toBeLessThanOrEqual(RUN_LOG_LIMITS.maxBytes);
    expect(kept.length).toBeGreaterThan(50);
    expect(lines.at(-1).message).toBe(TRUNCATION_MESSAGE);
  });

  it('keeps the lines of runs the sweep starts', async () => {
    const jobId = await createJob('swept', 'chatty', { lines: 2 });
    await server.sql`update cron_job set next_run = now() - interval '1 minute' where id = ${jobId}`;
    await sweep({ sql: server.sql, registry, log: silentLog }, { concurrency: 2 });
    const [run] = await server.sql<{ id: string }[]>`
      select id from cron_job_run where job_id = ${jobId} and trigger = 'schedule'`;
    const { lines, status } = await wholeLog(jobId, run!.id);
    expect(status).toBe('success');
    expect(lines.map((line: { message: string }) => line.message)).toEqual([
      'line 1 xxxxxxxxxx',
      'line 2 xxxxxxxxxx',
      'odd text \ufffd and \ufffd',
    ]);
  });

  it('answers 404 for an unknown job, an unknown run, or a run of another job, and 400 for a bad after', async () => {
    const jobA = await createJob('a', 'noop');
    const jobB = await createJob('b', 'noop');
    const runA = await runNow(jobA);
    const unknown = '00000000-0000-4000-8000-000000000000';
    expectProblem(await server.request('GET', `/api/cron/jobs/${jobB}/runs/${runA}/log`), 404);
    expectProblem(await server.request('GET', `/api/cron/jobs/${jobA}/runs/${unknown}/log`), 404);
    expectProblem(await server.request('GET', `/api/cron/jobs/${unknown}/runs/${runA}/log`), 404);
    expectProblem(await server.request('GET', `/api/cron/jobs/${jobA}/runs/not-a-uuid/log`), 404);
    for (const query of ['after=-1', 'after=x', 'after=1.5', 'limit=3']) {
      const response = await server.request(
        'GET',
        `/api/cron/jobs/${jobA}/runs/${runA}/log?${query}`,
      );
      expectProblem(response, 400);
      expect(response.body.errors[0].path).toBe(query.split('=')[0]);
    }
  });
});
