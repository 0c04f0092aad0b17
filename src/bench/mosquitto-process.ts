/**
 * A Debian mosquitto for the benchmarks: 127.0.0.1, a free port, anonymous access, no persistence,
 * started from a temp config and stopped by its PID.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../util/free-port.js';
import { awaitOutput } from './child-process.js';

/** Where Debian's package puts the broker. */
export const MOSQUITTO_BINARY = '/usr/sbin/mosquitto';

const READY_TIMEOUT_MS = 10_000;
const EXIT_TIMEOUT_MS = 5_000;

export interface MosquittoOptions {
  /** Unacknowledged QoS 1 messages per client in each direction. @default 100 */
  readonly maxInflight?: number;
  /** QoS 1 messages the broker queues per client beyond those in flight. @default 100000 */
  readonly maxQueued?: number;
}

export interface MosquittoProcess {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** SIGTERM by PID (SIGKILL after 5 s), then removes the temp folder. */
  stop(): Promise<void>;
}

/** Starts mosquitto and resolves once its listener is open. */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<MosquittoProcess> {
  if (!existsSync(MOSQUITTO_BINARY))
    throw new Error(`mosquitto is not installed (no ${MOSQUITTO_BINARY}); run: apt-get install -y mosquitto`);
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-bench-mosquitto-'));
  const port = await freePort();
  const config = join(dir, 'mosquitto.conf');
  writeFileSync(
    config,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      // As root mosquitto would switch to the `mosquitto` user; the temp config belongs to this one.
      `user ${userInfo().username}`,
      `max_inflight_messages ${options.maxInflight ?? 100}`,
      // The default (1000) drops QoS 1 messages once a slow subscriber is that far behind.
      `max_queued_messages ${options.maxQueued ?? 100_000}`,
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      // Carries the "running" line that says the listener is open.
      'log_type information',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(MOSQUITTO_BINARY, ['-c', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const kill = () => child.kill('SIGKILL');
  // A benchmark process that dies must not leave the broker behind.
  process.once('exit', kill);
  try {
    await awaitOutput(child, {
      name: 'mosquitto',
      stream: 'stderr',
      // Printed once every listener is open.
      match: /mosquitto version \S+ running/,
      timeoutMs: READY_TIMEOUT_MS,
      kill,
    });
  } catch (error) {
    kill();
    process.off('exit', kill);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  // Keep draining stderr so the broker never blocks on a full pipe.
  child.stderr?.resume();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    pid: child.pid as number,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(kill, EXIT_TIMEOUT_MS);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        });
      }
      process.off('exit', kill);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
