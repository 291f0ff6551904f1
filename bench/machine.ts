import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { Sql } from '../lib/db';

/** Busy and total CPU time of the whole machine so far, in clock ticks (Linux /proc/stat). */
async function cpuTicks(): Promise<{ busy: number; total: number } | undefined> {
  const text = await readFile('/proc/stat', 'utf8').catch(() => undefined);
  const fields = text?.split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number);
  if (!fields || fields.length < 5) return undefined;
  const total = fields.reduce((sum, value) => sum + value, 0);
  const idle = fields[3]! + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/**
 * How busy the machine is while this process waits, in percent of all cores: load the benchmark
 * does not cause. Other processes (a test suite, a build) make every figure worse.
 */
export async function backgroundCpuPercent(windowMs = 1_000): Promise<number | undefined> {
  const before = await cpuTicks();
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const after = await cpuTicks();
  if (!before || !after || after.total === before.total) return undefined;
  return ((after.busy - before.busy) / (after.total - before.total)) * 100;
}

/**
 * Waits, up to `maxMs`, for other processes to leave the CPUs mostly idle; returns the last
 * background load seen (percent of all cores).
 */
export async function waitForQuiet(
  maxMs: number,
  thresholdPercent: number,
): Promise<number | undefined> {
  const deadline = Date.now() + maxMs;
  let busy = await backgroundCpuPercent();
  while (busy !== undefined && busy > thresholdPercent && Date.now() < deadline) {
    busy = await backgroundCpuPercent();
  }
  return busy;
}

const TICK_MS = 10; // Linux reports process CPU time in clock ticks of 1/100 s.

async function processCpuMs(pid: number): Promise<number | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!text) return undefined;
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/**
 * CPU time used so far by each of a set of PostgreSQL processes, milliseconds. Pids that are not
 * a postgres process here (the server runs elsewhere) are left out.
 */
export async function cpuByProcess(pids: number[]): Promise<Map<number, number>> {
  const times = new Map<number, number>();
  for (const pid of pids) {
    const command = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!command.startsWith('postgres')) continue;
    const ms = await processCpuMs(pid);
    if (ms !== undefined) times.set(pid, ms);
  }
  return times;
}

/** CPU used between two readings, counting processes that appeared in between from zero. */
export function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}

/** The machine and database server the figures were measured on. */
export async function describeMachine(admin: Sql, origin: string): Promise<Record<string, string>> {
  const [pg] = await admin<{ version: string; shared_buffers: string; sync: string }[]>`
    select current_setting('server_version') as version,
      current_setting('shared_buffers') as shared_buffers,
      current_setting('synchronous_commit') as sync`;
  const cpus = os.cpus();
  return {
    CPU: `${cpus[0]?.model ?? 'unknown'} (${cpus.length} cores)`,
    Memory: `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
    OS: `${os.type()} ${os.release()} ${os.arch()}`,
    'Node.js': process.version,
    PostgreSQL: `${pg!.version} (${origin}; shared_buffers ${pg!.shared_buffers}, synchronous_commit ${pg!.sync})`,
  };
}
