import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const root = path.resolve(import.meta.dirname, '../..');
const tsx = path.join(root, 'node_modules/tsx/dist/loader.mjs');

export interface LogLine {
  level?: string;
  message: string;
  [key: string]: unknown;
}

/** `npm start` against DATABASE_URL (the entry point, minus npm), sweeping every `tick` seconds. */
export function startAgainst(databaseUrl: string, tick = 1) {
  const child = spawn(process.execPath, ['--import', tsx, path.join(root, 'lib/local/main.ts')], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: '0',
      DATABASE_URL: databaseUrl,
      TICK_INTERVAL_SECONDS: String(tick),
    },
  });
  const lines: LogLine[] = [];
  const raw: string[] = [];
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      raw.push(line);
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        lines.push({ message: line });
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => raw.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));

  /** Waits (polling, bounded) until `count` lines match. */
  const waitFor = async (predicate: (line: LogLine) => boolean, count = 1): Promise<LogLine[]> => {
    for (let attempt = 0; attempt < 1200; attempt += 1) {
      const matching = lines.filter(predicate);
      if (matching.length >= count) return matching;
      if (child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`gave up waiting; output so far:\n${raw.join('\n')}`);
  };
  const stop = async () => {
    child.kill('SIGINT');
    return exited;
  };
  return { child, lines, raw, waitFor, stop };
}

/** `npm run adopt -- <args>` against DATABASE_URL. */
export async function runAdopt(databaseUrl: string, args: string[]) {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', tsx, path.join(root, 'scripts/adopt.ts'), ...args],
    {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: databaseUrl },
    },
  );
  return stdout;
}
