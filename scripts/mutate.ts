/**
 * `npm run mutate [-- [--concurrency N] [file ...]]`: mutation-tests each file on its own (every
 * file of vitest.mutate.config.ts when none is named), one after the other. Each file gets its
 * mutants only, its own tests (MUTATE_FILE narrows vitest.mutate.config.ts), and its own
 * incremental file and reports under reports/mutation/, so re-running one file after a change
 * re-tests only what changed and never discards another file's results. Prints the score of each
 * file and its surviving mutants at the end.
 *
 * A file may name a line range, `file:first-last` (e.g. one function's lines): only mutants that
 * start inside it are run, with the file's tests, and kept in an incremental file of their own.
 *
 * One embedded PostgreSQL server with the migrated template serves every test run (unless
 * TEST_DATABASE_URL names one): Stryker restarts its test runner after each mutant that times
 * out, and a runner starting its own server (initdb, migrations) would cost more than the mutant.
 */
import { parseArgs } from 'node:util';
import { Stryker } from '@stryker-mutator/core';
import type { MutantResult } from '@stryker-mutator/api/core';
import { migrateTemplate, startTestPostgres } from '../test/helpers/global-setup';
import { mutationTests } from '../vitest.mutate.config';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { concurrency: { type: 'string' } },
});
const targets = positionals.length > 0 ? positionals : Object.keys(mutationTests);
/** `lib/x.ts` or `lib/x.ts:10-20`: the file whose tests run, and what Stryker mutates. */
const fileOf = (target: string) => /^(.*?)(?::\d+-\d+)?$/.exec(target)![1]!;
for (const target of targets) {
  if (!Object.hasOwn(mutationTests, fileOf(target))) {
    throw new Error(
      `${fileOf(target)} is not in vitest.mutate.config.ts; known: ${Object.keys(mutationTests).join(', ')}`,
    );
  }
}

interface Score {
  target: string;
  detected: number;
  valid: number;
  survivors: string[];
}

let stopPostgres = async () => {};
if (!process.env.TEST_DATABASE_URL) {
  const server = await startTestPostgres(17);
  stopPostgres = server.stop;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void stopPostgres().finally(() => process.exit(130)));
  }
  process.env.TEST_DATABASE_URL = server.url;
}
process.env.TEST_APP_ROLE_PASSWORD = await migrateTemplate(process.env.TEST_DATABASE_URL);

const scores: Score[] = [];
try {
  for (const target of targets) {
    const name = target.replaceAll('/', '_').replace(':', '@');
    process.env.MUTATE_FILE = fileOf(target);
    const results = await new Stryker({
      mutate: [target],
      incrementalFile: `reports/mutation/${name}.incremental.json`,
      jsonReporter: { fileName: `reports/mutation/${name}.json` },
      htmlReporter: { fileName: `reports/mutation/${name}.html` },
      // The initial run of a file's whole test list (tenancy's route matrix, for one) takes more
      // than Stryker's default 5 minutes on a shared 2-vCPU machine.
      dryRunTimeoutMinutes: 30,
      ...(values.concurrency ? { concurrency: Number(values.concurrency) } : {}),
    }).runMutationTest();
    scores.push(score(target, results));
  }
} finally {
  await stopPostgres();
}

for (const { target, detected, valid, survivors } of scores) {
  const percent = valid === 0 ? 100 : (100 * detected) / valid;
  console.log(`${target}: ${detected} / ${valid} = ${percent.toFixed(1)}% killed`);
  for (const survivor of survivors) console.log(`  ${survivor}`);
}

/** Killed or timed out over every mutant that ran or should have (Stryker's mutation score). */
function score(target: string, results: MutantResult[]): Score {
  const counted = results.filter(
    (mutant) => !['CompileError', 'RuntimeError', 'Ignored', 'Pending'].includes(mutant.status),
  );
  const detected = counted.filter((mutant) => ['Killed', 'Timeout'].includes(mutant.status));
  const survivors = counted
    .filter((mutant) => !['Killed', 'Timeout'].includes(mutant.status))
    .map(
      (mutant) =>
        `${mutant.status} line ${mutant.location.start.line}: ${mutant.mutatorName} ` +
        JSON.stringify(mutant.replacement ?? ''),
    );
  return { target, detected: detected.length, valid: counted.length, survivors };
}
