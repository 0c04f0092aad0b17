/**
 * Debian's Chromium driven by playwright-core, for the console's browser tests. `npm test` installs
 * the Debian package; without it a test fails naming the command to run.
 * Never downloads a browser. Each launch gets a fresh, empty profile in a temp folder.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_BINARY, requireDebianPackage } from './debian-package.js';

/** Where Debian's package puts the browser. */
export { CHROMIUM_BINARY };

const BUILD_TIMEOUT_MS = 180_000;

/** The repository root (this file runs from dist/test/helpers). */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The Chromium binary, or an error naming the command that installs it. */
export function ensureChromium(): string {
  requireDebianPackage(CHROMIUM);
  return CHROMIUM_BINARY;
}

function newestUnder(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    newest = Math.max(newest, stat.isDirectory() ? newestUnder(path) : stat.mtimeMs);
  }
  return newest;
}

/**
 * Builds the console into dist/console when it is missing or older than its sources, so the tests
 * never drive a stale bundle. Returns the folder the hub serves.
 */
export function ensureConsoleBuilt(): string {
  const out = join(ROOT, 'dist', 'console');
  const index = join(out, 'index.html');
  const sources = join(ROOT, 'console');
  const newest = newestUnder(sources);
  if (existsSync(index) && statSync(index).mtimeMs >= newest) return out;
  const vite = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const result = spawnSync(process.execPath, [vite, 'build', '--config', join(sources, 'vite.config.ts')], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: BUILD_TIMEOUT_MS,
  });
  if (result.status !== 0 || !existsSync(index)) {
    throw new Error(`building the console failed (npm run build:console):\n${result.stdout}${result.stderr}`);
  }
  return out;
}

/** Chromium with a fresh profile; `close()` ends it and removes the profile. */
export interface TestBrowser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(
  options: { viewport?: { width: number; height: number } } = {},
): Promise<TestBrowser> {
  const executablePath = ensureChromium();
  const profile = mkdtempSync(join(tmpdir(), 'conveyor-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    // A Chromium that cannot start fails the test in seconds, not at playwright's 3-minute default.
    timeout: 30_000,
    viewport: options.viewport ?? { width: 1366, height: 768 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
