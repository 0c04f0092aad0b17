import type { FastifyReply, FastifyRequest } from 'fastify';

export interface SecurityHeadersOptions {
  /** The listener is HTTPS: only then is HSTS sent (browsers ignore it over plain HTTP anyway). */
  readonly tls: boolean;
  /** Where the Swagger UI page and its assets are served, e.g. '/docs'. */
  readonly docsPrefix: string;
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
  return async (request, reply) => {
    for (const [name, value] of headers) reply.header(name, value);
    reply.header('content-security-policy', isDocs(request.url) ? DOCS_CSP : API_CSP);
  };
}
