import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const workdir = await mkdtemp(path.join(tmpdir(), 'crm-cron-start-'));
await chmod(workdir, 0o755);
afterAll(() => rm(workdir, { recursive: true, force: true }));

/**
 * `npm start` as a user runs it, minus npm: the same entry point in a fresh folder with no
 * DATABASE_URL, so it boots its own embedded PostgreSQL and demo data there.
 */
function startLocalStack() {
  const child = spawn(
    process.execPath,
    [
      '--import',
      path.join(root, 'node_modules/tsx/dist/loader.mjs'),
      path.join(root, 'lib/local/main.ts'),
    ],
    {
      cwd: workdir,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PORT: '0',
        TICK_INTERVAL_SECONDS: '0',
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
});
