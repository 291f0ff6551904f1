import { describe, expect, it } from 'vitest';
import { column } from '../../lib/db';
import { executorConfig, initialEngineMetadata } from '../../lib/engine/metadata';
import { createTestDatabase } from '../helpers/database';

// The sweep sends its batches as one array literal per column (column() in lib/db.ts): whatever
// an executor's error or result holds must reach the database unchanged.
const { sql } = await createTestDatabase();

describe('column (one array literal per batch column)', () => {
  it('round-trips text with quotes, backslashes, commas, braces, spaces, NULL-like words and newlines', async () => {
    const values = [
      'plain',
      'say "hi"',
      'back\\slash \\" both',
      'a,b',
      '{braces}',
      '  padded  ',
      '',
      'NULL',
      'null',
      null,
      'line\nbreak\ttab',
      'ünïcödé ✓ 𝄞',
      '\\',
      '"',
    ];
    const rows = await sql<{ value: string | null; position: string }[]>`
      select value, position from unnest(${column(values, (v) => v)}::text[])
        with ordinality as t(value, position) order by position`;
    expect(rows.map((row) => row.value)).toEqual(values);
  });

  it('sends instants to the millisecond, numbers, booleans and nulls in their typed columns', async () => {
    const rows = [
      { at: new Date('2026-11-29T22:05:00.123Z'), n: -7, ok: true },
      { at: null, n: 2147483647, ok: false },
      { at: new Date('1999-12-31T23:59:59.999Z'), n: null, ok: null },
    ];
    const back = await sql<{ at: Date | null; n: number | null; ok: boolean | null }[]>`
      select at, n, ok from unnest(${column(rows, (r) => r.at)}::timestamptz[],
        ${column(rows, (r) => r.n)}::integer[], ${column(rows, (r) => r.ok)}::boolean[])
        with ordinality as t(at, n, ok, position) order by position`;
    expect(back).toEqual(rows);
  });

  it('sends an empty batch as an empty array', async () => {
    const [row] = await sql<{ n: number }[]>`
      select cardinality(${column([], () => null)}::uuid[]) as n`;
    expect(row!.n).toBe(0);
  });
});

describe('executorConfig', () => {
  it("drops the engine's keys and keeps every other key, a JSON __proto__ key as plain data", () => {
    // As the database hands metadata over: parsed JSON, where "__proto__" is an own key.
    const metadata = JSON.parse(
      JSON.stringify({
        ...initialEngineMetadata,
        execution_count: 4,
        url: 'https://x.test',
        n: 1,
      }).replace(/^\{/, '{"__proto__":{"polluted":true},'),
    ) as Record<string, unknown>;
    const config = executorConfig(metadata);
    expect(Object.keys(config).sort()).toEqual(['__proto__', 'n', 'url']);
    expect(config.url).toBe('https://x.test');
    expect(Object.getPrototypeOf(config)).toBe(Object.prototype);
    expect((config as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(config, '__proto__')?.value).toEqual({ polluted: true });
    expect('execution_count' in metadata).toBe(true);
  });
});
