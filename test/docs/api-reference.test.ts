import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { API_DOCS_PATH, renderApiDocs } from '../../scripts/generate-api-docs';

it('docs/api.md is what scripts/generate-api-docs.ts generates from the OpenAPI document', async () => {
  const committed = await readFile(API_DOCS_PATH, 'utf8').catch(() => '(missing)');
  const generated = await renderApiDocs();
  expect(committed, 'docs/api.md is stale: run npm run docs:api').toBe(generated);
});
