import { parseDuration } from '../../util/duration.js';
import { type CompiledCircuitBreaker, compileCircuitBreaker } from '../framework/common.js';

/** A compiled `kind: http` connector: where to send, how long to wait, when to open the circuit. */
export interface HttpConnectorSettings {
  readonly name: string;
  /** Webhook target for route deliveries. */
  readonly url: string | null;
  /** Base of request/reply calls (commands). */
  readonly baseUrl: string | null;
  readonly timeoutMs: number | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly circuitBreaker: CompiledCircuitBreaker;
  /** Parallel connections to the endpoint. @default 16 (deliveries: the lanes' concurrency) */
  readonly connections: number;
  /** Whether `connections` was set in the config (deliveries size an unset pool by their lanes). */
  readonly connectionsSet: boolean;
  /** HTTP/1.1 requests in flight per connection; more than 1 only where configured. @default 1 */
  readonly pipelining: number;
}

function checkUrl(
  value: unknown,
  path: string,
  problems: Array<{ path: string; message: string }>,
): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string') {
    problems.push({ path, message: 'must be an http(s) URL' });
    return null;
  }
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
    return value;
  } catch {
    problems.push({ path, message: `"${value}" is not an http(s) URL` });
    return null;
  }
}

/** Validates and compiles an http connector's config; problems are reported by key path. */
export function compileHttpConnector(
  name: string,
  raw: Record<string, unknown>,
  problems: Array<{ path: string; message: string }>,
): HttpConnectorSettings {
  const at = `connectors.${name}`;
  const known = new Set([
    'kind',
    'url',
    'baseUrl',
    'timeout',
    'headers',
    'circuitBreaker',
    'connections',
    'pipelining',
  ]);
  for (const key of Object.keys(raw)) {
    if (!known.has(key))
      problems.push({
        path: `${at}.${key}`,
        message: `unknown key; expected one of: ${[...known].join(', ')}`,
      });
  }
  const url = checkUrl(raw.url, `${at}.url`, problems);
  const baseUrl = checkUrl(raw.baseUrl, `${at}.baseUrl`, problems);
  if (url === null && baseUrl === null && raw.url === undefined && raw.baseUrl === undefined) {
    problems.push({
      path: `${at}.url`,
      message: 'an http connector needs url (deliveries) or baseUrl (commands)',
    });
  }
  const duration = (value: unknown, path: string): number | null => {
    if (value === undefined) return null;
    try {
      return parseDuration(String(value));
    } catch (error) {
      problems.push({ path, message: (error as Error).message });
      return null;
    }
  };
  const timeoutMs = duration(raw.timeout, `${at}.timeout`);
  const circuitBreaker = compileCircuitBreaker(raw.circuitBreaker, `${at}.circuitBreaker`, problems);
  const headers: Record<string, string> = {};
  if (raw.headers !== undefined) {
    if (raw.headers === null || typeof raw.headers !== 'object')
      problems.push({ path: `${at}.headers`, message: 'must be a mapping of header names to strings' });
    else for (const [k, v] of Object.entries(raw.headers)) headers[k.toLowerCase()] = String(v);
  }
  const connections = raw.connections === undefined ? 16 : Number(raw.connections);
  if (!Number.isInteger(connections) || connections < 1 || connections > 1024) {
    problems.push({ path: `${at}.connections`, message: 'must be an integer from 1 to 1024' });
  }
  const pipelining = raw.pipelining === undefined ? 1 : Number(raw.pipelining);
  if (!Number.isInteger(pipelining) || pipelining < 1 || pipelining > 100) {
    problems.push({
      path: `${at}.pipelining`,
      message: 'must be an integer from 1 (no pipelining) to 100; set it only for endpoints that support it',
    });
  }
  return {
    name,
    url,
    baseUrl,
    timeoutMs,
    headers,
    circuitBreaker,
    connections,
    connectionsSet: raw.connections !== undefined,
    pipelining,
  };
}
