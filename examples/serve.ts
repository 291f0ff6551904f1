/**
 * The local stack with the example registry: what `npm start` does, with the tutorial's
 * executor registered too (docs/adding-an-executor.md, "Watch it run locally").
 *
 *   npx tsx examples/serve.ts
 *
 * Same environment variables as `npm start`. Without DATABASE_URL it boots an embedded
 * PostgreSQL of its own in .data/example-postgres (not npm start's .data/postgres, whose jobs
 * must not name an executor that npm start does not know) and loads the demo data set into it.
 */
import { runLocalStack } from '../lib/local/stack';
import { createExampleRegistry } from './registry';

runLocalStack({
  registry: createExampleRegistry(),
  dataDir: '.data/example-postgres',
  upMessage: 'crm-cron example is up',
}).catch((error: unknown) => {
  console.error(`crm-cron example failed to start: ${(error as Error).message}`);
  process.exit(1);
});
