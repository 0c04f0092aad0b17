import type { BearerTokenVerifier } from '../api/auth-plugin.js';
import { ProblemError } from '../errors/problem.js';
import { JwtRejected, JwtVerifier } from './jwt.js';
import type { JwtSettings } from './jwt-settings.js';
import type { Principal } from './principal.js';

/** JWT bearer tokens as principals; a refused token is 401 with the reason, never the token. */
export function jwtBearer(settings: JwtSettings | null): BearerTokenVerifier {
  const verifier = settings ? new JwtVerifier(settings) : null;
  return {
    looksLikeToken: (token) => JwtVerifier.looksLikeJwt(token),
    async verify(token): Promise<Principal> {
      if (!verifier)
        throw new ProblemError(
          'unauthorized',
          'JWT bearer tokens are not accepted here (auth.jwt is not configured); use an API key',
        );
      try {
        const identity = await verifier.verify(token);
        return {
          client: identity.client,
          scopes: new Set(identity.scopes),
          plants: identity.plants === null ? null : new Set(identity.plants),
          rateLimit: null,
          supplierId: identity.supplierId,
          via: 'jwt',
        };
      } catch (error) {
        if (error instanceof JwtRejected) throw new ProblemError('unauthorized', error.message);
        throw error;
      }
    },
  };
}
