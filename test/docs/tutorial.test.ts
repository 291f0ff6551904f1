import { execFile, execFileSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { fencedBlocks, repoRoot } from './markdown';

const run = promisify(execFile);
const TUTORIAL = 'docs/adding-an-executor.md';

/**
 * Follows docs/adding-an-executor.md in a copy of the repository (tracked files only, this
 * checkout's node_modules linked in): writes the executor file from the tutorial's block,
 * registers it as step 3 says, regenerates the API reference as step 6 says, then runs the type
 * check, lint and the tests the change touches. They must stay green.
 */
describe('following docs/adding-an-executor.md', () => {
  it(
    'registering an executor as the tutorial says keeps the suite green',
    { timeout: 900_000 },
    async () => {
      const copy = await mkdtemp(path.join(tmpdir(), 'crm-cron-tutorial-'));
      afterAll(() => rm(copy, { recursive: true, force: true }));
      const files = execFileSync(
        'git',
        ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
        {
          cwd: repoRoot,
        },
      )
        .toString()
        .split('\0')
        .filter(Boolean);
      for (const file of files) {
        await cp(path.join(repoRoot, file), path.join(copy, file), { recursive: true }).catch(
          () => undefined, // deleted in the working tree
        );
      }
      await symlink(path.join(repoRoot, 'node_modules'), path.join(copy, 'node_modules'));

      const blocks = fencedBlocks(TUTORIAL);
      // Step 2: the definition, in the folder for your own executors.
      const definition = blocks.find(
        (block) => block.annotation === 'file: lib/executors/custom/deactivate-dormant-users.ts',
      );
      expect(definition, 'step 2 quotes the executor file').toBeTruthy();
      await writeFile(
        path.join(copy, 'lib/executors/custom/deactivate-dormant-users.ts'),
        `${definition!.content}\n`,
      );

      // Step 3: add the import and the entry the excerpt shows.
      const excerpt = blocks.find(
        (block) =>
          block.annotation ===
          'excerpt of lib/executors/custom/index.ts with deactivateDormantUsers added',
      );
      expect(excerpt, 'step 3 shows the registration').toBeTruthy();
      const added = excerpt!.content
        .split('\n')
        .filter((line) => line.includes('deactivateDormantUsers'));
      expect(added).toHaveLength(2);
      const indexFile = path.join(copy, 'lib/executors/custom/index.ts');
      const lines = (await readFile(indexFile, 'utf8')).split('\n');
      const lastImport = lines.findLastIndex((line) => line.startsWith('import '));
      lines.splice(lastImport + 1, 0, added[0]!);
      lines.splice(lines.lastIndexOf('];'), 0, added[1]!);
      await writeFile(indexFile, lines.join('\n'));

      const inCopy = (command: string, args: string[]) =>
        run(command, args, {
          cwd: copy,
          env: { ...process.env, CI: 'true' },
          maxBuffer: 64 * 1024 * 1024,
        }).catch((error: { stdout?: string; stderr?: string; message: string }) => {
          throw new Error(
            `${command} ${args.join(' ')} failed:\n${error.stdout ?? ''}\n${error.stderr ?? error.message}`,
          );
        });
      // Step 6: regenerate the API reference, which lists every executor.
      await inCopy(process.execPath, ['--import', 'tsx', 'scripts/generate-api-docs.ts']);
      expect(await readFile(path.join(copy, 'docs/api.md'), 'utf8')).toContain(
        'deactivateDormantUsers',
      );

      await inCopy(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit']);
      await inCopy(process.execPath, ['node_modules/eslint/bin/eslint.js', 'lib/executors']);
      await inCopy(process.execPath, [
        'node_modules/prettier/bin/prettier.cjs',
        '--check',
        'lib/executors',
        'docs',
      ]);
      const { stdout } = await inCopy(process.execPath, [
        'node_modules/vitest/vitest.mjs',
        'run',
        '--project',
        'pg17',
        'test/executors.test.ts',
        'test/docs/docs-consistency.test.ts',
        'test/docs/api-reference.test.ts',
        'test/docs/example-executor.test.ts',
        'test/api/routes.test.ts',
      ]);
      expect(stdout).toContain('5 passed');
    },
  );
});
