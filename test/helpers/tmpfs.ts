import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A small tmpfs of its own, to run out of space (or go read-only) for real. Mounting needs root:
 * without it the caller fails, saying what to run, rather than skipping.
 */
export class Tmpfs {
  private mounted = true;

  private constructor(readonly dir: string) {}

  static mount(sizeBytes: number): Tmpfs {
    if (process.getuid?.() !== 0)
      throw new Error(
        'this test mounts a tmpfs to fill it, which needs root: run it as root (sudo node scripts/test.mjs disk-full), or in the project container',
      );
    const dir = mkdtempSync(join(tmpdir(), 'conveyor-tmpfs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir]);
    return new Tmpfs(dir);
  }

  /** Makes the file system read-only (or read-write again) in place. */
  remount(mode: 'ro' | 'rw'): void {
    execFileSync('mount', ['-o', `remount,${mode}`, this.dir]);
  }

  unmount(): void {
    if (!this.mounted) return;
    this.mounted = false;
    // Lazy: a file a failed test left open must not keep the mount (and the test run) alive.
    execFileSync('umount', ['-l', this.dir]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
