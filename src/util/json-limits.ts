import { ProblemError } from '../errors/problem.js';

export interface JsonLimits {
  /** Deepest nesting of objects and arrays; the root container is level 1. @default 32 */
  readonly maxDepth?: number;
  /** Most members of one object, or items of one array. @default 10000 */
  readonly maxMembers?: number;
}

export const DEFAULT_JSON_LIMITS = { maxDepth: 32, maxMembers: 10_000 } as const;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

function checkLimit(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min)
    throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
  return value;
}

function escapePointerToken(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

/**
 * Parses a JSON body, refusing one nested deeper than `maxDepth` or with more than `maxMembers`
 * in one object or array. The limits are checked by a flat scan before JSON.parse runs, so a
 * hostile body (say 100,000 `[`) never reaches the parser, nor the recursive code downstream
 * (schema validation, structuredClone, JSON.stringify) that would overflow the stack on it.
 *
 * `__proto__` keys are left alone: JSON.parse defines them as ordinary own properties and never
 * sets a prototype, so parsing cannot pollute Object.prototype. Code that copies a parsed body
 * with Object.assign or a hand-written deep merge can, though; copy with spread or structuredClone.
 *
 * @throws ProblemError `json-too-complex` naming the limit and the JSON Pointer where it was
 *   exceeded, or `malformed-json` with the parser's message.
 */
export function parseJsonWithLimits(text: string, limits: JsonLimits = {}): unknown {
  const maxDepth = checkLimit('maxDepth', limits.maxDepth ?? DEFAULT_JSON_LIMITS.maxDepth, 0);
  const maxMembers = checkLimit('maxMembers', limits.maxMembers ?? DEFAULT_JSON_LIMITS.maxMembers, 1);
  scanLimits(text, maxDepth, maxMembers);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ProblemError('malformed-json', `the body is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * One pass over the text with a stack of open containers. Strings are skipped with indexOf so
 * brackets and commas inside them do not count. Per container it keeps the commas seen (its
 * item count minus one, and the index of the current array item) and, for objects, where the
 * current key sits, so the pointer can be rebuilt only when a limit is hit. It does not validate
 * JSON: on input it cannot follow it stops and leaves the verdict to JSON.parse.
 */
function scanLimits(text: string, maxDepth: number, maxMembers: number): void {
  const isObject: boolean[] = [false];
  const commas: number[] = [0];
  const keyStart: number[] = [-1];
  let depth = 0;
  let expectKey = false;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let end = text.indexOf('"', i + 1);
      while (end !== -1 && isEscaped(text, end)) end = text.indexOf('"', end + 1);
      if (end === -1) return; // unterminated string: malformed
      if (expectKey) {
        keyStart[depth] = i;
        expectKey = false;
      }
      i = end;
    } else if (c === COMMA) {
      if (depth === 0) return;
      if (++commas[depth]! >= maxMembers) {
        const [kind, members] = isObject[depth] ? ['object', 'members'] : ['array', 'items'];
        const message = `holds more than ${maxMembers} ${members} (limit maxMembers ${maxMembers})`;
        tooComplex(
          pointer(text, depth - 1, isObject, commas, keyStart),
          message,
          (where) => `the ${kind} at ${where} ${message}; split it`,
        );
      }
      expectKey = isObject[depth]!;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (depth === maxDepth) {
        const message = `nests deeper than ${maxDepth} levels (limit maxDepth ${maxDepth})`;
        tooComplex(
          pointer(text, depth, isObject, commas, keyStart),
          message,
          (where) => `the body ${message} at ${where}; flatten it`,
        );
      }
      depth++;
      isObject[depth] = c === OPEN_OBJECT;
      commas[depth] = 0;
      keyStart[depth] = -1;
      expectKey = c === OPEN_OBJECT;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      if (depth === 0) return;
      depth--;
      expectKey = false;
    }
  }
}

/** A quote is escaped when an odd number of backslashes precede it. */
function isEscaped(text: string, quote: number): boolean {
  let backslashes = 0;
  for (let j = quote - 1; text.charCodeAt(j) === BACKSLASH; j--) backslashes++;
  return backslashes % 2 === 1;
}

/** The JSON Pointer of the value currently open inside the container at `depth` ('' is the root). */
function pointer(
  text: string,
  depth: number,
  isObject: boolean[],
  commas: number[],
  keyStart: number[],
): string {
  let path = '';
  for (let level = 1; level <= depth; level++) {
    path += '/' + escapePointerToken(isObject[level] ? keyAt(text, keyStart[level]!) : String(commas[level]));
  }
  return path;
}

/** The key whose string literal starts at `start` (-1: none was seen, which only malformed input does). */
function keyAt(text: string, start: number): string {
  if (start < 0) return '';
  let end = text.indexOf('"', start + 1);
  while (isEscaped(text, end)) end = text.indexOf('"', end + 1);
  const literal = text.slice(start, end + 1);
  try {
    return JSON.parse(literal) as string;
  } catch {
    return literal.slice(1, -1); // a malformed escape; the raw key still locates it
  }
}

function tooComplex(path: string, message: string, detail: (where: string) => string): never {
  throw new ProblemError('json-too-complex', detail(path === '' ? 'the root' : path), {
    errors: [{ path, message }],
  });
}
