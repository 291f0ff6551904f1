import { SYSTEM_CALLER } from '../../lib/identity/caller';
import { parseLocalTokens } from '../../lib/identity/local-tokens';
import { execFile, execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { createExampleRegistry } from '../../examples/registry';
import type { AppContext } from '../../lib/app-context';
import { createDemoSchema, loadDemoData } from '../../lib/demo-data';
import { createJob } from '../../lib/jobs/service';
import { startLocalServer } from '../../lib/local/server';
import { silentLog } from '../../lib/logger';
import { createTestDatabase } from '../helpers/database';
import { waitFor } from '../helpers/wait';
import {
  curlCommands,
  fencedBlocks,
  markdownFiles,
  repoRoot,
  SHELL_LANGS,
  type ShellCommand,
} from './markdown';

// Every curl command of README.md and docs/ is taken from the Markdown and run by bash against the
// local server, as written, with JOB_ID set to a real job; it must exit 0 with 2xx responses.
// Commands address http://127.0.0.1:3000 (rewritten to the test server) or $API_URL (set to it).

const curlPath = (() => {
  try {
    return execFileSync('which', ['curl'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
})();

const DOCUMENTED_BASE = 'http://127.0.0.1:3000';
const TOKEN = 'docs-test-token-0123456789';

const { sql } = await createTestDatabase();
await createDemoSchema(sql);
await loadDemoData(sql);
const app: AppContext = {
  sql,
  registry: createExampleRegistry(),
  log: silentLog,
  settings: { sweepIntervalSeconds: 300, sweepConcurrency: 4 },
};
const open = await startLocalServer({
  app,
  log: silentLog,
  host: '127.0.0.1',
  port: 0,
  tokens: [],
});
// Commands that send $CRON_API_TOKEN go to a server that requires it.
const guarded = await startLocalServer({
  app,
  log: silentLog,
  host: '127.0.0.1',
  port: 0,
  tokens: parseLocalTokens(undefined, TOKEN),
});
// Commands that send $ACME_TOKEN or $ADMIN_TOKEN go to a server with a tenant and an admin caller.
const ACME_TOKEN = 'docs-acme-token-0123456789';
const ADMIN_TOKEN = 'docs-admin-token-0123456789';
const callers = await startLocalServer({
  app,
  log: silentLog,
  host: '127.0.0.1',
  port: 0,
  tokens: parseLocalTokens(`${ACME_TOKEN}:alice:acme,${ADMIN_TOKEN}:ops:*`, undefined),
});
afterAll(async () => {
  await open.close();
  await guarded.close();
  await callers.close();
});

/** The job `$JOB_ID` names: one per executor a block may ask for with `<!-- JOB_ID: name -->`. */
const fixtures: Record<string, { metadata: Record<string, unknown>; tenant_id: string | null }> = {
  markUsersOffline: { metadata: {}, tenant_id: null },
  deactivateDormantUsers: { metadata: { dry_run: true }, tenant_id: 'acme' },
};

interface Case extends ShellCommand {
  executor: string;
}

const cases: Case[] = markdownFiles().flatMap((file) =>
  fencedBlocks(file)
    .filter((block) => SHELL_LANGS.has(block.lang))
    .flatMap((block) => {
      const executor = /^JOB_ID:\s*(\w+)$/.exec(block.annotation ?? '')?.[1] ?? 'markUsersOffline';
      return curlCommands(block).map((command) => ({ ...command, executor }));
    }),
);

function run(command: string, env: NodeJS.ProcessEnv) {
  // Every curl in the command reports its status on stderr; the command's own output is kept.
  const wrapper =
    'curl() { command curl -q "$@" --max-time 20 --write-out \'%{stderr}HTTP_STATUS %{http_code}\\n\'; }\n';
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      'bash',
      ['-c', wrapper + command],
      { cwd: repoRoot, env, timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
          stdout,
          stderr,
        }),
    );
  });
}

describe('curl commands in README.md and docs/', () => {
  it('curl is installed (`which curl`)', () => {
    expect(curlPath, 'the documentation tests need curl on the PATH').toBeTruthy();
  });

  it('finds the commands, all in sh blocks', () => {
    expect(cases.filter((c) => c.file === 'README.md').length).toBeGreaterThanOrEqual(11);
    expect(cases.filter((c) => c.file.startsWith('docs/')).length).toBeGreaterThan(5);
    for (const file of markdownFiles()) {
      for (const block of fencedBlocks(file)) {
        if (SHELL_LANGS.has(block.lang)) continue;
        expect(block.content, `${file}:${block.line}: curl outside an sh block`).not.toMatch(
          /(^|\s)curl\s/m,
        );
      }
    }
  });

  it.each(cases.map((c) => [`${c.file}:${c.line} ${c.command.slice(0, 90)}`, c] as const))(
    '%s',
    async (_name, { command, executor }) => {
      expect(
        command.includes(DOCUMENTED_BASE) || /\$\{?API_URL/.test(command),
        `address ${DOCUMENTED_BASE} or $API_URL`,
      ).toBe(true);
      const server = /\$(ACME|ADMIN)_TOKEN/.test(command)
        ? callers
        : command.includes('$CRON_API_TOKEN')
          ? guarded
          : open;
      // Each command starts from the same state: no jobs but the one $JOB_ID names. A run-now of
      // the previous command may still be finishing in the background (202): let it end first.
      await waitFor('the previous command to settle', async () => {
        const [row] = await sql<{ running: number }[]>`
          select count(*)::int as running from cron_job_run where status = 'running'`;
        return row!.running === 0 || undefined;
      });
      await sql`truncate cron_job cascade`;
      const fixture = fixtures[executor];
      expect(fixture, `no JOB_ID fixture for executor ${executor}`).toBeDefined();
      const { job } = await createJob(app, SYSTEM_CALLER, {
        name: `Docs fixture (${executor})`,
        schedule: 'daily',
        function_name: executor,
        ...fixture,
      });
      const result = await run(command.replaceAll(DOCUMENTED_BASE, server.url), {
        ...process.env,
        JOB_ID: job.id,
        API_URL: server.url,
        CRON_API_TOKEN: TOKEN,
        ACME_TOKEN,
        ADMIN_TOKEN,
        AWS_REGION: 'eu-central-1',
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
        AWS_SESSION_TOKEN: 'example-session-token',
      });
      const where = `exit ${result.code}\nstdout: ${result.stdout.slice(0, 1000)}\nstderr: ${result.stderr.slice(0, 1000)}`;
      expect(result.code, where).toBe(0);
      const statuses = [...result.stderr.matchAll(/^HTTP_STATUS (\d{3})$/gm)].map((m) => m[1]!);
      expect(statuses.length, where).toBeGreaterThan(0);
      for (const status of statuses) expect(status, where).toMatch(/^2\d\d$/);
    },
  );
});
