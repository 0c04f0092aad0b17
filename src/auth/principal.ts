import type { RateLimit } from '../store/port.js';

/** The identity a request acts as, however it authenticated. */
export interface Principal {
  readonly client: string;
  readonly scopes: ReadonlySet<string>;
  /** `null`: every plant. */
  readonly plants: ReadonlySet<string> | null;
  /** Per-client request rate; `null`: none. */
  readonly rateLimit: RateLimit | null;
  /** A supplier's credential acts only on that supplier's ASNs. */
  readonly supplierId: string | null;
  /** How it proved who it is. */
  readonly via: 'api-key' | 'jwt';
}
