import * as z from 'zod';
import { runLogLevels } from '../run-log/limits';
import { readRunLog } from '../run-log/read';
import type { RouteHandler } from './api-handler';
import { parseInput } from './parse-input';

export const runLogQuery = z.strictObject({
  after: z.coerce
    .number()
    .int()
    .min(0)
    .max(2_147_483_647)
    .default(0)
    .describe('Return lines with a larger seq than this; next_after of the previous page'),
});

/** GET /api/cron/jobs/{id}/runs/{run_id}/log: a run's log, paged by seq, for tailing. */
export const getRunLogRoute: RouteHandler = async (request, app) => {
  const { after } = parseInput(runLogQuery, request.query);
  return {
    status: 200,
    body: await readRunLog(app, request.params.id ?? '', request.params.run_id ?? '', after),
  };
};

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
