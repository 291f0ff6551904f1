import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Log } from '../logger';

const root = path.resolve(import.meta.dirname, '../..');
const sources = path.join(root, 'console');
/** Where `npm run build:console` writes the console; gitignored, built on demand. */
export const consoleDist = path.join(sources, 'dist');

async function newestSource(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(
      newest,
      entry.isDirectory() ? await newestSource(full) : (await stat(full)).mtimeMs,
    );
  }
  return newest;
}

/** True when console/dist is missing or older than a file under console/. */
export async function consoleIsStale(): Promise<boolean> {
  const built = path.join(consoleDist, 'index.html');
  if (!existsSync(built)) return true;
  return (await newestSource(sources)) > (await stat(built)).mtimeMs;
}

/**
 * Builds the console with vite when it is missing or stale (a clean clone, an edited source), so
 * `npm start` and the browser tests always serve the current console. Builds into a folder of its
 * own and renames it into place, so processes starting together never serve a half-written build.
 * Returns false when it cannot build (vite absent: a production install); the API still works.
 */
export async function ensureConsoleBuilt(log: Log): Promise<boolean> {
  if (!(await consoleIsStale())) return true;
  const vite = path.join(root, 'node_modules/vite/bin/vite.js');
  if (!existsSync(vite)) {
    log.warn('the console is not built and vite is not installed: serving the API only');
    return false;
  }
  const staging = path.join(sources, `.dist-${process.pid}`);
  const retired = path.join(sources, `.dist-old-${process.pid}`);
  try {
    await promisify(execFile)(
      process.execPath,
      [vite, 'build', '--config', path.join(sources, 'vite.config.ts'), '--outDir', staging],
      { cwd: root },
    );
    await rename(consoleDist, retired).catch(() => {});
    await rename(staging, consoleDist).catch(() => {});
    return existsSync(path.join(consoleDist, 'index.html'));
  } catch (error) {
    log.warn('could not build the console: serving the API only', {
      error: (error as Error).message.split('\n')[0],
    });
    return false;
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(retired, { recursive: true, force: true });
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

// The console reads and writes only through the API on this origin; nothing else may load.
const CONSOLE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export interface StaticFile {
  status: 200;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * The console file a GET path names, or undefined (not a console path: the API answers).
 * `/` is index.html; hashed files under /assets/ are cached for good, index.html never.
 */
export async function consoleFile(dir: string, pathname: string): Promise<StaticFile | undefined> {
  const relative = pathname === '/' ? 'index.html' : pathname.slice(1);
  if (!/^[\w-]+(\/[\w.-]+)*\.\w+$/.test(relative) || relative.includes('..')) return undefined;
  const full = path.join(dir, relative);
  let body: Buffer;
  try {
    body = await readFile(full);
  } catch {
    return undefined;
  }
  const type = TYPES[path.extname(full)] ?? 'application/octet-stream';
  return {
    status: 200,
    body,
    headers: {
      'content-type': type,
      'cache-control': relative.startsWith('assets/')
        ? 'public, max-age=31536000, immutable'
        : 'no-cache',
      ...CONSOLE_HEADERS,
    },
  };
}
