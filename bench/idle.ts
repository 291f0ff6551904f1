import postgres from 'postgres';
import type { Sql } from '../lib/db';
import { silentLog } from '../lib/logger';
import { sweep } from '../lib/engine/sweep';
import { benchRegistry } from './executors';
import { median } from './report';
import { resetStatements, statementBreakdown, statementLabel } from './stats';

export interface IdleResult {
  sweeps: number;
  /** Median wall time of sweep(), milliseconds. */
  wallMs: number;
  /** Database time per sweep from pg_stat_statements (execution + planning), when available. */
  dbMs?: number;
  breakdown?: { label: string; calls: number; ms: number }[];
}

/** Fails loudly unless the benchmark database has nothing for a sweep to do. */
export async function assertNothingDue(admin: Sql): Promise<void> {
  const [row] = await admin<{ due: number; running: number }[]>`
    select (select count(*)::int from cron_job where is_active and next_run <= now() + interval '5 minutes') as due,
      (select count(*)::int from cron_job_run where status = 'running') as running`;
  if (row!.due > 0 || row!.running > 0) {
    throw new Error(`idle benchmark needs an idle table: ${JSON.stringify(row)}`);
  }
}

/**
 * Runs `count` sweeps over a table where nothing is due (checked), one after another, and
 * measures each one's wall time and, through pg_stat_statements, the database time they cost.
 */
export async function idleSweeps(
  admin: Sql,
  options: { connect: () => Sql; count: number; warmup: number; statStatements: boolean },
): Promise<IdleResult> {
  await assertNothingDue(admin);
  const sql = options.connect();
  const deps = { sql, registry: benchRegistry, log: silentLog };
  const walls: number[] = [];
  try {
    await Promise.all([sql`select 1`, sql`select 1`]);
    for (let i = 0; i < options.warmup; i += 1) await sweep(deps);
    if (options.statStatements) await resetStatements(admin);
    for (let i = 0; i < options.count; i += 1) {
      const started = performance.now();
      const summary = await sweep(deps);
      walls.push(performance.now() - started);
      if (summary.executed + summary.skipped + summary.lost > 0) {
        throw new Error(`an idle sweep did work: ${JSON.stringify(summary)}`);
      }
    }
  } finally {
    await sql.end();
  }
  const result: IdleResult = { sweeps: options.count, wallMs: median(walls) };
  if (options.statStatements) {
    const breakdown = (await statementBreakdown(admin)).map((entry) => ({
      ...entry,
      ms: entry.ms / options.count,
    }));
    result.breakdown = breakdown;
    result.dbMs = breakdown.reduce((sum, entry) => sum + entry.ms, 0);
  }
  return result;
}

// The two statements a nothing-due sweep issues, copied from lib/engine/run-state.ts (markLostRuns, with
// metadataAfterRun inlined) and lib/engine/claim.ts (claimDueJobs' first select), with the parameters
// sweep() gives them when it has no deadline.
export interface ExplainResult {
  /** Median over the repetitions of planning + execution time of both statements. */
  totalMs: number;
  statements: {
    label: string;
    planningMs: number;
    executionMs: number;
    sharedHit: number;
    sharedRead: number;
  }[];
}

/**
 * EXPLAIN (ANALYZE, BUFFERS) of the statements a real idle sweep sends, captured from the wire
 * (so the plans are of the engine's SQL as it is, not of a copy), each in a rolled-back
 * transaction.
 */
export async function explainIdleSweep(
  admin: Sql,
  databaseUrl: string,
  repetitions: number,
): Promise<ExplainResult> {
  await assertNothingDue(admin);
  const captured: { label: string; text: string; params: unknown[] }[] = [];
  const recording = postgres(databaseUrl, {
    max: 1,
    onnotice: () => {},
    debug: (_connection, text, params) => {
      if (/^\s*(begin|commit)\b/i.test(text)) return;
      captured.push({
        label: statementLabel(text.replace(/\s+/g, ' ').trim()),
        text,
        params: [...params],
      });
    },
  });
  try {
    // Connect first, so the driver's own set-up queries are not taken for the sweep's.
    await recording`select 1`;
    captured.length = 0;
    await sweep({ sql: recording, registry: benchRegistry, log: silentLog });
  } finally {
    await recording.end();
  }
  const totals: number[] = [];
  let last: ExplainResult['statements'] = [];
  for (let i = 0; i < repetitions; i += 1) {
    const statements: ExplainResult['statements'] = [];
    await admin
      .begin(async (tx) => {
        for (const { label, text, params } of captured) {
          const [row] = await tx.unsafe<{ 'QUERY PLAN': ExplainJson[] }[]>(
            `explain (analyze, buffers, format json) ${text}`,
            params as never[],
          );
          const plan = row!['QUERY PLAN'][0]!;
          statements.push({
            label,
            planningMs: plan['Planning Time'],
            executionMs: plan['Execution Time'],
            sharedHit: sumBuffers(plan.Plan, 'Shared Hit Blocks'),
            sharedRead: sumBuffers(plan.Plan, 'Shared Read Blocks'),
          });
        }
        throw new Rollback();
      })
      .catch((error: unknown) => {
        if (!(error instanceof Rollback)) throw error;
      });
    totals.push(statements.reduce((sum, s) => sum + s.planningMs + s.executionMs, 0));
    last = statements;
  }
  return { totalMs: median(totals), statements: last };
}

class Rollback extends Error {}

interface ExplainNode {
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: ExplainNode[];
}

interface ExplainJson {
  Plan: ExplainNode;
  'Planning Time': number;
  'Execution Time': number;
}

/** Buffer counts of the top node already include its children's. */
function sumBuffers(node: ExplainNode, key: 'Shared Hit Blocks' | 'Shared Read Blocks'): number {
  return node[key] ?? 0;
}
