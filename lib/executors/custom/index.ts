import type { ExecutorDefinition } from '../types';

/**
 * Your own executors: one file each in this folder, listed here. `npm start` and every Lambda
 * function register them after the built-ins (lib/executors/app-registry.ts). The suite pins only
 * the built-in list, so adding one here keeps it green. docs/adding-an-executor.md walks through it.
 */
export const customExecutors: ExecutorDefinition[] = [
  // one entry per executor of this folder
];
