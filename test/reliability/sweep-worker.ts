/**
 * A sweep in a process of its own, for the reliability suite.
 *
 *   node --import tsx test/reliability/sweep-worker.ts <databaseUrl> [optionsJson] [--serve]
 *
 * Without --serve it runs one sweep with the test executor registry, prints one JSON line
 * (`{"ok":true,"summary":{...}}` or `{"ok":false,"error":"..."}`) and exits. With --serve it prints
 * `{"ready":true}` and then runs one sweep per line read from stdin (a line may hold JSON options
 * that override the command line's), answering each with one JSON line, until stdin closes.
 * Options: the sweep's options plus `pool` (connections, default 4) and `at` (an ISO instant the
 * sweep's clock stands at). Engine warnings and errors go to stderr.
 */
import { createInterface } from 'node:readline';
import { connect } from '../../lib/db';
import type { Log } from '../../lib/logger';
import { sweep, type SweepOptions } from '../../lib/engine/sweep';
import { testRegistry } from '../helpers/jobs';

type WorkerOptions = Omit<SweepOptions, 'now' | 'deadline'> & { pool?: number; at?: string };

const [databaseUrl, optionsText = '{}', ...flags] = process.argv.slice(2);
if (!databaseUrl) {
  console.error('usage: sweep-worker.ts <databaseUrl> [optionsJson] [--serve]');
  process.exit(2);
}
const baseOptions = JSON.parse(optionsText) as WorkerOptions;
const sql = connect(databaseUrl, { max: baseOptions.pool ?? 4 });

const toStderr = (level: string) => (message: string, extra?: Record<string, unknown>) =>
  process.stderr.write(`${JSON.stringify({ level, message, pid: process.pid, ...extra })}\n`);
const log: Log = { debug() {}, info() {}, warn: toStderr('warn'), error: toStderr('error') };

async function sweepOnce(overrides: WorkerOptions): Promise<string> {
  const { at, ...options } = { ...baseOptions, ...overrides };
  delete options.pool;
  try {
    const clock = at === undefined ? {} : { now: () => new Date(at) };
    const summary = await sweep({ sql, registry: testRegistry, log }, { ...options, ...clock });
    return JSON.stringify({ ok: true, pid: process.pid, summary: { ...summary, results: [] } });
  } catch (error) {
    return JSON.stringify({ ok: false, pid: process.pid, error: (error as Error).message });
  }
}

if (flags.includes('--serve')) {
  // One sweep at a time, in the order the lines arrive.
  let queue = Promise.resolve();
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const overrides = line.trim() === '' ? {} : (JSON.parse(line) as WorkerOptions);
    queue = queue.then(async () => {
      process.stdout.write(`${await sweepOnce(overrides)}\n`);
    });
  });
  lines.on('close', () => {
    void queue.then(async () => {
      await sql.end({ timeout: 5 });
      process.exit(0);
    });
  });
  process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`);
} else {
  const line = await sweepOnce({});
  process.stdout.write(`${line}\n`);
  await sql.end({ timeout: 5 });
  process.exit(line.startsWith('{"ok":true') ? 0 : 1);
}
