import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

const root = path.resolve(import.meta.dirname, '../..');

export interface ConsoleStack {
  /** Where the console is served: http://127.0.0.1:port */
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * `npm start`'s stack (runLocalStack, which builds the console when it is missing or stale) in a
 * child process, on the given database, with the built-ins and the browser tests' executors.
 */
export async function startConsoleStack(
  env: Record<string, string>,
  entry = 'test/browser/stack-entry.ts',
): Promise<ConsoleStack> {
  const child = spawn(
    process.execPath,
    ['--import', path.join(root, 'node_modules/tsx/dist/loader.mjs'), path.join(root, entry)],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PORT: '0',
        TICK_INTERVAL_SECONDS: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        output.push(line);
        try {
          const entry = JSON.parse(line) as { message: string; console?: string };
          if (entry.message === 'crm-cron is up') resolve((entry.console ?? '').replace(/\/$/, ''));
        } catch {
          // not a log line
        }
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    void exited.then((code) =>
      reject(new Error(`stack exited with ${code}: ${output.join('\n')}`)),
    );
  });
  if (!url.startsWith('http')) throw new Error(`the console was not built: ${output.join('\n')}`);
  return {
    url,
    child,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Debian's Chromium, headless, with nothing that reaches the network on its own. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
