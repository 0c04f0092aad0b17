import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { ApiKeyVerifier } from '../auth/api-keys.js';
import type { ClientPolicies } from '../auth/client-policy.js';
import type { Principal } from '../auth/principal.js';
import { ProblemError } from '../errors/problem.js';
import { TokenBucket } from '../util/token-bucket.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** Routes that answer without credentials (probes). */
    public?: boolean;
  }
}

/** Verifies bearer tokens that are JWTs (as opposed to API keys). */
export interface BearerTokenVerifier {
  looksLikeToken(token: string): boolean;
  /** The principal, or throws a ProblemError('unauthorized') whose detail is safe to show. */
  verify(token: string): Promise<Principal>;
}

export interface AuthPluginOptions {
  readonly apiKeys: ApiKeyVerifier;
  readonly jwt?: BearerTokenVerifier | null;
  readonly policies: ClientPolicies;
  readonly publicPrefixes?: readonly string[];
  readonly now?: () => number;
}

/** Why a request's credentials were refused: `missing-credentials`, `unknown-key`, `invalid-token`. */
const denials = new WeakMap<FastifyRequest, string>();

/** Why the request's credentials were refused, when they were (for the denial audit). */
export function denialReason(request: FastifyRequest): string | undefined {
  return denials.get(request);
}

function refuse(request: FastifyRequest, reason: string, detail: string): never {
  denials.set(request, reason);
  throw new ProblemError('unauthorized', detail);
}

/** Whether the principal holds a scope; `admin` holds every scope. */
export function hasScope(principal: Principal, scope: string): boolean {
  return principal.scopes.has('admin') || principal.scopes.has(scope);
}

export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal)
    throw new ProblemError('unauthorized', 'send Authorization: Bearer <api key or JWT>');
  return request.principal;
}

export function requireScope(request: FastifyRequest, scope: string): Principal {
  const principal = requirePrincipal(request);
  if (!hasScope(principal, scope)) {
    throw new ProblemError(
      'forbidden',
      `this call needs the "${scope}" scope; client "${principal.client}" does not have it`,
    );
  }
  return principal;
}

/**
 * Per-client request rate: each client's own token bucket, checked before the body is read, so
 * a flooding client is turned away cheaply and the others keep their share of the hub.
 */
class ClientRateLimiter {
  private readonly buckets = new Map<string, { bucket: TokenBucket; perSecond: number; burst: number }>();

  constructor(private readonly now: () => number) {}

  check(principal: Principal): void {
    const limit = principal.rateLimit;
    if (limit === null) return;
    let entry = this.buckets.get(principal.client);
    if (!entry || entry.perSecond !== limit.perSecond || entry.burst !== limit.burst) {
      entry = { bucket: new TokenBucket(limit.perSecond, limit.burst, this.now()), ...limit };
      this.buckets.set(principal.client, entry);
    }
    const wait = entry.bucket.take(1, this.now());
    if (wait > 0) {
      throw new ProblemError(
        'rate-limited',
        `client "${principal.client}" is limited to ${limit.perSecond} requests/s (burst ${limit.burst}); retry later`,
        { retryAfterSeconds: wait, extensions: { client: principal.client } },
      );
    }
  }
}

/** Authenticates every request except those whose route config says `public`, then applies the client's rate limit. */
export const authPlugin = fp(async (app: FastifyInstance, options: AuthPluginOptions) => {
  const publicPrefixes = options.publicPrefixes ?? [];
  const limiter = new ClientRateLimiter(options.now ?? Date.now);
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config?.public) return;
    const path = request.url.split('?')[0] as string;
    if (publicPrefixes.some((p) => path === p || path.startsWith(`${p}/`))) return;
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match)
      refuse(
        request,
        'missing-credentials',
        'missing credentials; send Authorization: Bearer <api key or JWT>',
      );
    const token = match[1] as string;
    let principal: Principal | null;
    if (options.jwt?.looksLikeToken(token)) {
      try {
        principal = await options.jwt.verify(token);
      } catch (error) {
        denials.set(request, 'invalid-token');
        throw error;
      }
    } else {
      principal = await options.apiKeys.verify(token);
      if (!principal) refuse(request, 'unknown-key', 'the API key is unknown or revoked');
    }
    request.principal = options.policies.apply(principal);
    limiter.check(request.principal);
  });
});
