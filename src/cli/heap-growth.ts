import { setFlagsFromString } from 'node:v8';

/**
 * How far past its live objects the hub's heap may grow before V8 collects it: 50 %.
 *
 * Left to itself, V8 sizes the old generation for throughput, up to about four times what
 * survived the last full collection. A hub delivering a backlog promotes each event it holds
 * in a route's window, so its heap then sat at 120–180 MiB of mostly garbage for ~45 MiB live.
 * At 1.5× the collections come more often; under single-event ingest the main thread's CPU per
 * request did not change measurably (`docs/benchmarks.md`, memory).
 */
const HEAP_GROWING_PERCENT = 50;

/** The V8 flag; one the operator gave node on its command line is left as it is. */
const FLAG = '--heap-growing-percent';

/**
 * Applies the hub's heap growth to this process, for the long-running commands only (`start`,
 * `demo`): the flag is process-wide and read at every collection, so it takes effect at once
 * and for the writer threads too. Returns whether it was applied.
 */
export function limitHeapGrowth(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((arg) => arg.replace(/_/g, '-').startsWith(FLAG))) return false;
  setFlagsFromString(`${FLAG}=${HEAP_GROWING_PERCENT}`);
  return true;
}
