import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from './helpers/wait';

const root = path.resolve(import.meta.dirname, '..');
const workdir = await mkdtemp(path.join(tmpdir(), 'crm-cron-start-'));
await chmod(workdir, 0o755);
afterAll(() => rm(workdir, { recursive: true, force: true }));
// Worker processes start under tsx and the machine may be busy: a bound, not a timing claim.
const patiently = { limitMs: 120_000, everyMs: 100 };

/**
 * `npm start` as a user runs it, minus npm: the same entry point in a fresh folder with no
 * DATABASE_URL, so it boots its own embedded PostgreSQL and demo data there. `env` adds to the
 * environment (WORKERS, TICK_INTERVAL_SECONDS), `cwd` picks another fresh folder.
 */
function startLocalStack(options: { cwd?: string; env?: Record<string, string> } = {}) {
  const child = spawn(
    process.execPath,
    [
      '--import',
      path.join(root, 'node_modules/tsx/dist/loader.mjs'),
      path.join(root, 'lib/local/main.ts'),
    ],
    {
      cwd: options.cwd ?? workdir,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PORT: '0',
        TICK_INTERVAL_SECONDS: '0',
        ...options.env,
      },
    },
  );
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const up = new Promise<{ url: string; database: string }>((resolve, reject) => {
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        lines.push(line);
        const entry = JSON.parse(line) as { message: string; url: string; database: string };
        if (entry.message === 'crm-cron is up') resolve(entry);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => lines.push(chunk.toString()));
    void exited.then((code) => reject(new Error(`exited with ${code}: ${lines.join('\n')}`)));
  });
  return { child, up, exited, lines };
}

describe('npm start', () => {
  it('boots embedded PostgreSQL, serves the API, runs the seed scenario and stops cleanly on Ctrl-C', async () => {
    const stack = startLocalStack();
    const { url, database } = await stack.up;
    expect(database).toBe('embedded PostgreSQL in .data/postgres');

    expect(await (await fetch(`${url}/health`)).json()).toEqual({
      status: 'ok',
      missing_tables: {},
    });
    const jobs = (await (await fetch(`${url}/jobs`)).json()) as { jobs: { name: string }[] };
    expect(jobs.jobs.map((job) => job.name).sort()).toEqual([
      'Clean Old Activities',
      'Mark Users Offline',
      'Sync Denormalized Fields',
    ]);

    // The earlier system's integration scenario: the demo users last seen 10 minutes ago go
    // offline (a quarter of 60 users and 24 employees, plus those with no last_seen), recent ones stay.
    const summary = (await (await fetch(`${url}/run`, { method: 'POST' })).json()) as {
      executed: number;
      results: { name: string; status: string; result: unknown }[];
    };
    expect(summary.executed).toBe(1);
    expect(summary.results).toEqual([
      expect.objectContaining({
        name: 'Mark Users Offline',
        status: 'success',
        result: { users: 30, employees: 12 },
      }),
    ]);
    expect(stack.lines.some((line) => line.includes('"message":"sweep finished"'))).toBe(true);

    const pidFile = path.join(workdir, '.data/postgres/postmaster.pid');
    const postgresPid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
    stack.child.kill('SIGINT');
    expect(await stack.exited).toBe(0);
    expect(() => process.kill(postgresPid, 0)).toThrow();
    expect(stack.lines.at(-1)).toContain('"message":"stopped"');
  });

  it('with WORKERS=2 runs jobs in two worker processes: the due job of the first sweep and a run-now (202, then its run by GET); Ctrl-C stops the workers too', async () => {
    const cwd = await mkdtemp(path.join(tmpdir(), 'crm-cron-workers-'));
    await chmod(cwd, 0o755);
    try {
      // The first sweep runs as soon as the stack is up (the next only after 300 s): it finds the
      // demo's Mark Users Offline due and, with workers, dispatches it instead of running it.
      const stack = startLocalStack({
        cwd,
        env: { WORKERS: '2', TICK_INTERVAL_SECONDS: '300' },
      });
      const { url } = await stack.up;
      const entries = () =>
        stack.lines.flatMap((line) => {
          try {
            return [JSON.parse(line) as Record<string, unknown>];
          } catch {
            return [];
          }
        });
      const workerPids = () =>
        entries()
          .filter((entry) => entry.message === 'worker started')
          .map((entry) => entry.pid);
      await waitFor('two worker processes', async () => workerPids().length === 2, patiently);
      expect(new Set(workerPids()).size).toBe(2);
      expect(workerPids()).not.toContain(stack.child.pid);

      const jobs = (await (await fetch(`${url}/jobs`)).json()) as {
        jobs: { id: string; name: string }[];
      };
      const job = jobs.jobs.find((candidate) => candidate.name === 'Mark Users Offline')!;
      type Run = { id: string; trigger: string; status: string; result: unknown };
      const runs = async () =>
        ((await (await fetch(`${url}/jobs/${job.id}/runs`)).json()) as { runs: Run[] }).runs;
      await waitFor(
        'the scheduled run to finish',
        async () =>
          (await runs()).some((run) => run.trigger === 'schedule' && run.status !== 'running'),
        patiently,
      );
      expect(await runs()).toEqual([
        expect.objectContaining({
          trigger: 'schedule',
          status: 'success',
          result: { users: 30, employees: 12 },
        }),
      ]);
      // The server's sweep handed it over and ran nothing itself.
      expect(entries()).toContainEqual(
        expect.objectContaining({ message: 'sweep finished', dispatched: 1, executed: 0 }),
      );

      const queued = await fetch(`${url}/jobs/${job.id}/run`, { method: 'POST' });
      expect(queued.status).toBe(202);
      const location = queued.headers.get('location')!;
      expect(location).toMatch(new RegExp(`^/api/cron/jobs/${job.id}/runs/[0-9a-f-]{36}$`));
      let run = (await (await fetch(new URL(location, url))).json()) as Run;
      await waitFor(
        'the manual run to finish',
        async () => {
          run = (await (await fetch(new URL(location, url))).json()) as Run;
          return run.status !== 'running';
        },
        patiently,
      );
      // Everyone went offline at the first run: nobody is left to mark.
      expect(run).toMatchObject({
        trigger: 'manual',
        status: 'success',
        result: { users: 0, employees: 0 },
      });

      // Both runs' executor lines came from worker processes (service crm-cron-worker), none
      // from the server.
      const marked = entries().filter((entry) => entry.message === 'marked users offline');
      expect(marked.map((entry) => entry.service)).toEqual(['crm-cron-worker', 'crm-cron-worker']);

      stack.child.kill('SIGINT');
      expect(await stack.exited).toBe(0);
      expect(entries().filter((entry) => entry.message === 'worker stopped')).toHaveLength(2);
      for (const pid of workerPids()) expect(() => process.kill(pid as number, 0)).toThrow();
      expect(stack.lines.at(-1)).toContain('"message":"stopped"');
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  }, 300_000);
});
