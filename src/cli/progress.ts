import cliProgress from 'cli-progress';

/**
 * A progress bar on stderr for long CLI operations. Without a terminal it prints a line every
 * second instead, so logs of scripted runs show progress too.
 */
export function progressBar(label: string, total: number): { update(done: number): void; stop(): void } {
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} ({percentage}%) {eta_formatted} left`,
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 1000,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  // Without a terminal the bar only draws on a schedule; say at once that the work has started.
  if (!process.stderr.isTTY) process.stderr.write(`${label} [started] 0/${total}\n`);
  bar.start(total, 0);
  return {
    update: (done) => bar.update(Math.min(done, total)),
    stop: () => bar.stop(),
  };
}

/** Polls `probe` (which returns how much is done) until it reaches `total` or `timeoutMs` passes. */
export async function pollUntilDone(
  label: string,
  total: number,
  probe: () => Promise<number>,
  options: { intervalMs?: number; timeoutMs?: number } = {},
): Promise<number> {
  const bar = progressBar(label, total);
  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  let done = 0;
  try {
    while (done < total && Date.now() < deadline) {
      done = await probe();
      bar.update(done);
      if (done < total) await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250));
    }
  } finally {
    bar.stop();
  }
  return done;
}
