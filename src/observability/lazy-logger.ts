import type { FastifyBaseLogger } from 'fastify';

type Bindings = Record<string, unknown>;
type ChildOptions = Parameters<FastifyBaseLogger['child']>[1];

/**
 * A child logger that is built only when it first logs. Every request gets one (its request id,
 * its trace id), yet nearly all requests never log: building a pino child is the costly part
 * (its bindings are serialised up front), so it waits until a line is actually written.
 */
export class LazyChildLogger {
  private real: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindingsOf: Bindings,
    private readonly options?: ChildOptions,
  ) {}

  protected resolve(): FastifyBaseLogger {
    if (this.real === undefined) {
      // A lazy parent builds its own child first: the bindings chain the way pino's would.
      const parent = this.parent instanceof LazyChildLogger ? this.parent.resolve() : this.parent;
      this.real = parent.child(this.bindingsOf, this.options);
    }
    return this.real;
  }

  get level(): string {
    return this.real?.level ?? this.options?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.resolve().level = level;
  }

  /** pino's own methods, for code that reaches past fastify's logger interface. */
  isLevelEnabled(level: string): boolean {
    const real = this.resolve() as unknown as { isLevelEnabled(level: string): boolean };
    return real.isLevelEnabled(level);
  }

  bindings(): Bindings {
    return (this.resolve() as unknown as { bindings(): Bindings }).bindings();
  }

  child(bindings: Bindings, options?: ChildOptions): FastifyBaseLogger {
    return new LazyChildLogger(
      this as unknown as FastifyBaseLogger,
      bindings,
      options,
    ) as unknown as FastifyBaseLogger;
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  silent(): void {}

  private write(level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace', args: unknown[]): void {
    const real = this.resolve();
    (real[level] as (...a: unknown[]) => void).apply(real, args);
  }
}

/** Fastify's `childLoggerFactory`: request loggers that cost nothing until they write. */
export function lazyChildLoggerFactory(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildOptions,
): FastifyBaseLogger {
  return new LazyChildLogger(logger, bindings, options) as unknown as FastifyBaseLogger;
}
