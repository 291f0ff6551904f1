import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

/**
 * The built-in executors' schemas are zod/mini, which has no messages of its own. In a process
 * that never touches classic zod (as in the engine's Lambda bundles, unlike this test runner's
 * process) a refused config must still read as zod's English message, not "Invalid input".
 */
describe('executor config errors outside the API', () => {
  it('read as English messages in a process without classic zod', async () => {
    const script = `
      import * as z from 'zod/mini';
      import { cleanOldActivities } from './lib/executors/clean-old-activities.ts';
      const parsed = z.safeParse(cleanOldActivities.configSchema, { retention_days: 0, extra: 1 });
      console.log(JSON.stringify(parsed.error.issues.map((issue) => issue.message)));`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: root, timeout: 60_000 },
    );
    expect(JSON.parse(stdout)).toEqual([
      'Too small: expected number to be >=1',
      'Unrecognized key: "extra"',
    ]);
  });
});
