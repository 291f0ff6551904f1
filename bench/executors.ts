import * as z from 'zod';
import { builtInExecutors } from '../lib/executors/built-ins';
import { createRegistry } from '../lib/executors/registry';
import { defineExecutor } from '../lib/executors/types';

/** When the first `noop` run of a measurement started (performance.now()); reset between runs. */
export const noopStarts: { first: number | undefined } = { first: undefined };

/** Does nothing but note when the first run started: what is left of a sweep is the engine's own cost. */
export const noopExecutor = defineExecutor({
  name: 'noop',
  description: 'does nothing (benchmark)',
  configSchema: z.object({}).loose(),
  run: async () => {
    noopStarts.first ??= performance.now();
    return null;
  },
});

/** The built-in executors plus `noop`. */
export const benchRegistry = createRegistry([...builtInExecutors, noopExecutor]);
