import * as z from 'zod';
import { systemStatus } from '../system/status';
import type { RouteHandler } from './api-handler';

/** GET /api/cron/system: the console's system panel (last sweep, lag, failed and lost runs). */
export const getSystemRoute: RouteHandler = async (_request, app) => ({
  status: 200,
  body: await systemStatus(app),
});

const count = z.number().int().min(0);
const timestamp = z.iso.datetime();

export const systemStatusSchema = z.object({
  now: timestamp,
  sweep_interval_seconds: count,
  last_sweep: z
    .object({ finished_at: timestamp, summary: z.record(z.string(), z.unknown()) })
    .nullable(),
  jobs: z.object({ total: count, active: count, inactive: count, failing: count }),
  runs: z.object({ running: count, failed_24h: count, timed_out_24h: count, lost_24h: count }),
  due: z.object({ jobs: count, oldest_next_run: timestamp.nullable(), lag_seconds: count }),
});
