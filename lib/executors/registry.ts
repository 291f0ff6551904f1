import type { ExecutorDefinition } from './types';

export interface ExecutorRegistry {
  get(name: string): ExecutorDefinition | undefined;
  names(): string[];
  list(): ExecutorDefinition[];
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
    list: () => [...byName.values()],
  };
}
