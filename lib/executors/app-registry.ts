import { builtInExecutors } from './built-ins';
import { customExecutors } from './custom/index';
import { createRegistry, type ExecutorRegistry } from './registry';

/** What the deployed functions and `npm start` run: the built-ins, then your own executors. */
export function createAppRegistry(): ExecutorRegistry {
  return createRegistry([...builtInExecutors, ...customExecutors]);
}
