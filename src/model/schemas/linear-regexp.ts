import { RE2JS } from 're2js';

/*
 * Why not the built-in RegExp: JavaScript's engine backtracks, so a pattern such as `^(a+)+$` takes
 * exponential time on an input like "aaaa…a!" (27 characters froze the hub for 6 s). Schema patterns
 * come from whoever may propose schemas, and they run against every client's data on the one thread
 * that serves the API, so no pattern may be able to do that. Refusing "dangerous" patterns when they
 * are proposed was the other option; every such check is a heuristic with known misses (and misses
 * schemas already stored), while an automaton-based engine is linear in the input for every pattern.
 *
 * Why re2js and not the `re2` package: `re2` is a native addon that needs a compiler toolchain or a
 * downloaded prebuilt binary at install; re2js is a pure-JavaScript port of RE2 (the Go regexp
 * implementation) with the same linear-time guarantee and no install step.
 *
 * The price is RE2's syntax: no lookaround (`(?=`, `(?!`, `(?<=`, `(?<!`) and no backreferences
 * (`\1`); JavaScript escapes such as `\uXXXX`, `\u{…}` and `\cX` are translated first. A pattern
 * RE2 cannot run is refused when the schema is proposed (`patternProblems`), naming where it is.
 */

/** What Ajv needs of a compiled pattern. */
export interface LinearPattern {
  test(input: string): boolean;
}

/**
 * Compiles a JSON Schema `pattern` (ECMA-262 syntax) for the linear-time engine. Unanchored, like
 * `RegExp.prototype.test`: the pattern may match anywhere unless it says `^`/`$`.
 * @throws Error naming the pattern when RE2 cannot run it (lookaround, backreference, bad syntax).
 */
export function compileLinearPattern(pattern: string): LinearPattern {
  let compiled: RE2JS;
  try {
    refuseNamedBackreference(pattern);
    compiled = RE2JS.compile(RE2JS.translateRegExp(pattern));
  } catch (error) {
    throw new Error(`pattern "${pattern}" cannot be used: ${explain(error as Error)}`);
  }
  return {
    test: (input) => compiled.test(input),
    // Ajv caches compiled patterns by their string form: it must differ between patterns.
    toString: () => `linear:${pattern}`,
  } as LinearPattern;
}

/** The translation would turn `\k<name>` into the literal text `k<name>`: refuse it, as RE2 refuses `\1`. */
function refuseNamedBackreference(pattern: string): void {
  for (let i = 0; i < pattern.length - 1; i++) {
    if (pattern[i] !== '\\') continue;
    if (pattern[i + 1] === 'k') throw new Error('invalid escape sequence: `\\k`');
    i++; // the escaped character, so `\\k` is a backslash and a k
  }
}

function explain(error: Error): string {
  const message = error.message.replace(/^error parsing regexp: /, '');
  if (/\(\?[=!<]/.test(message)) {
    return `${message}; lookahead and lookbehind are not supported (patterns run on a linear-time engine)`;
  }
  if (/\\[1-9k]/.test(message)) {
    return `${message}; backreferences are not supported (patterns run on a linear-time engine)`;
  }
  return message;
}

/**
 * Ajv's `code.regExp` engine: every `pattern` and `patternProperties` key is compiled by RE2. The
 * `u` flag Ajv passes changes nothing here: RE2 always matches by code point.
 */
export const linearRegExp = Object.assign(
  (pattern: string, _flags: string) => compileLinearPattern(pattern),
  {
    // Only read when Ajv generates standalone code, which Conveyor never does.
    code: 'compileLinearPattern',
  },
);
