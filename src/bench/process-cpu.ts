import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Kernel clock ticks per second, the unit of the CPU times in /proc/<pid>/stat. */
const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** utime, stime, cutime, cstime and the parent's PID of one process, or null once it is gone. */
function readStat(pid: number): { ticks: number; ppid: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After "pid (command) " the fields count from 3 (state); the command may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const field = (n: number) => Number(fields[n - 3]);
    return { ticks: field(14) + field(15) + field(16) + field(17), ppid: field(4) };
  } catch {
    return null;
  }
}

/**
 * CPU seconds used so far by a process, its threads and its direct children (PostgreSQL runs a
 * process per connection). Children that exited are in the parent's cutime/cstime, so the
 * difference of two readings is the CPU used between them. Linux only.
 */
export function cpuSeconds(pid: number): number {
  let ticks = readStat(pid)?.ticks ?? 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const child = readStat(Number(entry));
    if (child?.ppid === pid) ticks += child.ticks;
  }
  return ticks / TICKS_PER_SECOND;
}

/** CPU seconds the whole machine has used (all cores, every process), from /proc/stat. */
export function machineCpuSeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] as string;
  // cpu  user nice system idle iowait irq softirq steal ...: everything but idle and iowait is use.
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = [user, nice, system, irq, softirq, steal].reduce<number>((sum, v) => sum + (v ?? 0), 0);
  return busy / TICKS_PER_SECOND;
}

/** CPU seconds this process has used (its children, the servers under test, are not counted). */
export function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/**
 * The CPU share of named processes over one or more timed spans (`start()` … `stop()`), each
 * read by its own function of CPU seconds. `shares()` gives percent of one core over all spans
 * together: 200 % is all of a 2-core machine.
 */
export function cpuMeter(sources: Record<string, () => number>) {
  const names = Object.keys(sources);
  const used = names.map(() => 0);
  let before: number[] = [];
  let startedAt = 0;
  let elapsed = 0;
  const read = () => names.map((name) => (sources[name] as () => number)());
  return {
    start(): void {
      before = read();
      startedAt = performance.now();
    },
    stop(): void {
      const after = read();
      elapsed += (performance.now() - startedAt) / 1000;
      after.forEach((value, i) => {
        used[i] = (used[i] as number) + value - (before[i] as number);
      });
    },
    shares(): Record<string, number> {
      return Object.fromEntries(
        names.map((name, i) => [name, elapsed ? (100 * (used[i] as number)) / elapsed : 0]),
      );
    },
  };
}
