import type { FastifyReply, FastifyRequest } from 'fastify';

export interface SecurityHeadersOptions {
  /** The listener is HTTPS: only then is HSTS sent (browsers ignore it over plain HTTP anyway). */
  readonly tls: boolean;
  /** Where the Swagger UI page and its assets are served, e.g. '/docs'. */
  readonly docsPrefix: string;
  /** Where the web console's bundled assets are served, e.g. '/assets'; its pages are the HTML answers outside the docs. */
  readonly consoleAssetsPrefix?: string;
}

/** The API only ever answers JSON: nothing in a response may load, run or frame anything. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/**
 * The Swagger UI page loads its bundle, styles, favicons and the OpenAPI document from the hub
 * itself, and "Try it out" calls the API (connect-src). swagger-ui sets inline styles from its
 * React components, and its stylesheet draws icons from data: URIs. No inline script is needed:
 * @fastify/swagger-ui serves its initializer as a file.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The web console: its page, scripts and styles come from the hub itself, and it calls only the
 * hub's API. No inline script or style element: everything is a bundled file (the console sets
 * styles only through the DOM's style properties, which CSP allows).
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const STATIC_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['x-content-type-options', 'nosniff'],
  ['cache-control', 'no-store'],
  ['x-frame-options', 'DENY'],
  ['referrer-policy', 'no-referrer'],
  ['cross-origin-resource-policy', 'same-origin'],
];

/**
 * An onSend hook setting the security headers on every response, errors and 404s included.
 * Register it on the root instance so it covers every route.
 */
export function securityHeaders(
  options: SecurityHeadersOptions,
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const prefix = options.docsPrefix.replace(/\/+$/, '');
  if (!prefix.startsWith('/'))
    throw new RangeError(`docsPrefix must start with '/', got "${options.docsPrefix}"`);
  const headers: Array<readonly [string, string]> = [...STATIC_HEADERS];
  if (options.tls) headers.push(['strict-transport-security', 'max-age=31536000']);
  const isDocs = (url: string): boolean => {
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    // '/docs' and '/docs/…' are the page; '/docsx' is not.
    return path.startsWith(prefix) && (path.length === prefix.length || path[prefix.length] === '/');
  };
  const assets = options.consoleAssetsPrefix?.replace(/\/+$/, '');
  const isConsole = (url: string, reply: FastifyReply): boolean => {
    const path = url.split('?')[0] as string;
    if (assets !== undefined && path.startsWith(`${assets}/`)) return true;
    return String(reply.getHeader('content-type') ?? '').startsWith('text/html');
  };
  return async (request, reply) => {
    const docs = isDocs(request.url);
    const forConsole = !docs && isConsole(request.url, reply);
    // The console's hashed assets keep the long cache their route set; everything else is no-store.
    const cache = forConsole ? reply.getHeader('cache-control') : undefined;
    for (const [name, value] of headers) reply.header(name, value);
    if (cache !== undefined) reply.header('cache-control', cache);
    reply.header('content-security-policy', docs ? DOCS_CSP : forConsole ? CONSOLE_CSP : API_CSP);
  };
}
