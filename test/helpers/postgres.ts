/**
 * A real PostgreSQL server for tests: Debian's binaries, a fresh cluster in a temp folder, trust
 * authentication, listening on 127.0.0.1 at a free port only. Stopped by its PID. `npm test` installs
 * the Debian package; without it a test fails naming the command to run.
 *
 * `CONVEYOR_TEST_PG` (a postgres:// URL whose user may create databases) makes `sharedPostgres()`
 * use that server instead of starting one.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { awaitOutput } from '../../src/bench/child-process.js';
import { freePort } from '../../src/util/free-port.js';
import { POSTGRESQL, postgresBinDir, requireDebianPackage } from './debian-package.js';

/** Where Debian's packages put each major version's binaries. */
const INITDB_TIMEOUT_MS = 120_000;
const READY_TIMEOUT_MS = 30_000;
const EXIT_TIMEOUT_MS = 10_000;
/** The superuser initdb creates, whoever runs it. */
const SUPERUSER = 'postgres';

/** What a test needs of a server it did not start itself. */
export interface PostgresHandle {
  /** Connection URL of the server's maintenance database, as the superuser. */
  readonly url: string;
  /** Creates an empty database named `name` plus a random suffix and returns its URL. */
  createDatabase(name: string): Promise<string>;
}

/** The PostgreSQL bin folder, or an error naming the command that installs it. */
export function ensurePostgres(): string {
  requireDebianPackage(POSTGRESQL);
  return postgresBinDir() as string;
}

/**
 * Who runs the server: PostgreSQL refuses root, so as root it is Debian's `postgres` system user
 * (the uid/gid are set on the spawned process itself, like runuser, so the PID we hold is the
 * postmaster's); otherwise the current user.
 */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => {
    const out = spawnSync('id', [flag, SUPERUSER], { encoding: 'utf8' });
    if (out.status !== 0) throw new Error(`no ${SUPERUSER} system user to run PostgreSQL as`);
    return Number(out.stdout.trim());
  };
  return { uid: id('-u'), gid: id('-g') };
}

const running = new Set<ChildProcess>();
const folders = new Set<string>();
// A test process that dies must not leave servers (or their clusters) behind.
process.once('exit', () => {
  for (const child of running) signalServer(child, 'SIGKILL');
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

/**
 * The postmaster and its children. Every backend and background worker leads its own process
 * group (PostgreSQL calls setsid in each child), so a group signal would miss them.
 */
/** Gone, or a zombie (it has released its memory; only its parent's reaping is left). */
function exited(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

function serverProcesses(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // After "pid (command) " come the state and then the parent's PID.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // It exited while we looked.
    }
  }
  return [pid, ...children];
}

/** Signals the server and every process it started. */
function signalServer(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  for (const pid of serverProcesses(child.pid)) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

async function createDatabaseAt(url: string, name: string): Promise<string> {
  const database = `${name.toLowerCase().replace(/[^a-z0-9_]/g, '_')}_${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${quoteIdent(database)}`);
  } finally {
    await client.end();
  }
  const target = new URL(url);
  target.pathname = `/${database}`;
  return target.toString();
}

/** One server: its port and its cluster stay the same across restarts. */
export class PostgresServer implements PostgresHandle {
  readonly port: number;
  readonly url: string;
  private readonly dir: string;
  private readonly binDir: string;
  private readonly user: { uid: number; gid: number } | undefined;
  private child: ChildProcess | null = null;

  private constructor(
    port: number,
    dir: string,
    binDir: string,
    user: { uid: number; gid: number } | undefined,
  ) {
    this.port = port;
    this.url = `postgres://${SUPERUSER}@127.0.0.1:${port}/postgres`;
    this.dir = dir;
    this.binDir = binDir;
    this.user = user;
  }

  /** Checks for PostgreSQL, creates a cluster in a temp folder and starts the server. */
  static async start(): Promise<PostgresServer> {
    const binDir = ensurePostgres();
    const user = serverUser();
    const dir = mkdtempSync(join(tmpdir(), 'conveyor-pg-'));
    folders.add(dir);
    mkdirSync(join(dir, 'socket'));
    if (user) {
      chownSync(dir, user.uid, user.gid);
      chownSync(join(dir, 'socket'), user.uid, user.gid);
    }
    const server = new PostgresServer(await freePort(), dir, binDir, user);
    const init = spawnSync(
      join(binDir, 'initdb'),
      [
        '-D',
        join(dir, 'data'),
        '-U',
        SUPERUSER,
        '--auth=trust',
        '--encoding=UTF8',
        '--locale=C',
        // Only skips initdb's own final flush of the fresh cluster: a test cluster that a crash
        // destroys is simply created again. The server itself runs with fsync on.
        '--no-sync',
      ],
      { encoding: 'utf8', timeout: INITDB_TIMEOUT_MS, ...(user ?? {}) },
    );
    if (init.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      folders.delete(dir);
      throw new Error(
        `initdb failed (${init.status ?? init.signal})\n${init.stdout}${init.stderr}`.slice(-4000),
      );
    }
    await server.resume();
    return server;
  }

  /** The PID of the running postmaster, if it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the server again on the same port with the same cluster (after `stop` or `kill`). */
  async resume(): Promise<void> {
    if (this.child) return;
    const child = spawn(
      join(this.binDir, 'postgres'),
      [
        '-D',
        join(this.dir, 'data'),
        '-c',
        'listen_addresses=127.0.0.1',
        '-p',
        String(this.port),
        '-k',
        join(this.dir, 'socket'),
      ],
      // Its own process group: a Ctrl-C meant for the tests does not shut it down behind their back.
      { stdio: ['ignore', 'ignore', 'pipe'], detached: true, ...(this.user ?? {}) },
    );
    this.child = child;
    running.add(child);
    await awaitOutput(child, {
      name: 'postgres',
      stream: 'stderr',
      // Logged once recovery is over and the listen socket is open.
      match: /database system is ready to accept connections/,
      timeoutMs: READY_TIMEOUT_MS,
      // Its backends too: each leads its own process group.
      kill: () => signalServer(child, 'SIGKILL'),
    }).catch((error: unknown) => {
      running.delete(child);
      this.child = null;
      throw error;
    });
    // Keep draining the log so the server never blocks on a full pipe.
    child.stderr!.resume();
    // A running server does not keep the test process alive; the exit hook kills what is left.
    child.unref();
    (child.stderr as unknown as { unref(): void }).unref();
    child.once('exit', () => {
      running.delete(child);
      if (this.child === child) this.child = null;
    });
  }

  createDatabase(name: string): Promise<string> {
    return createDatabaseAt(this.url, name);
  }

  /** Fast shutdown by PID (SIGINT: sessions are cut, the cluster is left clean); SIGKILL if it hangs. */
  async stop(): Promise<void> {
    await this.signal('SIGINT');
  }

  /** Kills the server and its backends outright, as a crash would; `resume`/`restart` recovers. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /**
   * Freezes the server and its backends (SIGSTOP): connections stay open and nothing answers, as
   * with a hung host or a network partition. `thaw` lets it go on.
   */
  freeze(): void {
    if (this.child) signalServer(this.child, 'SIGSTOP');
  }

  thaw(): void {
    if (this.child) signalServer(this.child, 'SIGCONT');
  }

  /** Stops and starts again: same port, same data. */
  async restart(): Promise<void> {
    await this.stop();
    await this.resume();
  }

  /** Stops the server and removes its cluster. */
  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
    folders.delete(this.dir);
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    // Backends outlive a killed postmaster for a moment; a restart before they are gone finds
    // their shared memory still attached and refuses to start.
    const backends = child.pid === undefined ? [] : serverProcesses(child.pid);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => signalServer(child, 'SIGKILL'), EXIT_TIMEOUT_MS);
      child.once('exit', () => {
        clearTimeout(timer);
        running.delete(child);
        resolve();
      });
      if (signal === 'SIGKILL') signalServer(child, signal);
      else child.kill(signal);
    });
    for (const deadline = Date.now() + EXIT_TIMEOUT_MS; Date.now() < deadline; ) {
      if (backends.every(exited)) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

let shared: Promise<PostgresHandle> | undefined;

/**
 * The server this test process shares: the one `CONVEYOR_TEST_PG` names, or one started on first
 * use and stopped when the process exits. Tests isolate themselves with `createDatabase`.
 */
export function sharedPostgres(): Promise<PostgresHandle> {
  if (shared) return shared;
  const external = process.env.CONVEYOR_TEST_PG;
  shared = external
    ? Promise.resolve({ url: external, createDatabase: (name: string) => createDatabaseAt(external, name) })
    : PostgresServer.start();
  return shared;
}
