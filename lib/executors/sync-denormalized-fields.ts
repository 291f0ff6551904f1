import * as z from 'zod/mini';
import type { Sql } from '../db';
import { SchemaDetailError } from '../errors';
import { defineExecutor } from './types';

const identifier = z
  .string()
  .check(z.regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lowercase SQL identifier'));
const described = (description: string) => identifier.check(z.describe(description));

const mappingSchema = z.strictObject({
  table: described('Table holding the denormalized copy.'),
  column: described('Column of `table` that holds the copy.'),
  source_table: described('Table holding the original value; joined on its id.'),
  source_column: described('Column of `source_table` copied into `column`.'),
  foreign_key: described('Column of `table` referencing `source_table`.id.'),
});

type Mapping = z.output<typeof mappingSchema>;

/**
 * The executor's reach, declared in code rather than in job config: the only mappings a job may
 * name (the demo CRM's by default). Engine tables, key columns and `tenant_id` are never here, so
 * no job config can overwrite another tenant's rows, move rows between tenants, or rewrite
 * cron_job. A deployment with other denormalized columns adds them to this list.
 */
export const ALLOWED_MAPPINGS: readonly Mapping[] = [
  {
    table: 'contacts',
    column: 'account_name',
    source_table: 'accounts',
    source_column: 'name',
    foreign_key: 'account_id',
  },
  {
    table: 'opportunities',
    column: 'account_name',
    source_table: 'accounts',
    source_column: 'name',
    foreign_key: 'account_id',
  },
];

const allowedKeys = new Set(ALLOWED_MAPPINGS.map((m) => JSON.stringify(mappingKey(m))));
function mappingKey(m: Mapping) {
  return [m.table, m.column, m.source_table, m.source_column, m.foreign_key];
}

const defaultMappings = (): Mapping[] => ALLOWED_MAPPINGS.map((m) => ({ ...m }));

/** Names come from job config, so each must exist in the live schema before it reaches SQL. */
async function assertColumnsExist(sql: Sql, mappings: Mapping[]): Promise<void> {
  const wanted = mappings.flatMap((m) => [
    [m.table, m.column],
    [m.table, m.foreign_key],
    [m.table, 'tenant_id'],
    [m.source_table, m.source_column],
    [m.source_table, 'id'],
    [m.source_table, 'tenant_id'],
  ]);
  const rows = await sql<{ table_name: string; column_name: string }[]>`
    select table_name, column_name from information_schema.columns
    where table_schema = current_schema()
      and table_name in ${sql([...new Set(wanted.map(([table]) => table!))])}`;
  const tables = new Set(rows.map((row) => row.table_name));
  const columns = new Set(rows.map((row) => `${row.table_name}.${row.column_name}`));
  for (const [table, column] of wanted) {
    // The names go to the log line only: the run's error is what the job's tenant reads.
    if (!tables.has(table!)) {
      throw new SchemaDetailError(
        'syncDenormalizedFields: a mapped table does not exist',
        `syncDenormalizedFields: table ${table} does not exist`,
      );
    }
    if (!columns.has(`${table}.${column}`)) {
      throw new SchemaDetailError(
        'syncDenormalizedFields: a mapped column does not exist',
        `syncDenormalizedFields: column ${table}.${column} does not exist`,
      );
    }
  }
}

export const syncDenormalizedFields = defineExecutor({
  name: 'syncDenormalizedFields',
  description:
    'For each mapping, copies source_table.source_column into table.column wherever they ' +
    'differ, joining table.foreign_key to source_table.id within the same tenant. Every table ' +
    'and column is checked against the live schema first; all mappings run in one transaction. ' +
    'Returns { mappings: [{ table, column, changed }] }.',
  requiresTables: ['contacts', 'opportunities', 'accounts'],
  configSchema: z.strictObject({
    mappings: z
      ._default(
        z
          .array(
            mappingSchema.check(
              z.refine((m) => allowedKeys.has(JSON.stringify(mappingKey(m))), {
                message:
                  'not a mapping this deployment allows: the allowed ones are ' +
                  ALLOWED_MAPPINGS.map(
                    (m) => `${m.table}.${m.column} <- ${m.source_table}.${m.source_column}`,
                  ).join(', '),
              }),
            ),
          )
          .check(z.minLength(1), z.maxLength(50)),
        defaultMappings,
      )
      .check(z.describe('Denormalized columns to bring back in line with their source.')),
  }),
  async run({ sql, config, tenantId, signal, log }) {
    await assertColumnsExist(sql, config.mappings);
    const results = await sql.begin(async (tx) => {
      const changed: Array<{ table: string; column: string; changed: number }> = [];
      for (const m of config.mappings) {
        signal.throwIfAborted();
        // Even a global run never copies a value across tenants.
        const tenantFilter =
          tenantId === null
            ? tx`and t.tenant_id is not distinct from s.tenant_id`
            : tx`and t.tenant_id = ${tenantId} and s.tenant_id = ${tenantId}`;
        const result = await tx`
          update ${tx(m.table)} as t
          set ${tx(m.column)} = s.${tx(m.source_column)}
          from ${tx(m.source_table)} as s
          where t.${tx(m.foreign_key)} = s.id
            and t.${tx(m.column)} is distinct from s.${tx(m.source_column)}
            ${tenantFilter}`;
        changed.push({ table: m.table, column: m.column, changed: result.count });
      }
      return changed;
    });
    log.info('synced denormalized fields', { mappings: results });
    return { mappings: results };
  },
});
