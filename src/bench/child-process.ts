import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';

/** How long output written just before an exit may take to arrive, so the error can show it. */
const OUTPUT_AFTER_EXIT_MS = 1_000;

export interface ReadinessOptions {
  /** Names the process in errors, e.g. `nats-server n1`. */
  readonly name: string;
  /** Which output carries the readiness line. */
  readonly stream: 'stdout' | 'stderr';
  /** Found in the output once the process is ready (matched against the last 8 KiB). */
  readonly match: RegExp;
  readonly timeoutMs: number;
  /** What the error shows of the process's output. @default the watched stream's last 8 KiB */
  readonly output?: () => string;
  /** Stops a process that failed to become ready. @default SIGKILL to its PID */
  readonly kill?: () => void;
}

/**
 * Waits until the child writes `match`, watching it meanwhile: when it cannot be spawned, exits
 * first, or is not ready within `timeoutMs`, it is killed by its PID and the promise rejects at once
 * with its output, so a test fails in seconds with the reason rather than hanging. The stream keeps
 * flowing afterwards, so a chatty process never blocks on a full pipe.
 */
export function awaitOutput(child: ChildProcess, options: ReadinessOptions): Promise<RegExpExecArray> {
  const stream = child[options.stream];
  if (!stream) return Promise.reject(new Error(`${options.name}: its ${options.stream} is not piped`));
  return new Promise((resolve, reject) => {
    let text = '';
    let exitTimer: NodeJS.Timeout | undefined;
    const settle = () => {
      clearTimeout(timer);
      clearTimeout(exitTimer);
      child.off('exit', onExit);
      child.off('close', onClose);
      child.off('error', onError);
      stream.off('data', onData);
    };
    const fail = (why: string) => {
      settle();
      (options.kill ?? (() => child.kill('SIGKILL')))();
      const output = (options.output?.() ?? text).trim();
      reject(
        new Error(
          `${options.name} ${why}${
            output
              ? `; its output:
${output}`
              : ' and wrote nothing'
          }`,
        ),
      );
    };
    let exited = '';
    const onData = (chunk: string | Buffer) => {
      text = (text + chunk.toString()).slice(-8_000);
      const found = exited ? null : options.match.exec(text);
      if (found) {
        settle();
        resolve(found);
      }
    };
    // 'close' comes once its output has been read; a grandchild holding the pipe must not stall us.
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      exited = `exited (${signal ?? `code ${code}`}) before it was ready`;
      exitTimer = setTimeout(() => fail(exited), OUTPUT_AFTER_EXIT_MS);
    };
    const onClose = () => fail(exited || 'closed its output before it was ready');
    const onError = (error: Error) => fail(`could not be started: ${error.message}`);
    const timer = setTimeout(() => fail(`was not ready within ${options.timeoutMs} ms`), options.timeoutMs);
    child.once('exit', onExit);
    child.once('close', onClose);
    child.once('error', onError);
    stream.setEncoding('utf8');
    stream.on('data', onData);
  });
}

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
  const ready = await awaitOutput(child, {
    name: script,
    stream: 'stdout',
    // The whole line: a URL split over two reads must not be taken half.
    match: /(?:listening on|running on) (https?:\/\/\S+)[^\n]*\n/,
    timeoutMs,
    output: () => stderr,
  });
  const url = ready[1] as string;
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
