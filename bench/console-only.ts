/** `npx tsx bench/console-only.ts`: only the console figure of `npm run bench`. */
import { connect } from '../lib/db';
import { benchConsole } from './console';
import { startBenchDatabase } from './database';

const db = await startBenchDatabase();
const admin = connect(db.url, { max: 1 });
try {
  const result = await benchConsole(db.url, admin, { jobs: 10_000, loads: 5 });
  console.log(JSON.stringify(result));
} finally {
  await admin.end();
  await db.stop();
}
