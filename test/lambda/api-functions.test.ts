import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { routeTable } from '../../lib/http/route-table';
import { routeHandlers } from '../../lib/http/routes';

const root = path.resolve(import.meta.dirname, '../..');

/**
 * Each API function imports its own route's handler (so its bundle holds that route's code only)
 * instead of looking it up in `routeHandlers`: read from the entry's source (importing the entry
 * would build the Lambda app from the environment), the handler it passes must be the very one
 * the local server serves for that route.
 */
describe('functions/<name>.ts of each route', () => {
  it.each(routeTable.map((route) => [route.name]))('%s passes its route handler', async (name) => {
    const source = await readFile(path.join(root, 'functions', `${name}.ts`), 'utf8');
    const entry = /^import \{ (\w+) \} from '\.\.\/lib\/http\/([\w-]+)';$/m.exec(source);
    expect(entry, `functions/${name}.ts imports one handler from lib/http`).not.toBeNull();
    const [, exported, module] = entry!;
    expect(source).toContain(`lambdaApiHandler('${name}', ${exported})`);
    const handlers = (await import(`../../lib/http/${module}.ts`)) as Record<string, unknown>;
    expect(handlers[exported!]).toBe(routeHandlers[name]);
  });
});
