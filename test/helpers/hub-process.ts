import { CONVEYOR_CLI, type ServerProcess, startServerProcess } from '../../src/bench/child-process.js';

export type HubProcess = ServerProcess;

/** Starts `conveyor <args>` as a real child process and waits for its "listening on" line. */
export function startHubProcess(args: string[], env: Record<string, string> = {}): Promise<HubProcess> {
  return startServerProcess(CONVEYOR_CLI, args, env);
}
