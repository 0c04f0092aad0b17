/**
 * A real Debian mosquitto for tests: 127.0.0.1, a free port, anonymous access, and persistence in
 * a temp folder so that persistent sessions (and the messages queued for them) survive a restart.
 * Stopped by its PID. `npm test` installs the Debian package; without it a test fails naming the
 * command to run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { awaitOutput } from '../../src/bench/child-process.js';
import { freePort } from '../../src/util/free-port.js';
import { MOSQUITTO, MOSQUITTO_BINARY, requireDebianPackage } from './debian-package.js';

/** Where Debian's package puts the broker. */
export { freePort, MOSQUITTO_BINARY };

const READY_TIMEOUT_MS = 10_000;
const EXIT_TIMEOUT_MS = 5_000;

/** Throws, naming the command that installs it, when the package is missing. */
export function ensureMosquitto(): void {
  requireDebianPackage(MOSQUITTO);
}

const running = new Set<ChildProcess>();
// A test process that dies must not leave brokers behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** One broker: its port stays the same across restarts, and so does its persistence folder. */
export class MosquittoBroker {
  readonly port: number;
  readonly url: string;
  private readonly dir: string;
  private child: ChildProcess | null = null;

  private constructor(port: number, dir: string) {
    this.port = port;
    this.url = `mqtt://127.0.0.1:${port}`;
    this.dir = dir;
  }

  /** Checks for mosquitto, writes the config, and starts the broker. */
  static async start(): Promise<MosquittoBroker> {
    ensureMosquitto();
    const dir = mkdtempSync(join(tmpdir(), 'conveyor-mosquitto-'));
    const broker = new MosquittoBroker(await freePort(), dir);
    mkdirSync(join(dir, 'data'));
    writeFileSync(
      join(dir, 'mosquitto.conf'),
      [
        `listener ${broker.port} 127.0.0.1`,
        'allow_anonymous true',
        'persistence true',
        `persistence_location ${join(dir, 'data')}/`,
        // As root mosquitto would switch to the `mosquitto` user, which cannot write the temp folder.
        `user ${userInfo().username}`,
        'log_dest stderr',
        'log_type error',
        'log_type warning',
        'log_type notice',
        // Carries the "running" line that says the listener is open.
        'log_type information',
        // Room for the contract's 300-message bursts queued for a stopped session.
        'max_queued_messages 10000',
        '',
      ].join('\n'),
    );
    await broker.resume();
    return broker;
  }

  /** The PID of the running broker, if it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the broker again on the same port with the same persistence (after `stop`). */
  async resume(): Promise<void> {
    if (this.child) return;
    const child = spawn(MOSQUITTO_BINARY, ['-c', join(this.dir, 'mosquitto.conf')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    running.add(child);
    await awaitOutput(child, {
      name: 'mosquitto',
      stream: 'stderr',
      // Printed once every listener is open.
      match: /mosquitto version \S+ running/,
      timeoutMs: READY_TIMEOUT_MS,
    }).catch((error: unknown) => {
      running.delete(child);
      this.child = null;
      throw error;
    });
    child.stderr!.resume();
    child.once('exit', () => {
      running.delete(child);
      if (this.child === child) this.child = null;
    });
  }

  /** Stops the broker by its PID (SIGTERM, so it writes its persistence file; SIGKILL if it hangs). */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
      child.once('exit', () => {
        clearTimeout(timer);
        running.delete(child);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }

  /** Freezes the broker (SIGSTOP): connections stay open, nothing is answered until `unfreeze`. */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  unfreeze(): void {
    this.child?.kill('SIGCONT');
  }

  /** Stops and starts again: same port, same persisted sessions. */
  async restart(): Promise<void> {
    await this.stop();
    await this.resume();
  }

  /** Stops the broker and removes its folder. */
  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
