import * as z from 'zod';
import { builtInExecutors } from '../lib/executors/built-ins';
import { createRegistry } from '../lib/executors/registry';
import { defineExecutor } from '../lib/executors/types';

/** Does nothing: what is left of a sweep is the engine's own cost. */
export const noopExecutor = defineExecutor({
  name: 'noop',
  description: 'does nothing (benchmark)',
  configSchema: z.object({}).loose(),
  run: async () => null,
});

/** The built-in executors plus `noop`. */
export const benchRegistry = createRegistry([...builtInExecutors, noopExecutor]);
