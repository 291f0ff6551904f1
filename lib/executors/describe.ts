import * as z from 'zod/mini';
import type { ExecutorRegistry } from './registry';

/**
 * The `/executors` listing: each config schema published as JSON Schema. Kept apart from the
 * registry so only the functions that publish schemas bundle zod's JSON Schema generator.
 */
export function describeExecutors(
  registry: ExecutorRegistry,
): Array<{ name: string; description: string; config_schema: unknown }> {
  return registry.list().map((definition) => ({
    name: definition.name,
    description: definition.description,
    config_schema: z.toJSONSchema(definition.configSchema, { io: 'input' }),
  }));
}
