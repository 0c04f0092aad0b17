import { readFileSync } from 'node:fs';

/** Resident set size of a process in MiB, from /proc/<pid>/status (VmRSS); null once it is gone. Linux only. */
export function rssMiB(pid: number): number | null {
  try {
    const found = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return found ? Number(found[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Samples a process's RSS every `everyMs` for `forMs` and gives the highest and the last reading
 * (MiB), so a figure shows both the peak a workload reaches and where it settles.
 */
export async function sampleRss(
  pid: number,
  forMs: number,
  everyMs = 200,
): Promise<{ peak: number; last: number }> {
  let peak = 0;
  let last = 0;
  const until = performance.now() + forMs;
  while (performance.now() < until) {
    const now = rssMiB(pid);
    if (now === null) throw new Error(`process ${pid} exited while its memory was measured`);
    last = now;
    peak = Math.max(peak, now);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return { peak, last };
}
