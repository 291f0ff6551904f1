import { describe, expect, it } from 'vitest';
import { capturingLog } from '../helpers/log';
import { expectProblem, startTestServer } from '../helpers/server';

// The README: an unexpected failure answers 500 with a detail that says nothing about the cause
// (no SQL, no driver text), and the cause is logged with the request id. Forced here through the
// real local server and handlers by breaking this file's own database.

const { log, lines } = capturingLog();

const server = await startTestServer({ log });
const { request, sql } = server;

/** POST /api/cron/jobs over real HTTP; the helper checks the 500 against the OpenAPI document. */
const createJob = (name: string) =>
  request('POST', '/api/cron/jobs', {
    body: { name, schedule: 'daily', function_name: 'cleanOldActivities' },
  });

const GENERIC_DETAIL = 'the request could not be completed; it has been logged';

describe('a 500 from a real handler', () => {
  it.each([
    {
      what: 'a table the handler reads is gone',
      message: 'relation "cron_job" does not exist',
      breakIt: () => sql`alter table cron_job rename to cron_job_moved_away`,
      repair: () => sql`alter table cron_job_moved_away rename to cron_job`,
    },
    {
      what: 'the database rejects the statement with SQL in its message',
      message: "select secret from vault where tenant_id = 'acme' failed",
      breakIt: () =>
        sql`
        create function refuse() returns trigger language plpgsql as $$
        begin
          raise exception 'select secret from vault where tenant_id = ''acme'' failed';
        end $$;
        create trigger refuse before insert on cron_job execute function refuse()`.simple(),
      repair: () => sql`drop trigger refuse on cron_job; drop function refuse();`.simple(),
    },
  ])('when $what: generic detail, cause logged with the request id', async (failure) => {
    await failure.breakIt();
    lines.length = 0;
    try {
      const response = await createJob('doomed');
      expectProblem(response, 500);
      expect(response.body.detail).toBe(GENERIC_DETAIL);
      expect(response.text).not.toContain(failure.message);
      expect(response.text).not.toMatch(/cron_job|vault|relation/);
      const requestId = /^urn:request:(.+)$/.exec(response.body.instance)?.[1];
      expect(requestId, 'the problem names its request').toBeTruthy();

      const logged = lines.filter((line) => line.level === 'error');
      expect(logged).toEqual([
        expect.objectContaining({
          extra: expect.objectContaining({ request_id: requestId, error: failure.message }),
        }),
      ]);
    } finally {
      await failure.repair();
    }
    // Repaired, the same request succeeds: the 500 came from the broken database alone.
    const again = await request('POST', '/api/cron/jobs', {
      body: { name: 'fine', schedule: 'daily', function_name: 'cleanOldActivities' },
    });
    expect(again.status, again.text).toBe(201);
    await sql`truncate cron_job cascade`;
  });
});
