import { describe, expect, it } from 'vitest';
import { createDemoSchema, loadDemoData } from '../../lib/demo-data';
import { expectProblem, startTestServer } from '../helpers/server';

// The escapes of issue #11, replayed: job config naming tables or columns outside the executor's
// declared reach is refused with a 400 naming the field, and nothing changes.
const server = await startTestServer({
  tokens: 'acme-token-0123456789:alice:acme,root-token-0123456789:root:*',
});
const { request, sql, snapshot } = server;
await createDemoSchema(sql);
await loadDemoData(sql);

const crmFingerprint = async () => {
  const [row] = await sql<{ users: string; contacts: string }[]>`
    select (select md5(string_agg(u::text, ',' order by u.id)) from users u) as users,
           (select md5(string_agg(c::text, ',' order by c.id)) from contacts c) as contacts`;
  return JSON.stringify(row);
};

const escapes = {
  'users.name of another tenant': {
    table: 'users',
    column: 'name',
    source_table: 'users',
    source_column: 'email',
    foreign_key: 'id',
  },
  'contacts.tenant_id': {
    table: 'contacts',
    column: 'tenant_id',
    source_table: 'accounts',
    source_column: 'tenant_id',
    foreign_key: 'account_id',
  },
  'cron_job rows': {
    table: 'cron_job',
    column: 'schedule',
    source_table: 'cron_job',
    source_column: 'name',
    foreign_key: 'id',
  },
};

describe('syncDenormalizedFields reach', () => {
  it.each(Object.entries(escapes))(
    '%s: 400 naming the field, nothing changed',
    async (_, mapping) => {
      for (const token of ['acme-token-0123456789', 'root-token-0123456789']) {
        const before = [await snapshot(), await crmFingerprint()];
        const response = await request('POST', '/api/cron/jobs', {
          body: {
            name: 'escape',
            schedule: 'every_minute',
            function_name: 'syncDenormalizedFields',
            metadata: { mappings: [mapping] },
          },
          headers: { authorization: `Bearer ${token}` },
        });
        expectProblem(response, 400, [JSON.stringify(mapping)]);
        expect(response.body.errors.map((e: { path: string }) => e.path)).toEqual([
          'metadata.mappings.0',
        ]);
        expect([await snapshot(), await crmFingerprint()]).toEqual(before);
      }
    },
  );

  it('the declared mappings are accepted', async () => {
    const response = await request('POST', '/api/cron/jobs', {
      body: { name: 'sync', schedule: 'daily', function_name: 'syncDenormalizedFields' },
      headers: { authorization: 'Bearer acme-token-0123456789' },
    });
    expect(response.status, response.text).toBe(201);
  });
});
