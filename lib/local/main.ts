import { createAppRegistry } from '../executors/app-registry';
import { runLocalStack } from './stack';

/** `npm start`: the local stack with the built-in executors. */
runLocalStack({
  registry: createAppRegistry(),
  dataDir: '.data/postgres',
  upMessage: 'crm-cron is up',
}).catch((error: unknown) => {
  console.error(`crm-cron failed to start: ${(error as Error).message}`);
  process.exit(1);
});
