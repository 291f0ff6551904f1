import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

/** The top-level job blocks of a workflow, by name (two-space indented keys under `jobs:`). */
function jobs(workflow: string): Record<string, string> {
  const body = workflow.slice(workflow.indexOf('\njobs:\n') + 7);
  const parts = body.split(/\n(?= {2}[a-z][\w-]*:\n)/);
  return Object.fromEntries(parts.map((part) => [/^ {2}([\w-]+):/.exec(part)![1]!, part]));
}

describe('GitHub workflows', () => {
  it('deploy: tests, then staging with a smoke test through the API, then production behind its environment', () => {
    const deploy = jobs(read('.github/workflows/deploy.yml'));
    expect(Object.keys(deploy)).toEqual(['test', 'staging', 'production']);
    expect(deploy.staging).toMatch(/needs: test/);
    expect(deploy.staging).toMatch(/environment: staging/);
    expect(deploy.staging).toMatch(/cdk deploy[^\n]*\n?[^\n]*-c stackName=/);
    expect(deploy.staging).toMatch(/--aws-sigv4/);
    expect(deploy.staging).toMatch(/\/api\/cron\/health/);
    expect(deploy.production).toMatch(/needs: staging/);
    expect(deploy.production).toMatch(/environment: production/);
  });

  it('CI tests on Node 20, 22 and 24', () => {
    const ci = read('.github/workflows/ci.yml');
    expect(ci).toMatch(/node: \[20, 22, 24\]/);
    expect(ci).toMatch(/node-version: \$\{\{ matrix\.node \}\}/);
  });
});
