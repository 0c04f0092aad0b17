/** One problem in a config file, located by key path (`routes[2].retry.maxAttempts`). */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

/** Thrown by loadConfig/compileConfig with every problem found, not just the first. */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(source: string, problems: ConfigProblem[]) {
    const lines = problems.map((p) => `  ${p.path || '(root)'}: ${p.message}`);
    super(`${source} is not a valid configuration:\n${lines.join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** `/routes/2/retry/maxAttempts` → `routes[2].retry.maxAttempts`. */
export function pointerToKeyPath(pointer: string): string {
  if (pointer === '') return '';
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce(
      (acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc === '' ? part : `${acc}.${part}`),
      '',
    );
}
