import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { ApiKeyVerifier, Principal } from '../auth/api-keys.js';
import { ProblemError } from '../errors/problem.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** Routes that answer without credentials (probes). */
    public?: boolean;
  }
}

/** Whether the principal holds a scope; `admin` holds every scope. */
export function hasScope(principal: Principal, scope: string): boolean {
  return principal.scopes.has('admin') || principal.scopes.has(scope);
}

export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw new ProblemError('unauthorized', 'send Authorization: Bearer <api key>');
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

/** Authenticates every request except those whose route config says `public`. */
export const authPlugin = fp(
  async (app: FastifyInstance, options: { verifier: ApiKeyVerifier; publicPrefixes?: readonly string[] }) => {
    const publicPrefixes = options.publicPrefixes ?? [];
    app.decorateRequest('principal', null);
    app.addHook('onRequest', async (request) => {
      if (request.routeOptions.config?.public) return;
      const path = request.url.split('?')[0] as string;
      if (publicPrefixes.some((p) => path === p || path.startsWith(`${p}/`))) return;
      const header = request.headers.authorization;
      const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
      if (!match)
        throw new ProblemError('unauthorized', 'missing credentials; send Authorization: Bearer <api key>');
      const principal = await options.verifier.verify(match[1] as string);
      if (!principal) throw new ProblemError('unauthorized', 'the API key is unknown or revoked');
      request.principal = principal;
    });
  },
);
