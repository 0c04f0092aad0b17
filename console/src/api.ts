/** The hub's API as the console uses it: the session's key on every call, problems as errors. */

const KEY_ITEM = 'conveyor.apiKey';

/** The API key lives in sessionStorage: it is gone when the browser session ends. */
export const session = {
  key(): string | null {
    return sessionStorage.getItem(KEY_ITEM);
  },
  set(key: string): void {
    sessionStorage.setItem(KEY_ITEM, key);
  },
  clear(): void {
    sessionStorage.removeItem(KEY_ITEM);
  },
};

export interface FieldError {
  readonly path: string;
  readonly message: string;
}

/** An RFC 9457 problem the hub answered with (or a network failure dressed as one). */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly errors: readonly FieldError[] = [],
  ) {
    super(detail);
  }
}

/** Told when the hub says the key is no longer good, so the console can ask for one again. */
let onUnauthorized: (() => void) | null = null;
export function whenUnauthorized(listener: () => void): void {
  onUnauthorized = listener;
}

async function problemOf(response: Response): Promise<ApiProblem> {
  let body: { code?: string; detail?: string; title?: string; errors?: FieldError[] } = {};
  try {
    body = await response.json();
  } catch {
    // Not JSON: keep the status line.
  }
  return new ApiProblem(
    response.status,
    body.code ?? `http-${response.status}`,
    body.detail ?? body.title ?? `${response.status} ${response.statusText}`,
    Array.isArray(body.errors) ? body.errors : [],
  );
}

export async function call<T>(
  method: 'GET' | 'POST',
  path: string,
  options: { body?: unknown; key?: string; signal?: AbortSignal } = {},
): Promise<T> {
  const key = options.key ?? session.key();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (method === 'POST') headers['idempotency-key'] = crypto.randomUUID();
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      cache: 'no-store',
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiProblem(0, 'network', 'the hub cannot be reached; is it running?');
  }
  if (!response.ok) {
    const problem = await problemOf(response);
    if (response.status === 401 && options.key === undefined) onUnauthorized?.();
    throw problem;
  }
  return (await response.json()) as T;
}

export const get = <T>(path: string, signal?: AbortSignal) => call<T>('GET', path, signal ? { signal } : {});
export const post = <T>(path: string, body?: unknown) =>
  call<T>('POST', path, body === undefined ? {} : { body });

/** A query string from the set fields only. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** Every list of the API is `{items, next}`. */
export interface Page<T> {
  readonly items: T[];
  readonly next: string | null;
}
