import * as z from 'zod';
import { runLogLevels } from '../run-log/limits';
import { readRunLog } from '../run-log/read';
import { routeWithQuery } from './api-handler';

const MAX_SEQ = 2_147_483_647;

export const runLogQuery = z.strictObject({
  after: z
    .string()
    .refine(
      (value) => /^[0-9]{1,10}$/.test(value) && Number(value) <= MAX_SEQ,
      'must be a line number (next_after of the previous page), in decimal digits',
    )
    .transform(Number)
    .default(0)
    .meta({
      type: 'integer',
      minimum: 0,
      maximum: MAX_SEQ,
      default: 0,
      description: 'Return the lines after this one: next_after of the previous page',
    }),
});

/** GET /api/cron/jobs/{id}/runs/{run_id}/log: a run's log, paged by seq, for tailing. */
export const getRunLogRoute = routeWithQuery(runLogQuery, async (request, app, { after }) => ({
  status: 200,
  body: await readRunLog(
    app,
    request.caller,
    request.params.id ?? '',
    request.params.run_id ?? '',
    after,
  ),
}));

export const runLogPageSchema = z.object({
  run_id: z.uuid(),
  status: z.enum(['running', 'success', 'error', 'timeout', 'skipped', 'lost']),
  lines: z.array(
    z.object({
      seq: z.number().int().min(1),
      at: z.iso.datetime(),
      level: z.enum(runLogLevels),
      message: z.string(),
      fields: z.record(z.string(), z.unknown()).nullable(),
    }),
  ),
  next_after: z.number().int().min(0),
  complete: z.boolean(),
});
