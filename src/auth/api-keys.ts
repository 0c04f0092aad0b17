import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ClientRecord, ClientRepository, RateLimit } from '../store/port.js';
import type { Principal } from './principal.js';

/** Keys look like `cvy_<43 base64url chars>`: 32 random bytes; the first 8 characters after the marker are the lookup prefix. */
const KEY_MARKER = 'cvy_';
const PREFIX_LENGTH = 8;

export function generateApiKey(): string {
  return KEY_MARKER + randomBytes(32).toString('base64url');
}

export function keyPrefixOf(key: string): string {
  return key.startsWith(KEY_MARKER)
    ? key.slice(KEY_MARKER.length, KEY_MARKER.length + PREFIX_LENGTH)
    : key.slice(0, PREFIX_LENGTH);
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Builds the record to store for a new client: only the prefix and the hash of its key. */
export function clientRecordFor(
  name: string,
  key: string,
  scopes: readonly string[],
  plants: readonly string[] | null,
  now: number,
  extra: { rateLimit?: RateLimit | null; supplierId?: string | null } = {},
): ClientRecord {
  return {
    name,
    keyPrefix: keyPrefixOf(key),
    keyHash: hashApiKey(key),
    scopes: [...scopes],
    plants,
    createdAt: now,
    revokedAt: null,
    rateLimit: extra.rateLimit ?? null,
    supplierId: extra.supplierId ?? null,
  };
}

export type { Principal } from './principal.js';

/**
 * Verifies API keys against the store. Verified keys are cached briefly so the hot ingest path
 * does not hit the store per request; revocation through `forget` takes effect at once here.
 */
export class ApiKeyVerifier {
  private readonly cache = new Map<string, { principal: Principal; until: number }>();

  constructor(
    private readonly clients: ClientRepository,
    private readonly cacheMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  async verify(key: string): Promise<Principal | null> {
    const hit = this.cache.get(key);
    if (hit && hit.until > this.now()) return hit.principal;
    if (key.length < 16 || key.length > 256) return null;
    const hash = Buffer.from(hashApiKey(key), 'hex');
    for (const record of await this.clients.findByPrefix(keyPrefixOf(key))) {
      const stored = Buffer.from(record.keyHash, 'hex');
      if (record.revokedAt === null && stored.length === hash.length && timingSafeEqual(stored, hash)) {
        const principal: Principal = {
          client: record.name,
          scopes: new Set(record.scopes),
          plants: record.plants === null ? null : new Set(record.plants),
          rateLimit: record.rateLimit,
          supplierId: record.supplierId,
          via: 'api-key',
        };
        if (this.cache.size > 10_000) this.cache.clear();
        this.cache.set(key, { principal, until: this.now() + this.cacheMs });
        return principal;
      }
    }
    return null;
  }

  /** Drops cached verifications of a client (after revoke or key rotation). */
  forget(clientName: string): void {
    for (const [key, entry] of this.cache) if (entry.principal.client === clientName) this.cache.delete(key);
  }
}
