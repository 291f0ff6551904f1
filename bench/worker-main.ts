import { startWorkerProcess } from '../lib/local/worker-process';
import { benchRegistry } from './executors';

/** A local worker process with the benchmark's executors (`noop`), for the workers section. */
startWorkerProcess(benchRegistry).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`bench worker failed: ${(error as Error).message}`);
    process.exit(1);
  },
);
