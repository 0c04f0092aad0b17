/**
 * The Debian packages the tests need. `scripts/test.mjs` installs every missing one once, before any
 * test runs (as root; otherwise it names the command); test files only check that theirs is there
 * and fail with the exact command when it is not. Two test files installing at once would fail on
 * apt's lock.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** How long apt-get waits for another apt/dpkg to let go of its lock. */
const APT_LOCK_TIMEOUT_S = 120;
const APT_TIMEOUT_MS = 600_000;

export interface DebianPackage {
  /** The package name, e.g. `nats-server`. */
  readonly name: string;
  /** What is missing when it is not installed, e.g. `nats-server (no /usr/sbin/nats-server)`. */
  readonly missing: string;
  readonly installed: () => boolean;
  /** A system service the package starts; the tests never use it, so it is stopped. */
  readonly service?: string;
}

export const CHROMIUM_BINARY = '/usr/bin/chromium';
export const MOSQUITTO_BINARY = '/usr/sbin/mosquitto';
export const NATS_SERVER_BINARY = '/usr/sbin/nats-server';
export const XMLLINT_BINARY = '/usr/bin/xmllint';
const POSTGRES_ROOT = '/usr/lib/postgresql';

/** The newest installed PostgreSQL's bin folder (Debian keeps one per major version). */
export function postgresBinDir(): string | undefined {
  if (!existsSync(POSTGRES_ROOT)) return undefined;
  const majors = readdirSync(POSTGRES_ROOT)
    .filter((name) => /^\d+$/.test(name) && existsSync(join(POSTGRES_ROOT, name, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] === undefined ? undefined : join(POSTGRES_ROOT, majors[0], 'bin');
}

export const CHROMIUM: DebianPackage = {
  name: 'chromium',
  missing: `chromium (no ${CHROMIUM_BINARY})`,
  installed: () => existsSync(CHROMIUM_BINARY),
};
export const MOSQUITTO: DebianPackage = {
  name: 'mosquitto',
  missing: `mosquitto (no ${MOSQUITTO_BINARY})`,
  installed: () => existsSync(MOSQUITTO_BINARY),
  service: 'mosquitto',
};
export const NATS_SERVER: DebianPackage = {
  name: 'nats-server',
  missing: `nats-server (no ${NATS_SERVER_BINARY})`,
  installed: () => existsSync(NATS_SERVER_BINARY),
  service: 'nats-server',
};
export const POSTGRESQL: DebianPackage = {
  name: 'postgresql',
  missing: `PostgreSQL (no ${POSTGRES_ROOT}/*/bin/postgres)`,
  installed: () => postgresBinDir() !== undefined,
  service: 'postgresql',
};
/** xmllint, which validates B2MML documents against their XSDs. */
export const LIBXML2_UTILS: DebianPackage = {
  name: 'libxml2-utils',
  missing: `xmllint (no ${XMLLINT_BINARY})`,
  installed: () => existsSync(XMLLINT_BINARY),
};

/** Every Debian package some test needs. */
export const TEST_PACKAGES: readonly DebianPackage[] = [
  CHROMIUM,
  MOSQUITTO,
  NATS_SERVER,
  POSTGRESQL,
  LIBXML2_UTILS,
];

/** The command that installs `packages`, as a person would type it. */
export function installCommand(packages: readonly DebianPackage[]): string {
  return `sudo apt-get install -y ${packages.map((p) => p.name).join(' ')}`;
}

/** Throws, naming the command to run, unless the package is installed. */
export function requireDebianPackage(pkg: DebianPackage): void {
  if (pkg.installed()) return;
  throw new Error(
    `${pkg.missing} is not installed; run: ${installCommand([pkg])} (npm test installs it when run as root)`,
  );
}

/** Runs apt-get with `args`; answers whether it succeeded and the end of its output. */
export type AptRunner = (args: readonly string[]) => { ok: boolean; output: string };

const runApt: AptRunner = (args) => {
  const result = spawnSync('apt-get', args, {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    encoding: 'utf8',
    timeout: APT_TIMEOUT_MS,
  });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`;
  return { ok: result.status === 0, output: output.slice(-2000) };
};

/**
 * Installs the missing ones of `packages` in one apt-get run, waiting for apt's lock, updating the
 * package lists only when the plain install fails; stops the services they start. Throws naming the
 * command when not root or when the install fails. Returns the names it installed.
 */
export function installDebianPackages(
  packages: readonly DebianPackage[] = TEST_PACKAGES,
  options: { apt?: AptRunner; root?: boolean } = {},
): string[] {
  const missing = packages.filter((p) => !p.installed());
  if (missing.length === 0) return [];
  const command = installCommand(missing);
  if (!(options.root ?? process.getuid?.() === 0))
    throw new Error(`not installed: ${missing.map((p) => p.missing).join(', ')}; run: ${command}`);
  const apt = options.apt ?? runApt;
  // Another apt or dpkg (a second test run, unattended upgrades) holds the lock: wait, do not fail.
  const lock = ['-o', `DPkg::Lock::Timeout=${APT_LOCK_TIMEOUT_S}`];
  const install = [...lock, 'install', '-y', '-q', '--no-install-recommends', ...missing.map((p) => p.name)];
  let result = apt(install);
  if (!result.ok) {
    apt([...lock, 'update', '-q']);
    result = apt(install);
  }
  const still = missing.filter((p) => !p.installed());
  if (still.length > 0)
    throw new Error(
      `installing ${still.map((p) => p.name).join(' ')} failed; run: ${command}\n${result.output}`,
    );
  for (const pkg of missing)
    if (pkg.service) spawnSync('service', [pkg.service, 'stop'], { stdio: 'ignore', timeout: 30_000 });
  return missing.map((p) => p.name);
}
