import { readFile, stat } from 'node:fs/promises';
import {
  type CompactJWSHeaderParameters,
  type CryptoKey,
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  type FlattenedJWSInput,
  type JWTPayload,
  type JWTVerifyOptions,
  jwtVerify,
} from 'jose';
import type { JwtSettings } from './jwt-settings.js';

/** What a verified token says about its bearer. */
export interface JwtIdentity {
  readonly client: string;
  readonly scopes: string[];
  /** `null`: the token binds no plants, so every plant. */
  readonly plants: string[] | null;
  readonly supplierId: string | null;
}

/** A token was refused. The message is safe to show the client and never contains the token. */
export class JwtRejected extends Error {
  override readonly name = 'JwtRejected';
}

export interface JwtVerifierOptions {
  /** Clock for exp/nbf and for the JWKS file check, in ms. */
  now?: () => number;
  /**
   * How long a fetched JWKS is used before it is fetched again; default 10 minutes. jose times
   * this, and `cooldownMs`, on the wall clock, not on `now`.
   */
  cacheMaxAgeMs?: number;
  /** After a fetch, a token with an unknown kid does not fetch again for this long; default 30 s. */
  cooldownMs?: number;
}

/** Asymmetric only: refuses `none`, and HMAC signed with the public key as the secret. */
const ACCEPTED_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];

/** The signature part may be empty so an unsigned token reaches the verifier and is refused there. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

const FILE_CHECK_INTERVAL_MS = 1_000;

type KeyResolver = (header: CompactJWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>;

interface LoadedFile {
  readonly keys: KeyResolver;
  readonly mtimeMs: number;
  checkedAt: number;
}

/** Verifies bearer JWTs against the issuer's public keys and maps their claims to an identity. */
export class JwtVerifier {
  private readonly now: () => number;
  private readonly keys: KeyResolver;
  private file: LoadedFile | null = null;
  private fileLoading: Promise<KeyResolver> | null = null;

  constructor(
    private readonly settings: JwtSettings,
    options: JwtVerifierOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    if (settings.jwksUrl !== null) {
      const remote = createRemoteJWKSet(new URL(settings.jwksUrl), {
        cacheMaxAge: options.cacheMaxAgeMs ?? 600_000,
        cooldownDuration: options.cooldownMs ?? 30_000,
      });
      this.keys = guardKeySource(remote, "the issuer's JWKS could not be fetched");
    } else if (settings.jwksFile !== null) {
      const path = settings.jwksFile;
      this.keys = guardKeySource(
        async (header, token) => (await this.fileKeys(path))(header, token),
        'the JWKS file could not be read',
      );
    } else {
      throw new TypeError('JwtSettings need a jwksUrl or a jwksFile');
    }
  }

  /** Tells a JWT from an API key (`cvy_…`) without parsing it. */
  static looksLikeJwt(token: string): boolean {
    return JWT_SHAPE.test(token);
  }

  async verify(token: string): Promise<JwtIdentity> {
    let payload: JWTPayload;
    try {
      payload = await this.verifySignatureAndClaims(token);
    } catch (error) {
      throw this.rejection(error, token);
    }
    return identityFrom(payload, this.settings.scopeClaim);
  }

  private async verifySignatureAndClaims(token: string): Promise<JWTPayload> {
    const options: JWTVerifyOptions = {
      issuer: this.settings.issuer,
      audience: this.settings.audience,
      algorithms: ACCEPTED_ALGORITHMS,
      requiredClaims: ['exp'],
      clockTolerance: this.settings.clockToleranceSec,
      currentDate: new Date(this.now()),
    };
    try {
      return (await jwtVerify(token, this.keys, options)).payload;
    } catch (error) {
      if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
      // A token without a kid matches every key of its type; jose leaves trying each to us.
      for await (const key of error) {
        try {
          return (await jwtVerify(token, key, options)).payload;
        } catch (attempt) {
          if (!(attempt instanceof errors.JWSSignatureVerificationFailed)) throw attempt;
        }
      }
      throw new errors.JWSSignatureVerificationFailed();
    }
  }

  /** The file is stat'ed at most once a second and re-read only when its mtime changed. */
  private fileKeys(path: string): Promise<KeyResolver> {
    const file = this.file;
    if (file !== null && this.now() - file.checkedAt < FILE_CHECK_INTERVAL_MS)
      return Promise.resolve(file.keys);
    this.fileLoading ??= this.refreshFile(path).finally(() => {
      this.fileLoading = null;
    });
    return this.fileLoading;
  }

  private async refreshFile(path: string): Promise<KeyResolver> {
    const checkedAt = this.now();
    try {
      const { mtimeMs } = await stat(path);
      if (this.file !== null && this.file.mtimeMs === mtimeMs) {
        this.file.checkedAt = checkedAt;
      } else {
        const keys = createLocalJWKSet(JSON.parse(await readFile(path, 'utf8')));
        this.file = { keys, mtimeMs, checkedAt };
      }
      return this.file.keys;
    } catch {
      // Not remembered: the next token tries the file again.
      this.file = null;
      throw new JwtRejected('the JWKS file could not be read');
    }
  }

  private rejection(error: unknown, token: string): JwtRejected {
    if (error instanceof JwtRejected) return error;
    if (error instanceof errors.JWTExpired) return new JwtRejected('the token has expired');
    if (error instanceof errors.JWTClaimValidationFailed) {
      if (error.reason === 'missing') return new JwtRejected(`the token has no ${error.claim} claim`);
      switch (error.claim) {
        case 'iss':
          return new JwtRejected("the token's issuer is not trusted");
        case 'aud':
          return new JwtRejected(`the token's audience is not ${this.settings.audience}`);
        case 'nbf':
          return new JwtRejected('the token is not valid yet');
        default:
          return new JwtRejected(`the token's ${error.claim} claim is invalid`);
      }
    }
    if (error instanceof errors.JOSEAlgNotAllowed) {
      const alg = algorithmOf(token);
      return new JwtRejected(`the token's signing algorithm ${alg ? `${alg} ` : ''}is not accepted`);
    }
    if (error instanceof errors.JWSSignatureVerificationFailed) {
      return new JwtRejected("the token's signature does not verify");
    }
    if (error instanceof errors.JWKSNoMatchingKey) {
      return new JwtRejected("no key in the JWKS matches the token's kid");
    }
    if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
      return new JwtRejected('the token is malformed');
    }
    return new JwtRejected('the token could not be verified');
  }
}

/** Errors about which key fits the token pass through; anything else means the keys are unavailable. */
function guardKeySource(source: KeyResolver, unavailable: string): KeyResolver {
  return async (header, token) => {
    try {
      return await source(header, token);
    } catch (error) {
      if (
        error instanceof JwtRejected ||
        error instanceof errors.JWKSNoMatchingKey ||
        error instanceof errors.JWKSMultipleMatchingKeys ||
        error instanceof errors.JOSENotSupported
      ) {
        throw error;
      }
      throw new JwtRejected(unavailable);
    }
  };
}

/** The header's `alg`, if it is short and plain enough to quote back to the client. */
function algorithmOf(token: string): string | null {
  try {
    const { alg } = decodeProtectedHeader(token);
    return typeof alg === 'string' && /^[A-Za-z0-9+-]{1,20}$/.test(alg) ? alg : null;
  } catch {
    return null;
  }
}

function identityFrom(payload: JWTPayload, scopeClaim: string): JwtIdentity {
  const client = [payload['client_id'], payload.azp, payload.sub].find(
    (value): value is string => typeof value === 'string' && value !== '',
  );
  if (client === undefined) throw new JwtRejected('the token names no client (client_id, azp or sub)');
  const supplierId = payload['supplier_id'] ?? null;
  if (supplierId !== null && typeof supplierId !== 'string') {
    throw new JwtRejected("the token's supplier_id claim is not a string");
  }
  return {
    client,
    scopes: stringList(payload, scopeClaim) ?? [],
    plants: stringList(payload, 'plants'),
    supplierId,
  };
}

/**
 * A space-separated string or an array of strings; `null` when absent. Anything else is refused
 * rather than ignored, since a dropped `plants` claim would widen the token to every plant.
 */
function stringList(payload: JWTPayload, claim: string): string[] | null {
  const value = payload[claim];
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value.split(/\s+/).filter((item) => item !== '');
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return [...value];
  throw new JwtRejected(
    `the token's ${claim} claim is neither a space-separated string nor a list of strings`,
  );
}
