/** `npx tsx bench/console-only.ts`: only the console figure of `npm run bench`. */
import { cpus, loadavg } from 'node:os';
import { connect } from '../lib/db';
import { benchConsole } from './console';
import { startBenchDatabase } from './database';

const db = await startBenchDatabase();
const admin = connect(db.url, { max: 1 });
try {
  const loadBefore = loadavg()[0]!;
  const result = await benchConsole(db.url, admin, { jobs: 10_000, loads: 5 });
  // The machine's 1-minute load average around the measurement: the figure means little without it.
  const load = `${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after, ${cpus().length} cores`;
  console.log(JSON.stringify({ ...result, load }));
} finally {
  await admin.end();
  await db.stop();
}
