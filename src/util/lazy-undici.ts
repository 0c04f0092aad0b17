/**
 * undici, the HTTP client, loads with the first client a hub makes rather than at start: it is
 * about 10 MiB of an idle hub's memory, and a hub without HTTP connectors never needs it.
 */
import type { Pool } from 'undici';

type Undici = typeof import('undici');

let loading: Promise<Undici> | null = null;

/** The undici module, loaded on the first call. */
export function loadUndici(): Promise<Undici> {
  loading ??= import('undici');
  return loading;
}

/** A keep-alive connection pool made on its first use; closing one never used loads nothing. */
export class LazyPool {
  private pool: Pool | null = null;
  private opening: Promise<Pool> | null = null;
  private closed = false;

  constructor(
    private readonly origin: string,
    private readonly options: Pool.Options,
  ) {}

  /** The pool (made now if this is its first use). */
  get(): Pool | Promise<Pool> {
    if (this.pool) return this.pool;
    this.opening ??= loadUndici().then(({ Pool: UndiciPool }) => {
      if (this.closed) throw new Error('the connection pool is closed');
      this.pool = new UndiciPool(this.origin, this.options);
      return this.pool;
    });
    return this.opening;
  }

  async destroy(): Promise<void> {
    this.closed = true;
    const pool = this.pool ?? (await this.opening?.catch(() => null)) ?? null;
    await pool?.destroy();
  }
}
