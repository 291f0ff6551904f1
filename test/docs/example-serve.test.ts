import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database';
import { repoRoot } from './markdown';

// `npx tsx examples/serve.ts`, the tutorial's "watch it run locally" step, starts, serves the
// example's registry and stops cleanly on Ctrl-C.
const { url } = await createTestDatabase();

it('examples/serve.ts serves the example registry and stops on SIGINT', async () => {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: url,
    HOST: '127.0.0.1',
    PORT: '0',
    TICK_INTERVAL_SECONDS: '0',
    LOG_LEVEL: 'info',
  };
  delete env.CRON_API_TOKEN;
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/serve.ts'], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  afterAll(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

  const base = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const entry = JSON.parse(line) as { message?: string; url?: string };
      if (entry.message === 'crm-cron example is up') resolve(entry.url!);
    });
    void exited.then((code) => reject(new Error(`exited with ${code}: ${stderr}`)));
  });

  expect((await fetch(`${base}/health`)).status).toBe(200);
  const executors = (await (await fetch(`${base}/executors`)).json()) as {
    executors: Array<{ name: string }>;
  };
  expect(executors.executors.map((executor) => executor.name)).toContain('deactivateDormantUsers');

  child.kill('SIGINT');
  expect(await exited).toBe(0);
}, 60_000);
