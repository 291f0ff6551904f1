import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Log } from '../logger';

const WORKER_ENTRY = fileURLToPath(new URL('./worker-main.ts', import.meta.url));

/**
 * Starts `count` worker processes (separate OS processes, lib/local/worker-main.ts under the tsx
 * loader this process runs with) on the same database. A worker that exits unexpectedly is
 * logged, not restarted: its picked-up runs are declared lost after their lease, its queue
 * messages are taken by the others. stop() sends SIGTERM and waits for each to finish its runs.
 */
export function startWorkerProcesses(
  count: number,
  databaseUrl: string,
  log: Log,
): { pids: number[]; stop(): Promise<void> } {
  const children: ChildProcess[] = [];
  let stopping = false;
  for (let i = 0; i < count; i += 1) {
    const child = spawn(process.execPath, [...process.execArgv, WORKER_ENTRY], {
      env: { ...process.env, DATABASE_URL: databaseUrl },
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
