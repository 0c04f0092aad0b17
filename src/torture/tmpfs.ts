import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A size-limited tmpfs, so a data folder can really run out of space. Mounting needs root: without
 * it, this throws with the exact command to run (a disk-full run is never skipped quietly).
 */
export class Tmpfs {
  private mounted = false;

  private constructor(readonly dir: string) {}

  static mount(dir: string, sizeMiB: number): Tmpfs {
    mkdirSync(dir, { recursive: true });
    const args = ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir];
    if (process.getuid?.() !== 0)
      throw new Error(
        `the disk-full scenario mounts a tmpfs and needs root; run the tests as root, or first: sudo mount ${args.join(' ')}`,
      );
    execFileSync('mount', args, { stdio: 'pipe' });
    const fs = new Tmpfs(dir);
    fs.mounted = true;
    return fs;
  }

  /** Bytes still free for files. */
  free(): number {
    const s = statfsSync(this.dir);
    return s.bavail * s.bsize;
  }

  /** Fills the free space but `leaveBytes` with a ballast file; returns its path. */
  fill(leaveBytes = 0): string {
    const path = join(this.dir, 'ballast');
    const fd = openSync(path, 'a');
    const chunk = Buffer.alloc(1 << 20, 0x2a);
    try {
      for (;;) {
        const room = this.free() - leaveBytes;
        if (room <= 0) break;
        try {
          writeSync(fd, chunk, 0, Math.min(chunk.length, room));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw error;
        }
      }
    } finally {
      closeSync(fd);
    }
    return path;
  }

  /** Frees the space `fill` took. */
  empty(): void {
    rmSync(join(this.dir, 'ballast'), { force: true });
  }

  /** Unmounts (lazily, in case a killed process still holds a file open there). */
  unmount(): void {
    if (!this.mounted) return;
    this.mounted = false;
    execFileSync('umount', ['-l', this.dir], { stdio: 'pipe' });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
