import { createBuiltInRegistry } from '../executors/built-ins';
import { startWorkerProcess } from './worker-process';

/** One worker process of `npm start` with WORKERS=N, with the built-in executors. */
startWorkerProcess(createBuiltInRegistry()).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`crm-cron worker failed: ${(error as Error).message}`);
    process.exit(1);
  },
);
