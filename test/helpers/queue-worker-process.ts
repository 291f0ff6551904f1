// A local worker process for tests: the real worker loop (lib/local/worker-process.ts) with one
// executor, `sleep`, that waits `ms` and reports which process ran it.
import * as z from 'zod';
import { createRegistry } from '../../lib/executors/registry';
import { defineExecutor } from '../../lib/executors/types';
import { startWorkerProcess } from '../../lib/local/worker-process';

const sleepHere = defineExecutor({
  name: 'sleep',
  description: 'waits `ms` milliseconds and returns the pid of the process that ran it',
  configSchema: z.object({ ms: z.number().default(20) }),
  run: ({ config }) =>
    new Promise((resolve) => setTimeout(() => resolve({ pid: process.pid }), config.ms)),
});

startWorkerProcess(createRegistry([sleepHere])).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`test worker failed: ${(error as Error).message}`);
    process.exit(1);
  },
);
