import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/server';

/**
 * What a client team does with the served document: generate types with openapi-typescript and
 * call the API through openapi-fetch. The client below must typecheck under strict TypeScript
 * without a cast, sending only the required fields, and then create a job for real.
 */
const server = await startTestServer();

// Inside the repository, so the generated client resolves openapi-fetch from its node_modules.
const cache = path.resolve(import.meta.dirname, '../../node_modules/.cache');
await mkdir(cache, { recursive: true });
const dir = await mkdtemp(path.join(cache, 'openapi-client-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const CLIENT = `import createClient from 'openapi-fetch';
import type { paths } from './api';

export async function createMinimalJob(baseUrl: string) {
  const client = createClient<paths>({ baseUrl });
  const created = await client.POST('/api/cron/jobs', {
    body: { name: 'typed client job', schedule: 'daily', function_name: 'markUsersOffline' },
  });
  if (created.error) return { status: created.response.status, problem: created.error.detail };
  const id: string = created.data.id;
  const nextRun: string | null = created.data.next_run;
  const listed = await client.GET('/api/cron/jobs', { params: { query: { limit: 10 } } });
  const names: string[] = (listed.data?.jobs ?? []).map((job) => job.name);
  const updated = await client.PUT('/api/cron/jobs/{id}', {
    params: { path: { id } },
    body: { metadata: { timeout_minutes: 10 } },
  });
  const timeout: unknown = updated.data?.metadata.timeout_minutes;
  return { status: created.response.status, id, nextRun, names, timeout };
}
`;

/** Strict TypeScript's complaints about each file, from one program (one load of the libs). */
function typeErrors(files: string[]): Map<string, string[]> {
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: [],
    skipLibCheck: true,
  });
  const errors = new Map(files.map((file) => [file, [] as string[]]));
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const file = diagnostic.file?.fileName ?? '';
    errors
      .get(path.resolve(file))
      ?.push(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
  }
  return errors;
}

describe('a client generated with openapi-typescript and openapi-fetch', () => {
  it('creates a job with only the required fields, typechecked without casts', async () => {
    const types = astToString(await openapiTS(JSON.stringify(server.openApi)));
    await writeFile(path.join(dir, 'api.d.ts'), types);
    const client = path.join(dir, 'client.ts');
    await writeFile(client, CLIENT);
    expect(CLIENT).not.toMatch(/\bas\b|\bany\b|!\./);
    // The same call without a required field must not compile, or the check proves nothing.
    const incomplete = path.join(dir, 'incomplete.ts');
    await writeFile(incomplete, CLIENT.replace(", function_name: 'markUsersOffline'", ''));

    const errors = typeErrors([client, incomplete]);
    expect(errors.get(client)).toEqual([]);
    expect(errors.get(incomplete)!.join('\n')).toMatch(/function_name/);

    const { outputText } = ts.transpileModule(CLIENT, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    await writeFile(path.join(dir, 'client.mjs'), outputText);
    const { createMinimalJob } = (await import(
      pathToFileURL(path.join(dir, 'client.mjs')).href
    )) as { createMinimalJob: (baseUrl: string) => Promise<Record<string, unknown>> };
    expect(await createMinimalJob(server.url)).toMatchObject({
      status: 201,
      id: expect.any(String),
      nextRun: expect.any(String),
      names: ['typed client job'],
      timeout: 10,
    });
  });
});
