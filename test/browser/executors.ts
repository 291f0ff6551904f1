import * as z from 'zod';
import { defineExecutor } from '../../lib/executors/types';

/** Executors the browser tests drive through the console. */
export const consoleTestExecutors = [
  defineExecutor({
    name: 'slowLogger',
    description: 'Logs `lines` lines, one every `every_ms` (about 2 s in all), then succeeds',
    configSchema: z.object({
      lines: z.number().int().min(1).max(100).default(10),
      every_ms: z.number().int().min(10).max(5_000).default(200),
    }),
    run: async ({ config, log, signal }) => {
      for (let step = 1; step <= config.lines; step += 1) {
        log.info(`step ${step} of ${config.lines}`, { step });
        await new Promise((resolve) => setTimeout(resolve, config.every_ms));
        signal.throwIfAborted();
      }
      return { steps: config.lines };
    },
  }),
  defineExecutor({
    name: 'alwaysThrows',
    description: 'Logs a warning, then throws',
    configSchema: z.object({ message: z.string().default('exploded on purpose') }),
    run: async ({ config, log }) => {
      log.warn('about to fail', { reason: config.message });
      throw new Error(config.message);
    },
  }),
];
