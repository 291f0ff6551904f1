import { builtInExecutors } from '../lib/executors/built-ins';
import { createRegistry, type ExecutorRegistry } from '../lib/executors/registry';
import { deactivateDormantUsers } from '../lib/executors/custom/deactivate-dormant-users';

/**
 * The example's own registry: the built-ins plus the tutorial's executor. The deployed functions
 * and `npm start` use createAppRegistry() and see it only once it is in customExecutors.
 */
export function createExampleRegistry(): ExecutorRegistry {
  return createRegistry([...builtInExecutors, deactivateDormantUsers]);
}
