import { dirname, resolve } from 'node:path';
import { type Config, type ConfigOverrides, compileConfig } from './compile.js';
import { ConfigError } from './config-error.js';
import { loadConfigFile, validateRawConfig } from './load.js';
import type { RawConfig } from './schema.js';

export type {
  BatchPolicy,
  ClientConfig,
  CompiledRoute,
  Config,
  ConfigOverrides,
  LaneName,
  RetryPolicy,
} from './compile.js';
export { ConfigError };

/**
 * Loads, validates and compiles a config file (or the built-in defaults when `file` is undefined).
 * CONVEYOR_DATA and CONVEYOR_PORT from the environment apply unless the command line set them.
 */
export function loadConfig(
  file: string | undefined,
  overrides: ConfigOverrides = {},
  env: NodeJS.ProcessEnv = process.env,
): Config {
  const merged: ConfigOverrides = { ...overrides };
  if (merged.dataDir === undefined && env.CONVEYOR_DATA) merged.dataDir = env.CONVEYOR_DATA;
  if (merged.port === undefined && env.CONVEYOR_PORT) {
    const port = Number(env.CONVEYOR_PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new ConfigError('CONVEYOR_PORT', [
        { path: 'server.port', message: `"${env.CONVEYOR_PORT}" is not a TCP port (0-65535)` },
      ]);
    }
    merged.port = port;
  }
  // A data directory given on the command line or in the environment is relative to where the user is.
  if (merged.dataDir !== undefined) merged.dataDir = resolve(merged.dataDir);
  if (file === undefined) {
    return compileConfig(validateRawConfig({}, 'defaults', env), {
      baseDir: process.cwd(),
      overrides: merged,
    });
  }
  const raw = loadConfigFile(file, env);
  return compileConfig(raw, { baseDir: dirname(resolve(file)), overrides: merged, source: file });
}

/** Compiles a config given as an object (the demo and tests build theirs in code). */
export function loadConfigFromObject(
  raw: RawConfig | Record<string, unknown>,
  overrides: ConfigOverrides = {},
): Config {
  const merged = { ...overrides };
  if (merged.dataDir !== undefined) merged.dataDir = resolve(merged.dataDir);
  return compileConfig(validateRawConfig(raw, 'the configuration'), {
    baseDir: process.cwd(),
    overrides: merged,
  });
}
