import type { ClientConfig } from '../config/index.js';
import type { Principal } from './principal.js';

/**
 * The `clients:` section of the config: a client named there gets its scopes, plants and rate
 * limit from the config, however it authenticates. An API key of that name carries exactly the
 * configured grants; a JWT naming that client keeps only the scopes and plants both the token
 * and the config grant, so neither the identity provider nor the hub can widen the other.
 */
export class ClientPolicies {
  private readonly byName: ReadonlyMap<string, ClientConfig>;

  constructor(clients: readonly ClientConfig[]) {
    this.byName = new Map(clients.map((c) => [c.name, c]));
  }

  apply(principal: Principal): Principal {
    const policy = this.byName.get(principal.client);
    if (!policy) return principal;
    const configured = new Set(policy.scopes);
    const plants = policy.plants === null ? null : new Set(policy.plants);
    if (principal.via === 'api-key') {
      return {
        ...principal,
        scopes: configured,
        plants,
        rateLimit: policy.rateLimit ?? principal.rateLimit,
      };
    }
    return {
      ...principal,
      scopes: new Set([...principal.scopes].filter((s) => configured.has(s))),
      plants: intersect(principal.plants, plants),
      rateLimit: policy.rateLimit ?? principal.rateLimit,
    };
  }
}

/** Plant bindings combine by intersection; `null` (unbound) is the neutral element. */
function intersect(a: ReadonlySet<string> | null, b: ReadonlySet<string> | null): ReadonlySet<string> | null {
  if (a === null) return b;
  if (b === null) return a;
  return new Set([...a].filter((p) => b.has(p)));
}
