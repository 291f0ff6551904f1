import { builtInExecutors } from '../../lib/executors/built-ins';
import { createRegistry } from '../../lib/executors/registry';
import { runLocalStack } from '../../lib/local/stack';
import { consoleTestExecutors } from './executors';

/** `npm start`'s stack, with the built-ins plus the executors the browser tests drive. */
runLocalStack({
  registry: createRegistry([...builtInExecutors, ...consoleTestExecutors]),
  dataDir: '.data/postgres',
  upMessage: 'crm-cron is up',
}).catch((error: unknown) => {
  console.error(`crm-cron failed to start: ${(error as Error).message}`);
  process.exit(1);
});
