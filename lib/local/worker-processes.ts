import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Log } from '../logger';

const WORKER_ENTRY = fileURLToPath(new URL('./worker-main.ts', import.meta.url));

/**
 * Starts `count` worker processes (separate OS processes, lib/local/worker-main.ts under the tsx
 * loader this process runs with, or `entry`: another registry's worker, e.g. the benchmark's) on
 * the same database, with `env` added to this process's environment. A worker that exits unexpectedly is
 * logged, not restarted: its picked-up runs are declared lost after their lease, its queue
 * messages are taken by the others. stop() sends SIGTERM and waits for each to finish its runs.
 */
export function startWorkerProcesses(
  count: number,
  databaseUrl: string,
  log: Log,
  options: { entry?: string; env?: Record<string, string> } = {},
): { pids: number[]; stop(): Promise<void> } {
  const children: ChildProcess[] = [];
  let stopping = false;
  for (let i = 0; i < count; i += 1) {
    const child = spawn(process.execPath, [...process.execArgv, options.entry ?? WORKER_ENTRY], {
      env: { ...process.env, ...options.env, DATABASE_URL: databaseUrl },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('exit', (code, signal) => {
      if (!stopping) log.error('worker process exited', { pid: child.pid, code, signal });
    });
    children.push(child);
  }
  return {
    pids: children.map((child) => child.pid ?? 0),
    stop: async () => {
      stopping = true;
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once('exit', () => resolve());
              child.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}
