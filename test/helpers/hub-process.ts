import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

const CLI = new URL('../../src/cli/main.js', import.meta.url).pathname;

export interface HubProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Sends a signal and waits for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `conveyor <args>` as a real child process and waits for its "listening on" line. */
export async function startHubProcess(args: string[], env: Record<string, string> = {}): Promise<HubProcess> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, CONVEYOR_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error(`hub did not start in 20 s: ${stderr}`)), 20_000);
    lines.on('line', (line) => {
      const match = /(?:listening on|running on) (http:\/\/\S+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`hub exited with ${code} before listening: ${stderr}`));
    });
  });
  child.removeAllListeners('exit');
  return {
    child,
    url,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null)
        return { code: child.exitCode, signal: child.signalCode };
      child.kill(signal);
      const [code, sig] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
      return { code, signal: sig };
    },
  };
}
