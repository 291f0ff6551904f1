import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { median } from './report';

export interface BundleResult {
  name: string;
  /** Size of index.mjs, bytes (the source map not counted). */
  bytes: number;
  /**
   * Median module-init wall time over fresh processes, milliseconds, with
   * NODE_OPTIONS=--enable-source-maps as the stack sets it on every function...
   */
  initMs: number;
  /** ...the CPU time of that init... */
  initCpuMs: number;
  /** Wall and CPU time without source maps; measured for the largest bundle only. */
  initNoMapsMs?: number;
  initNoMapsCpuMs?: number;
  metafile: Metafile;
  outfile: string;
}

export interface BundleOptions {
  target: string;
  external: string[];
  /** Where the options come from. */
  source: string;
}

const root = path.resolve(import.meta.dirname, '..');
const INFRA_FUNCTIONS = 'infra/functions.ts';

/**
 * The esbuild target and external modules the CDK stack bundles with, read from the
 * NodejsFunction `bundling` options in infra/functions.ts (they change as the stack does); the
 * defaults of the benchmark brief when that file or those options are missing.
 */
export async function cdkBundleOptions(): Promise<BundleOptions> {
  const text = await readFile(path.join(root, INFRA_FUNCTIONS), 'utf8').catch(() => undefined);
  const bundling = text?.slice(text.indexOf('bundling:'));
  const externals = bundling ? /externalModules:\s*\[([^\]]*)\]/.exec(bundling) : null;
  const target = bundling ? /target:\s*'([^']+)'/.exec(bundling) : null;
  if (!externals) return { target: 'node22', external: ['@aws-sdk/*'], source: 'defaults' };
  return {
    target: target?.[1] ?? 'node22',
    external: [...externals[1]!.matchAll(/'([^']+)'/g)].map((match) => match[1]!),
    source: INFRA_FUNCTIONS,
  };
}

/**
 * Bundles every functions/*.ts the way the CDK's NodejsFunction does for infra/functions.ts
 * (format esm, minify, linked source map without inlined sources, main fields module,main, the createRequire banner, and
 * its target and external modules), then times module init in fresh Node processes. External
 * modules resolve to this repository's node_modules, as they resolve to the runtime's copy on
 * Lambda.
 */
export async function benchBundles(
  databaseUrl: string,
  options: { coldStarts: number; bundling: BundleOptions },
): Promise<BundleResult[]> {
  const outRoot = await mkdtemp(path.join(tmpdir(), 'crm-cron-bundles-'));
  try {
    await symlink(path.join(root, 'node_modules'), path.join(outRoot, 'node_modules'), 'dir');
    const names = (await readdir(path.join(root, 'functions')))
      .filter((file) => file.endsWith('.ts'))
      .map((file) => file.slice(0, -3))
      .sort();
    const results: BundleResult[] = [];
    for (const name of names) {
      const outfile = path.join(outRoot, name, 'index.mjs');
      const built = await build({
        entryPoints: [path.join(root, 'functions', `${name}.ts`)],
        outfile,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: options.bundling.target,
        minify: true,
        sourcemap: true,
        sourcesContent: false,
        mainFields: ['module', 'main'],
        external: options.bundling.external,
        banner: {
          js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
        },
        metafile: true,
        logLevel: 'error',
      });
      const { size } = await stat(outfile);
      const deployed: InitTime[] = [];
      for (let i = 0; i < options.coldStarts; i += 1) {
        deployed.push(await timeInit(outfile, databaseUrl, true));
      }
      results.push({
        name,
        bytes: size,
        initMs: median(deployed.map((time) => time.wallMs)),
        initCpuMs: median(deployed.map((time) => time.cpuMs)),
        metafile: built.metafile,
        outfile,
      });
    }
    // What the source maps cost, on the largest bundle.
    const largest = [...results].sort((a, b) => b.bytes - a.bytes)[0];
    if (largest) {
      const plain: InitTime[] = [];
      for (let i = 0; i < options.coldStarts; i += 1) {
        plain.push(await timeInit(largest.outfile, databaseUrl, false));
      }
      largest.initNoMapsMs = median(plain.map((time) => time.wallMs));
      largest.initNoMapsCpuMs = median(plain.map((time) => time.cpuMs));
    }
    return results;
  } finally {
    await rm(outRoot, { recursive: true, force: true });
  }
}

interface InitTime {
  wallMs: number;
  cpuMs: number;
}

/** Module init of one bundle in a new process: the time `await import()` takes. */
function timeInit(bundle: string, databaseUrl: string, sourceMaps: boolean): Promise<InitTime> {
  const code = `
    const cpu = process.cpuUsage();
    const started = performance.now();
    await import(${JSON.stringify(pathToFileURL(bundle).href)});
    const wallMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    process.stdout.write(JSON.stringify({ wallMs, cpuMs: (used.user + used.system) / 1000 }));
    process.exit(0);`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'error',
    POWERTOOLS_SERVICE_NAME: 'crm-cron',
    POWERTOOLS_METRICS_NAMESPACE: 'CrmCron',
    ...(sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      env,
      cwd: path.dirname(bundle),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let errors = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      try {
        if (code !== 0) throw new Error(`exit code ${code}`);
        resolve(JSON.parse(output) as InitTime);
      } catch (error) {
        reject(
          new Error(
            `init of ${bundle} failed (${(error as Error).message}): ${errors.trim().slice(0, 500)}`,
          ),
        );
      }
    });
  });
}

/** The inputs contributing most bytes to a bundle, by file and by npm package. */
export function biggestInputs(
  metafile: Metafile,
  top: number,
): { files: [string, number][]; packages: [string, number][] } {
  const output = Object.values(metafile.outputs).find((entry) => entry.entryPoint !== undefined);
  const inputs = Object.entries(output?.inputs ?? {}).map(
    ([file, info]) => [file, info.bytesInOutput] as [string, number],
  );
  const packages = new Map<string, number>();
  for (const [file, bytes] of inputs) {
    // The innermost node_modules names the package that holds the file.
    const matches = [...file.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
    const name = matches.at(-1)?.[1] ?? '(this repository)';
    packages.set(name, (packages.get(name) ?? 0) + bytes);
  }
  const byBytes = (a: [string, number], b: [string, number]) => b[1] - a[1];
  return {
    files: inputs.sort(byBytes).slice(0, top),
    packages: [...packages].sort(byBytes).slice(0, top),
  };
}
