import pg from 'pg';
import { isUnavailable, StoreUnavailableError } from '../store-errors.js';

/** How long a call waits for a connection before the store counts as unavailable. */
const CONNECT_TIMEOUT_MS = 2_000;
/** Server-side limit of one statement: state queries are small, so a slow one means trouble. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 5_000;
/** The client waits this much longer, for a server that stopped answering without closing the socket. */
const QUERY_TIMEOUT_MARGIN_MS = 1_000;

/** BIGINT positions and millisecond timestamps stay far below 2^53, so they are read as numbers. */
const INT8_OID = 20;
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
};

/** What the repositories need of a connection: one query at a time. */
export interface Queryable {
  query<R extends pg.QueryResultRow>(text: string, params?: readonly unknown[]): Promise<pg.QueryResult<R>>;
}

function translate(error: unknown): unknown {
  if (error instanceof StoreUnavailableError || !isUnavailable(error)) return error;
  const reason = error instanceof Error && error.message ? error.message : String(error);
  return new StoreUnavailableError(`PostgreSQL state store unavailable: ${reason}`, { cause: error });
}

/**
 * A connection pool whose failures to reach the server come out as `StoreUnavailableError`, and
 * whose every call is bounded in time, so a down database fails requests fast instead of hanging them.
 */
export class PgDatabase implements Queryable {
  private readonly pool: pg.Pool;

  constructor(
    url: string,
    options: {
      max?: number;
      statementTimeoutMs?: number;
      /** Session settings of every connection, as `-c name=value` options (PostgreSQL's `options`). */
      settings?: Readonly<Record<string, string>>;
    } = {},
  ) {
    const statementTimeout = options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
    const settings = Object.entries(options.settings ?? {});
    this.pool = new pg.Pool({
      ...(settings.length > 0 ? { options: settings.map(([k, v]) => `-c ${k}=${v}`).join(' ') } : {}),
      connectionString: url,
      max: options.max ?? 10,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      statement_timeout: statementTimeout,
      query_timeout: statementTimeout + QUERY_TIMEOUT_MARGIN_MS,
      idleTimeoutMillis: 30_000,
      types,
    });
    // An idle connection dropped by the server (restart, failover) is removed from the pool; the
    // next call reconnects or fails with StoreUnavailableError. Without a listener it would crash the process.
    this.pool.on('error', () => {});
  }

  async query<R extends pg.QueryResultRow>(
    text: string,
    params: readonly unknown[] = [],
  ): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, params as unknown[]);
    } catch (error) {
      throw translate(error);
    }
  }

  /**
   * Runs `fn` in one transaction on one connection, committing when it resolves and rolling back
   * when it throws. `timeoutMs` lifts the per-statement limit for long work (migrations).
   */
  async transaction<T>(fn: (tx: Queryable) => Promise<T>, timeoutMs?: number): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw translate(error);
    }
    const tx: Queryable = {
      query: <R extends pg.QueryResultRow>(text: string, params: readonly unknown[] = []) => {
        // node-postgres reads a per-query `query_timeout`; its type declarations omit it.
        const config: pg.QueryConfig & { query_timeout?: number } = { text, values: params as unknown[] };
        if (timeoutMs !== undefined) config.query_timeout = timeoutMs;
        return client.query<R>(config);
      },
    };
    let broken: unknown;
    try {
      await tx.query('BEGIN');
      if (timeoutMs !== undefined) await tx.query(`SET LOCAL statement_timeout = ${Math.trunc(timeoutMs)}`);
      const result = await fn(tx);
      await tx.query('COMMIT');
      return result;
    } catch (error) {
      await tx.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken = rollbackError;
      });
      throw translate(error);
    } finally {
      // A connection that failed its rollback is in an unknown state: drop it rather than reuse it.
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
