import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** The last few KiB the process wrote to stderr. */
  stderr(): string;
  /**
   * Sends a signal and waits for the process to exit; after `graceMs` it is killed with SIGKILL and
   * the promise rejects, so a hung shutdown fails loudly instead of hanging its caller.
   */
  stop(
    signal?: NodeJS.Signals,
    graceMs?: number,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts a Node script as a child process and waits for it to print `listening on <url>` (or `running on`). */
export async function startServerProcess(
  script: string,
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 20_000,
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, CONVEYOR_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // A server left running would keep the benchmark process (and its report) from ever ending.
      child.off('exit', onExit);
      child.kill('SIGKILL');
      reject(new Error(`${script} did not start in ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before listening: ${stderr}`));
    };
    child.once('exit', onExit);
    lines.on('line', (line) => {
      const match = /(?:listening on|running on) (https?:\/\/\S+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(match[1] as string);
      }
    });
  });
  return {
    child,
    url,
    stderr: () => stderr,
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null)
        return { code: child.exitCode, signal: child.signalCode };
      const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`${script} did not exit within ${graceMs} ms of ${signal}; stderr: ${stderr}`));
        }, graceMs);
      });
      try {
        const [code, sig] = await Promise.race([exited, deadline]);
        return { code, signal: sig };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Path of the `conveyor` CLI entry point of this build. */
export const CONVEYOR_CLI = new URL('../cli/main.js', import.meta.url).pathname;
