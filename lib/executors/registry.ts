import { z } from 'zod';
import type { ExecutorDefinition } from './types';

export interface ExecutorRegistry {
  get(name: string): ExecutorDefinition | undefined;
  names(): string[];
  /** The `/executors` listing: each config schema published as JSON Schema. */
  describe(): Array<{ name: string; description: string; config_schema: unknown }>;
}

export function createRegistry(definitions: ExecutorDefinition[]): ExecutorRegistry {
  const byName = new Map<string, ExecutorDefinition>();
  for (const definition of definitions) {
    if (byName.has(definition.name))
      throw new Error(`executor ${definition.name} registered twice`);
    byName.set(definition.name, definition);
  }
  return {
    get: (name) => byName.get(name),
    names: () => [...byName.keys()].sort(),
    describe: () =>
      [...byName.values()].map((definition) => ({
        name: definition.name,
        description: definition.description,
        config_schema: z.toJSONSchema(definition.configSchema, { io: 'input' }),
      })),
  };
}
