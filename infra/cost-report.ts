import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createCronApp } from './cron-app';
import { costTable, estimateCost, type CostEstimate, type Template } from './cost';

/** The profiles the README prices, in its column order. */
export const PRICED_PROFILES = ['development', 'lean', 'production'] as const;

/** Synthesizes the stack (bundling skipped, as `cdk synth` would otherwise bundle) for a context. */
export function synthesizeTemplate(context: Record<string, unknown>): Template {
  const outdir = mkdtempSync(path.join(tmpdir(), 'crm-cron-cost-'));
  try {
    const { app, stack } = createCronApp({
      outdir,
      context: { 'aws:cdk:bundling-stacks': [], ...context },
    });
    return app.synth().getStackByName(stack.stackName).template as Template;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Each priced profile's estimate, from its synthesized template. */
export function profileEstimates(): { name: string; estimate: CostEstimate }[] {
  return PRICED_PROFILES.map((profile) => ({
    name: profile === 'development' ? 'development (default)' : profile,
    estimate: estimateCost(synthesizeTemplate({ profile })),
  }));
}

export const COST_TABLE_START = '<!-- cost table: npm run cost -- --write -->';
export const COST_TABLE_END = '<!-- end of cost table -->';

/** The README's cost table, as `npm run cost` writes it between its markers. */
export function readmeCostTable(): string {
  return costTable(profileEstimates());
}
