import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { estimateCost, listPrices, type Template } from '../../infra/cost';
import {
  COST_TABLE_END,
  COST_TABLE_START,
  profileEstimates,
  readmeCostTable,
  synthesizeTemplate,
} from '../../infra/cost-report';

const estimates = profileEstimates();
const byName = (name: string) => estimates.find((e) => e.name.startsWith(name))!.estimate;
/** A Markdown table's cells, trimmed (Prettier may pad columns differently). */
const cells = (table: string) =>
  table
    .trim()
    .split('\n')
    .filter((line) => !/^\|\s*-/.test(line))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );

describe('npm run cost', () => {
  it("matches the README's table: the table is what the synthesized templates cost", () => {
    const readme = readFileSync(path.join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    const start = readme.indexOf(COST_TABLE_START);
    const end = readme.indexOf(COST_TABLE_END);
    expect(start).toBeGreaterThan(0);
    const documented = readme.slice(start + COST_TABLE_START.length, end);
    expect(cells(documented), 'run npm run cost -- --write').toEqual(cells(readmeCostTable()));
  });

  it('prices the lean profile under $35 idle, without proxy or Secrets Manager endpoint', () => {
    const lean = byName('lean');
    expect(lean.idleTotal).toBeLessThan(35);
    expect(lean.idle.map((line) => line.item)).not.toContain('RDS Proxy');
    const development = byName('development');
    expect(development.idle.find((line) => line.item === 'RDS Proxy')?.monthly).toBe(21.9);
    // The proxy, and the second zone of the Scheduler and SQS endpoints.
    expect(development.idleTotal - lean.idleTotal).toBeCloseTo(21.9 + 7.3 + 7.3 + 0.1, 2);
  });

  it('follows the template: a resource added is a line added', () => {
    const base: Template = {
      Resources: {
        Db: {
          Type: 'AWS::RDS::DBInstance',
          Properties: { DBInstanceClass: 'db.t4g.micro', AllocatedStorage: 20, MultiAZ: true },
        },
        Sweep: {
          Type: 'AWS::Lambda::Function',
          Properties: { Description: 'Sweeps due jobs', MemorySize: 512 },
        },
        RunJob: {
          Type: 'AWS::Lambda::Function',
          Properties: { Description: 'Runs one precise or one-off job', MemorySize: 1024 },
        },
      },
    };
    const plain = estimateCost(base);
    expect(plain.idleTotal).toBeCloseTo(2 * 0.016 * 730 + 2 * 20 * 0.115, 2);
    const withNat = estimateCost({
      Resources: { ...base.Resources, Nat: { Type: 'AWS::EC2::NatGateway' } },
    });
    expect(withNat.idleTotal - plain.idleTotal).toBeCloseTo(
      listPrices.natGatewayPerHour * listPrices.hoursPerMonth,
      2,
    );
    // run-job's memory drives the precise load: twice the memory, twice the duration charge.
    const half = estimateCost({
      Resources: {
        ...base.Resources,
        RunJob: {
          ...base.Resources.RunJob!,
          Properties: { Description: 'precise or one-off', MemorySize: 512 },
        },
      },
    });
    expect(half.preciseLoad).toBeLessThan(plain.preciseLoad);
  });

  it('prices alert delivery (-c alerts=true) at what README and docs/alerts.md state: its NAT gateway and that gateway’s public IPv4 address', () => {
    const withAlerts = estimateCost(synthesizeTemplate({ profile: 'development', alerts: 'true' }));
    const added = withAlerts.idleTotal - byName('development').idleTotal;
    expect(
      withAlerts.idle
        .filter((line) => !byName('development').idle.some((l) => l.item === line.item))
        .map((line) => line.item),
    ).toEqual(['NAT gateways', 'Public IPv4 addresses']);
    const root = path.join(import.meta.dirname, '..', '..');
    const stated = (file: string, heading: string) => {
      const text = readFileSync(path.join(root, file), 'utf8');
      const section = text.slice(text.indexOf(heading));
      const figure = /\*\*\$([\d.]+) a month\*\*/.exec(section.slice(0, section.indexOf('\n#', 1)));
      expect(figure, `${file}: a **$… a month** figure under ${heading}`).not.toBeNull();
      return Number(figure![1]);
    };
    expect(stated('README.md', '### Alerts in AWS')).toBeCloseTo(added, 2);
    expect(stated('docs/alerts.md', '## In AWS: the path out')).toBeCloseTo(added, 2);
  }, 120_000);
});
