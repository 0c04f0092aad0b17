import { resolve } from 'node:path';
import { parseDuration } from '../util/duration.js';

/** `auth.jwt` as written in the configuration file. */
export interface RawJwtSettings {
  issuer: string;
  audience: string;
  jwksUrl?: string;
  jwksFile?: string;
  scopeClaim?: string;
  clockTolerance?: string;
}

/** How bearer JWTs are verified: whom to trust, and where that issuer's public keys are. */
export interface JwtSettings {
  readonly issuer: string;
  readonly audience: string;
  /** Exactly one of `jwksUrl` and `jwksFile` is set. */
  readonly jwksUrl: string | null;
  /** Absolute path. */
  readonly jwksFile: string | null;
  readonly scopeClaim: string;
  readonly clockToleranceSec: number;
}

const DEFAULT_SCOPE_CLAIM = 'scope';
const DEFAULT_CLOCK_TOLERANCE = '30s';
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Checks `auth.jwt` and fills in defaults. Returns `null` when JWT auth is not configured or
 * anything is wrong; each fault is added to `problems`.
 */
export function compileJwtSettings(
  raw: RawJwtSettings | undefined,
  baseDir: string,
  problems: Array<{ path: string; message: string }>,
): JwtSettings | null {
  if (raw === undefined) return null;
  const found = problems.length;

  const hasUrl = raw.jwksUrl !== undefined;
  const hasFile = raw.jwksFile !== undefined;
  if (hasUrl === hasFile) {
    problems.push({
      path: 'auth.jwt.jwksUrl',
      message: hasUrl
        ? 'set either jwksUrl or jwksFile, not both'
        : "set jwksUrl (the issuer's JWKS endpoint) or jwksFile (a JWKS on disk)",
    });
  }
  if (hasUrl) checkJwksUrl(raw.jwksUrl as string, problems);

  let clockToleranceSec = 0;
  try {
    clockToleranceSec = parseDuration(raw.clockTolerance ?? DEFAULT_CLOCK_TOLERANCE) / 1000;
  } catch (error) {
    problems.push({ path: 'auth.jwt.clockTolerance', message: (error as Error).message });
  }

  if (problems.length > found) return null;
  return {
    issuer: raw.issuer,
    audience: raw.audience,
    jwksUrl: raw.jwksUrl ?? null,
    jwksFile: raw.jwksFile === undefined ? null : resolve(baseDir, raw.jwksFile),
    scopeClaim: raw.scopeClaim ?? DEFAULT_SCOPE_CLAIM,
    clockToleranceSec,
  };
}

/** Keys fetched over plain HTTP could be swapped in transit; only loopback is exempt. */
function checkJwksUrl(text: string, problems: Array<{ path: string; message: string }>): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    problems.push({ path: 'auth.jwt.jwksUrl', message: `"${text}" is not a URL` });
    return;
  }
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return;
  problems.push({
    path: 'auth.jwt.jwksUrl',
    message:
      url.protocol === 'http:'
        ? `fetch the JWKS over https; plain http is allowed only from a loopback host, not ${url.hostname}`
        : `fetch the JWKS over https, not ${url.protocol.slice(0, -1)}`,
  });
}
