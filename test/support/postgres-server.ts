/**
 * A real, throwaway PostgreSQL server for the tests that need one (issue 16): a fresh cluster (initdb) in a temporary
 * folder, its own port on the loopback and its own socket folder, stopped and removed after the file's tests.
 *
 * Where the binaries come from: PG_BIN_DIR, else Debian's /usr/lib/postgresql/<version>/bin (15 first), else the
 * folder of an `initdb` on PATH. Without them the tests that need a server are skipped, saying why; under CI=true a
 * missing server is a failure instead (.ci/run installs Debian's postgresql package), so CI never passes without them.
 *
 * As root (CI, this machine), initdb and postgres refuse to run: they run as the `postgres` OS user, which owns the
 * temporary folder. The server is started with `setpriv --pdeathsig`, so a test worker that dies takes it along.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, existsSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { makeTempDir } from './tmp.js';

export interface TestPostgresServer {
  port: number;
  /** The postmaster's pid. */
  pid: number;
  /** The temporary folder holding its cluster and socket, removed by stop(). */
  dir: string;
  /** postgres://postgres@127.0.0.1:<port>/<database>, trusted (no password) on the loopback only. */
  urlFor(database: string): string;
  /** A new, empty database on this server; its URL. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

type Availability = { binDir: string } | { missing: string };

const REQUIRED = ['initdb', 'postgres'] as const;

function hasServerBinaries(dir: string): boolean {
  return REQUIRED.every((name) => existsSync(join(dir, name)));
}

/** Where the server binaries are, or why there are none. */
export function findPostgresBinaries(env: NodeJS.ProcessEnv = process.env): Availability {
  if (env.PG_BIN_DIR) {
    return hasServerBinaries(env.PG_BIN_DIR) ? { binDir: env.PG_BIN_DIR } : { missing: `PG_BIN_DIR=${env.PG_BIN_DIR} holds no initdb and postgres` };
  }
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((version) => /^\d+$/.test(version) && hasServerBinaries(join(debian, version, 'bin')))
      .sort((a, b) => (a === '15' ? -1 : b === '15' ? 1 : Number(b) - Number(a)));
    if (versions[0] !== undefined) return { binDir: join(debian, versions[0], 'bin') };
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && hasServerBinaries(dir)) return { binDir: dir };
  }
  return { missing: 'no PostgreSQL server binaries (initdb, postgres) in PG_BIN_DIR, /usr/lib/postgresql/*/bin or PATH; install Debian’s postgresql package' };
}

/** The binaries to test with; under CI a missing server throws, so the test file fails instead of skipping. */
export function postgresForTests(env: NodeJS.ProcessEnv = process.env): Availability {
  const found = findPostgresBinaries(env);
  if ('missing' in found && env.CI === 'true') throw new Error(`CI needs a PostgreSQL server for these tests: ${found.missing}.`);
  return found;
}

/** A loopback port no one listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no loopback port');
  return address.port;
}

/** The argv prefix that runs a server binary as the user it must run as, dying with its parent. */
function runAs(owner: { uid: number; gid: number } | undefined, dieWithParent: boolean): string[] {
  const user = owner ? ['--reuid', String(owner.uid), '--regid', String(owner.gid), '--init-groups'] : [];
  const death = dieWithParent ? ['--pdeathsig', 'QUIT'] : [];
  return [...user, ...death];
}

function postgresOsUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return { uid, gid };
  } catch {
    throw new Error('running as root, PostgreSQL must run as the postgres OS user, and there is none (Debian’s postgresql package makes it)');
  }
}

function runToEnd(binDir: string, owner: { uid: number; gid: number } | undefined, binary: string, args: string[]): void {
  const argv = [...runAs(owner, false), '--', join(binDir, binary), ...args];
  try {
    execFileSync('setpriv', argv, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`${binary} failed: ${stderr.trim() || String(error)}`);
  }
}

/** Resolves once the server logs that it accepts connections; rejects with its log if it exits first. */
async function waitUntilReady(child: ChildProcess): Promise<void> {
  let log = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('database system is ready to accept connections')) resolve();
    });
    child.once('exit', (code, signal) => reject(new Error(`postgres exited before it was ready (${String(code ?? signal)}):\n${log.slice(-2000)}`)));
  });
}

/**
 * How much a commit promises. `throwaway` (tests): nothing survives a crash of the machine, and nothing is fsynced.
 * `like-sqlite` (benchmarks): what the bot's SQLite (WAL, synchronous=NORMAL) promises, so the two compare fairly:
 * the data is fsynced and never corrupted, but a commit returns before its WAL record reaches the disk.
 * `max_connections` is raised too: four shards' pools of ten, the benchmark's and the migrations' connections.
 */
export type ServerDurability = 'throwaway' | 'like-sqlite';

const DURABILITY_SETTINGS: Record<ServerDurability, string[]> = {
  throwaway: ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off', 'shared_buffers=32MB'],
  'like-sqlite': ['fsync=on', 'synchronous_commit=off', 'full_page_writes=on', 'shared_buffers=128MB', 'max_connections=200'],
};

/** A fresh cluster on a free loopback port; `stop()` shuts it down and removes its files. */
export async function startPostgresServer(binDir: string, durability: ServerDurability = 'throwaway'): Promise<TestPostgresServer> {
  const { dir, cleanup } = makeTempDir('chatops-pg-');
  const owner = postgresOsUser();
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const dataDir = join(dir, 'data');
  try {
    // C collation: text sorts by bytes, as SQLite's BINARY does. initdb skips its fsync: a cluster half made is thrown away.
    runToEnd(binDir, owner, 'initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  } catch (error) {
    cleanup();
    throw error;
  }
  let child: ChildProcess | undefined;
  let port = 0;
  // A port found free can be taken before postgres binds it: try another, a few times.
  for (let attempt = 1; child === undefined; attempt += 1) {
    port = await freePort();
    const settings = ['listen_addresses=127.0.0.1', ...DURABILITY_SETTINGS[durability]];
    const argv = [...runAs(owner, true), '--', join(binDir, 'postgres'), '-D', dataDir, '-p', String(port), '-k', dir, ...settings.flatMap((s) => ['-c', s])];
    const started = spawn('setpriv', argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      await waitUntilReady(started);
      child = started;
    } catch (error) {
      if (attempt >= 3) {
        cleanup();
        throw error;
      }
    }
  }
  // Keeps reading the log, so a chatty server never blocks on a full pipe.
  child.stderr?.resume();
  const server = child;
  const exited = once(server, 'exit');
  let databases = 0;
  const urlFor = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    port,
    pid: server.pid!,
    dir,
    urlFor,
    createDatabase: async () => {
      databases += 1;
      const name = `test_${databases}`;
      const client = new pg.Client({ connectionString: urlFor('postgres') });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return urlFor(name);
    },
    stop: async () => {
      // SIGINT: PostgreSQL's fast shutdown (ends the sessions still open, without waiting for them).
      if (server.exitCode === null && server.signalCode === null) server.kill('SIGINT');
      await exited;
      cleanup();
    },
  };
}

/**
 * `describe` with one PostgreSQL server for its tests, started before them and stopped after; `server()` inside the
 * tests. Without server binaries (and outside CI) the block is one skipped test whose title says why.
 */
export function describeWithPostgres(name: string, body: (server: () => TestPostgresServer) => void): void {
  const found = postgresForTests();
  if ('missing' in found) {
    describe(name, () => {
      it.skip(`needs a PostgreSQL server: ${found.missing}`, () => undefined);
    });
    return;
  }
  describe(name, () => {
    let running: TestPostgresServer | undefined;
    beforeAll(async () => {
      running = await startPostgresServer(found.binDir);
    }, 60_000);
    afterAll(async () => {
      await running?.stop();
    });
    body(() => {
      if (!running) throw new Error('the PostgreSQL server did not start (see beforeAll)');
      return running;
    });
  });
}
