/** Row selectors: a field or dotted path read directly, or a JSONata expression. */

import jsonata from 'jsonata';
import type { Problems } from '../framework/common.js';

/**
 * A row field or a dotted path read directly (no async JSONata per row), or a JSONata expression
 * for anything else.
 */
export type Selector =
  | { readonly kind: 'path'; readonly text: string; readonly path: readonly string[] }
  | { readonly kind: 'jsonata'; readonly text: string; readonly expression: jsonata.Expression };

const DOTTED_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

export function compileSelector(text: string, path: string, problems: Problems): Selector | null {
  if (DOTTED_PATH.test(text)) return { kind: 'path', text, path: text.split('.') };
  try {
    return { kind: 'jsonata', text, expression: jsonata(text) };
  } catch (error) {
    const e = error as { message: string; position?: number };
    problems.push({ path, message: `invalid JSONata at position ${e.position ?? '?'}: ${e.message}` });
    return null;
  }
}

/** Evaluates a selector against a value; a path that does not exist gives undefined. */
export async function select(selector: Selector, value: unknown): Promise<unknown> {
  if (selector.kind === 'jsonata') return selector.expression.evaluate(value);
  let current = value;
  for (const key of selector.path) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
