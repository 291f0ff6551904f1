import type { AddressPolicy } from '../egress/address-policy';
import { createEgressClient } from '../egress/http-client';
import { cleanOldActivities } from './clean-old-activities';
import { createHttpRequestExecutor } from './http-request';
import { markUsersOffline } from './mark-users-offline';
import { createRegistry, type ExecutorRegistry } from './registry';
import { syncDenormalizedFields } from './sync-denormalized-fields';
import type { ExecutorDefinition } from './types';

/** httpRequest as deployed: public addresses only. */
const httpRequest = createHttpRequestExecutor();

/** The executors this product ships, in the order `GET /api/cron/executors` lists them. */
export const builtInExecutors: ExecutorDefinition[] = [
  markUsersOffline,
  cleanOldActivities,
  syncDenormalizedFields,
  httpRequest,
];

export interface BuiltInOptions {
  /** Where httpRequest may connect. Tests only: the default reaches public addresses only. */
  egressPolicy?: AddressPolicy;
}

export function createBuiltInRegistry(options: BuiltInOptions = {}): ExecutorRegistry {
  const { egressPolicy } = options;
  if (!egressPolicy) return createRegistry(builtInExecutors);
  const guarded = createHttpRequestExecutor(createEgressClient({ policy: egressPolicy }));
  return createRegistry(builtInExecutors.map((e) => (e === httpRequest ? guarded : e)));
}
