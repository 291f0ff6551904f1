import { cleanOldActivities } from './clean-old-activities';
import { markUsersOffline } from './mark-users-offline';
import { createRegistry, type ExecutorRegistry } from './registry';
import { syncDenormalizedFields } from './sync-denormalized-fields';
import type { ExecutorDefinition } from './types';

export const builtInExecutors: ExecutorDefinition[] = [
  markUsersOffline,
  cleanOldActivities,
  syncDenormalizedFields,
];

export function createBuiltInRegistry(): ExecutorRegistry {
  return createRegistry(builtInExecutors);
}
