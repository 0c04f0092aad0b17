import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONVEYOR_CLI, type ServerProcess, startServerProcess } from './child-process.js';

/** The admin key every benchmarked hub is started with. */
export const BENCH_KEY = `cvy_bench-${'x'.repeat(40)}`;

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  ceiling: { name: string; value: number } | null;
  ratio: number | null;
  note?: string;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function result(
  name: string,
  value: number,
  unit: string,
  ceiling: { name: string; value: number } | null,
  higherIsBetter = true,
): BenchResult {
  const ratio =
    ceiling === null || ceiling.value === 0
      ? null
      : higherIsBetter
        ? value / ceiling.value
        : ceiling.value / value;
  return {
    name,
    value: round(value),
    unit,
    ceiling: ceiling ? { name: ceiling.name, value: round(ceiling.value) } : null,
    ratio: ratio === null ? null : round(ratio, 3),
  };
}

/**
 * A freshly started hub spends its first seconds under load compiling its hot paths (on a 2-core
 * machine the compiler threads compete with the load): latency figures are taken after this much
 * traffic at the measured rate, so they describe a hub in service, not one starting.
 */
export const STEADY_STATE_WARMUP_MS = 3000;

/** Runs a hub as its own process (as users run it) for the duration of `fn`. */
export async function withHub<T>(
  dataDir: string,
  fn: (hub: ServerProcess, host: string, port: number) => Promise<T>,
  configYaml?: string,
): Promise<T> {
  const args = ['start', '--data', dataDir, '--port', '0'];
  if (configYaml !== undefined) {
    mkdirSync(dataDir, { recursive: true });
    const file = join(dataDir, 'conveyor.yaml');
    writeFileSync(file, configYaml);
    args.push('--config', file);
  }
  const hub = await startServerProcess(CONVEYOR_CLI, args, {
    CONVEYOR_ADMIN_KEY: BENCH_KEY,
    CONVEYOR_LOG_LEVEL: 'error',
  });
  try {
    const { hostname, port } = new URL(hub.url);
    return await fn(hub, hostname, Number(port));
  } finally {
    // A hub stops within 10 s even under load and mid-replay (its own deadline is 8 s); one that
    // hangs fails its group, not the suite.
    await hub.stop('SIGTERM', 10_000);
  }
}

/** A benchmark group that failed, and why. */
export interface BenchFailure {
  readonly group: string;
  readonly error: string;
}

/**
 * Runs benchmark groups so that one failing does not lose the others: its error is recorded in
 * `failures` (and told to `progress`), and the caller goes on with the next group.
 */
export function groupGuard(
  failures: BenchFailure[],
  progress: (line: string) => void,
): (group: string, run: () => Promise<void>) => Promise<void> {
  return async (group, run) => {
    try {
      await run();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      failures.push({ group, error: message });
      progress(`${group}: FAILED: ${message}`);
    }
  };
}
