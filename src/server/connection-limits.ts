import type { IncomingMessage } from 'node:http';
import type { Server, Socket } from 'node:net';

/** The HTTP server options that bound how long a client may take (see docs/security.md). */
export interface ServerTimeouts {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
}

/**
 * Node's options for `http.createServer` / `https.createServer`. Node enforces the header and request
 * timeouts on a sweep every `connectionsCheckingInterval` (30 s by default), so a 10 s header timeout
 * would really be up to 40 s: the sweep runs four times per header timeout, at most once a second.
 */
export function nodeServerOptions(timeouts: ServerTimeouts): {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  connectionsCheckingInterval: number;
} {
  return {
    headersTimeout: timeouts.headersTimeoutMs,
    requestTimeout: timeouts.requestTimeoutMs,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(timeouts.headersTimeoutMs / 4))),
  };
}

/**
 * Guards the HTTP server's sockets at the TCP level (before TLS):
 * - any connection beyond `maxPerAddress` open ones from the same remote address is closed as soon
 *   as it is accepted, so one client cannot use up the sockets every other client needs;
 * - a connection whose first request has not arrived `firstRequestTimeoutMs` after it connected is
 *   closed. Node's header timeout only starts with the first byte, so a client that connects and
 *   sends nothing would otherwise hold its socket for ever.
 * @returns how many connections were refused over the cap so far (for tests and metrics).
 */
export function guardConnections(
  server: Server,
  limits: { readonly maxPerAddress: number; readonly firstRequestTimeoutMs: number },
): () => number {
  const open = new Map<string, number>();
  /** First-request timers by `address|port`: the raw socket and the TLS socket share those. */
  const waiting = new Map<string, NodeJS.Timeout>();
  let refused = 0;
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const count = open.get(address) ?? 0;
    if (count >= limits.maxPerAddress) {
      refused++;
      socket.destroy();
      return;
    }
    open.set(address, count + 1);
    const key = `${address}|${socket.remotePort}`;
    const timer = setTimeout(() => socket.destroy(), limits.firstRequestTimeoutMs);
    timer.unref();
    waiting.set(key, timer);
    socket.once('close', () => {
      clearTimeout(timer);
      waiting.delete(key);
      const left = (open.get(address) ?? 1) - 1;
      if (left === 0) open.delete(address);
      else open.set(address, left);
    });
  });
  server.on('request', (request: IncomingMessage) => {
    const key = `${request.socket.remoteAddress ?? 'unknown'}|${request.socket.remotePort}`;
    const timer = waiting.get(key);
    if (timer === undefined) return;
    clearTimeout(timer);
    waiting.delete(key);
  });
  return () => refused;
}
