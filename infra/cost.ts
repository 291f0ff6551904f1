import prices from './prices.json' with { type: 'json' };

/**
 * A monthly bill by list prices (infra/prices.json), read from a synthesized template: what the
 * stack creates is what it costs, so the README's table (`npm run cost`) changes when the stack
 * does. Idle is what runs with no jobs; the two load lines add 10,000 jobs every 5 minutes, run by
 * the sweep, or each by its own exact-time trigger (precise). Data transfer, backups within the
 * free allowance and the free tiers of Lambda and CloudWatch are left out.
 */

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;
export interface Template {
  Resources: Resources;
}
export type Prices = typeof prices;
export const listPrices: Prices = prices;

export interface CostLine {
  /** The same in every profile, so the profiles line up in one table. */
  item: string;
  /** What this profile has of it. */
  detail: string;
  monthly: number;
}
export interface CostEstimate {
  idle: CostLine[];
  idleTotal: number;
  /** 10,000 jobs every 5 minutes, all run by the sweep: added to idle. */
  sweepLoad: number;
  /** The same jobs, each precise (its own Scheduler trigger and run-job invocation). */
  preciseLoad: number;
}

const round = (value: number) => Math.round(value * 100) / 100;

function functionMemoryMb(resources: Resources, description: RegExp): number {
  const fn = Object.values(resources).find(
    (r) =>
      r.Type === 'AWS::Lambda::Function' && description.test(String(r.Properties?.Description)),
  );
  if (!fn) throw new Error(`no function described like ${description}`);
  return Number(fn.Properties?.MemorySize ?? 128);
}

export function estimateCost(template: Template, p: Prices = listPrices): CostEstimate {
  const resources = template.Resources;
  const of = (type: string) => Object.values(resources).filter((r) => r.Type === type);
  const hours = p.hoursPerMonth;
  const idle: CostLine[] = [];

  for (const db of of('AWS::RDS::DBInstance')) {
    const cls = String(db.Properties?.DBInstanceClass);
    const perHour = (p.rdsInstancePerHour as Record<string, number>)[cls];
    if (perHour === undefined) throw new Error(`no price for ${cls} in infra/prices.json`);
    const copies = db.Properties?.MultiAZ === true ? 2 : 1;
    const storage = Number(db.Properties?.AllocatedStorage ?? 20);
    idle.push({
      item: 'RDS PostgreSQL instance',
      detail: `${cls}${copies === 2 ? ', Multi-AZ' : ''}`,
      monthly: perHour * hours * copies,
    });
    idle.push({
      item: 'RDS storage',
      detail: `${storage} GiB gp3${copies === 2 ? ' × 2' : ''}`,
      monthly: storage * p.rdsGp3PerGiBMonth * copies,
    });
    if (db.Properties?.ManageMasterUserPassword === true) {
      idle.push({
        item: 'Secrets Manager',
        detail: 'the owner secret, RDS-managed',
        monthly: p.secretPerMonth,
      });
    }
    const proxies = of('AWS::RDS::DBProxy').length;
    if (proxies > 0) {
      const vcpus = Math.max(
        p.rdsProxyMinimumVcpus,
        (p.rdsInstanceVcpus as Record<string, number>)[cls] ?? p.rdsProxyMinimumVcpus,
      );
      idle.push({
        item: 'RDS Proxy',
        detail: `${vcpus} vCPUs`,
        monthly: proxies * vcpus * p.rdsProxyPerVcpuHour * hours,
      });
    }
  }
  const endpoints = of('AWS::EC2::VPCEndpoint').filter(
    (e) => e.Properties?.VpcEndpointType === 'Interface',
  );
  if (endpoints.length > 0) {
    const zones = endpoints.reduce(
      (sum, e) => sum + ((e.Properties?.SubnetIds as unknown[] | undefined)?.length ?? 1),
      0,
    );
    idle.push({
      item: 'VPC interface endpoints',
      detail: `${endpoints.length} in ${zones} zone${zones === 1 ? '' : 's'} in all`,
      monthly: zones * p.interfaceEndpointPerZoneHour * hours,
    });
  }
  const nat = of('AWS::EC2::NatGateway').length;
  if (nat > 0)
    idle.push({
      item: 'NAT gateways',
      detail: String(nat),
      monthly: nat * p.natGatewayPerHour * hours,
    });
  // An Elastic IP (a NAT gateway's) is a public IPv4 address, charged by the hour since 2024.
  const addresses = of('AWS::EC2::EIP').length;
  if (addresses > 0)
    idle.push({
      item: 'Public IPv4 addresses',
      detail: String(addresses),
      monthly: addresses * p.publicIpv4PerHour * hours,
    });
  const keys = of('AWS::KMS::Key').length;
  if (keys > 0)
    idle.push({ item: 'KMS keys', detail: String(keys), monthly: keys * p.kmsKeyPerMonth });
  const alarms = of('AWS::CloudWatch::Alarm');
  const metrics = alarms.reduce(
    (sum, a) =>
      sum +
      Math.max(
        1,
        (a.Properties?.Metrics as unknown[] | undefined)?.filter(
          (m) => (m as { MetricStat?: unknown }).MetricStat !== undefined,
        ).length ?? 1,
      ),
    0,
  );
  if (alarms.length > 0) {
    idle.push({
      item: 'CloudWatch alarms',
      detail: `${alarms.length}, ${metrics} metrics`,
      monthly: metrics * p.alarmPerMetricMonth,
    });
  }
  const idleLines = idle.map((line) => ({ ...line, monthly: round(line.monthly) }));
  const idleTotal = round(idleLines.reduce((sum, line) => sum + line.monthly, 0));

  // Load: 10,000 jobs every 5 minutes.
  const { jobs, everyMinutes, sweepJobsPerSecond, runJobSeconds, logBytesPerRun } = p.load;
  const periods = (hours * 60) / everyMinutes;
  const runs = jobs * periods;
  const gbSecond = (mb: number, seconds: number) => (mb / 1024) * seconds;
  const logs = (runs * logBytesPerRun) / 1e9;
  const sweepMb = functionMemoryMb(resources, /due jobs|sweep/i);
  // A sweep logs one summary line, not a line per successful run.
  const sweepLoad = periods * gbSecond(sweepMb, jobs / sweepJobsPerSecond) * p.lambdaPerGbSecondArm;
  const runJobMb = functionMemoryMb(resources, /precise or one-off/i);
  const preciseLoad =
    runs * gbSecond(runJobMb, runJobSeconds) * p.lambdaPerGbSecondArm +
    (runs / 1e6) * p.lambdaPerMillionRequests +
    (Math.max(0, runs - p.schedulerFreeInvocationsPerMonth) / 1e6) *
      p.schedulerPerMillionInvocations +
    logs * p.logsIngestionPerGb;
  return {
    idle: idleLines,
    idleTotal,
    sweepLoad: round(sweepLoad),
    preciseLoad: round(preciseLoad),
  };
}

const usd = (value: number) => `$${value.toFixed(2)}`;

/** The README's table: one column per profile, idle lines, then the idle total and the loads. */
export function costTable(columns: { name: string; estimate: CostEstimate }[]): string {
  const items = [...new Set(columns.flatMap((c) => c.estimate.idle.map((line) => line.item)))];
  const rows: string[][] = [['monthly, list prices', ...columns.map((c) => c.name)]];
  for (const item of items) {
    rows.push([
      item,
      ...columns.map((c) => {
        const line = c.estimate.idle.find((l) => l.item === item);
        return line ? `${usd(line.monthly)} (${line.detail})` : '—';
      }),
    ]);
  }
  rows.push(['**idle**', ...columns.map((c) => `**${usd(c.estimate.idleTotal)}**`)]);
  rows.push([
    '10,000 jobs every 5 minutes by the sweep',
    ...columns.map(
      (c) => `${usd(c.estimate.idleTotal + c.estimate.sweepLoad)} (+${usd(c.estimate.sweepLoad)})`,
    ),
  ]);
  rows.push([
    '10,000 precise jobs every 5 minutes',
    ...columns.map(
      (c) =>
        `${usd(c.estimate.idleTotal + c.estimate.preciseLoad)} (+${usd(c.estimate.preciseLoad)})`,
    ),
  ]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    `| ${row.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    line(rows[0]!),
    `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...rows.slice(1).map(line),
  ].join('\n');
}
