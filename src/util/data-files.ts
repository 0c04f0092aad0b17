import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * A data file (the log, the embedded store) that cannot be used. The message names the file,
 * what is wrong and what to do; it is what `conveyor start` prints.
 */
export class DataFileError extends Error {
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DataFileError';
  }
}

/**
 * Words for any thrown value. A SQLite error raised in a worker thread reaches the main thread
 * as a bare `{ code }` object with no message, so the code stands in for it.
 */
export function describeCause(error: unknown): string {
  if (error instanceof Error && error.message) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code)
      ? `${error.message} (${code})`
      : error.message;
  }
  if (typeof error === 'object' && error !== null) {
    const { message, code } = error as { message?: unknown; code?: unknown };
    if (typeof message === 'string' && message) return message;
    if (typeof code === 'string') return code;
  }
  return String(error);
}

/**
 * Makes the file's directory and checks that this process may write both (SQLite also creates
 * the -wal and -shm files beside it). Without this check a read-only directory surfaces only as
 * SQLite's "unable to open database file".
 */
export function prepareWritableFile(path: string, what: string): void {
  const dir = dirname(path);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new DataFileError(
      path,
      `cannot create the directory ${dir} for ${what} ${path}: ${describeCause(error)}; create it or choose another --data directory`,
      { cause: error },
    );
  }
  for (const target of existsSync(path) ? [dir, path] : [dir]) {
    try {
      accessSync(target, constants.R_OK | constants.W_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why =
        code === 'EROFS'
          ? 'is on a read-only file system'
          : code === 'EACCES' || code === 'EPERM'
            ? 'is not writable by this user'
            : `cannot be used (${describeCause(error)})`;
      throw new DataFileError(
        path,
        `cannot open ${what} ${path}: ${target} ${why}; SQLite must write the file and its -wal and -shm files beside it. Make ${dir} writable (mount it read-write, fix its owner or mode) or choose another --data directory`,
        { cause: error },
      );
    }
  }
}
