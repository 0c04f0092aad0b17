import type { Dispatcher } from 'undici';
import { loadUndici } from '../util/lazy-undici.js';

/** Where the CLI finds a running hub, and the key it uses: flags, else CONVEYOR_URL / CONVEYOR_KEY. */
export interface HubTarget {
  readonly url: string;
  readonly key: string;
}

export function hubTarget(
  opts: { url?: string; key?: string },
  env: NodeJS.ProcessEnv = process.env,
): HubTarget {
  const url = (opts.url ?? env.CONVEYOR_URL ?? `http://127.0.0.1:${env.CONVEYOR_PORT ?? 8080}`).replace(
    /\/$/,
    '',
  );
  const key = opts.key ?? env.CONVEYOR_KEY ?? env.CONVEYOR_ADMIN_KEY;
  if (!key) throw new Error('no API key: pass --key or set CONVEYOR_KEY');
  return { url, key };
}

/** Calls the hub's API; a problem+json answer becomes an error carrying its detail and field errors. */
export async function callHub<T>(
  target: HubTarget,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  let response: Dispatcher.ResponseData;
  try {
    const { request } = await loadUndici();
    response = await request(`${target.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${target.key}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (error) {
    throw new Error(
      `cannot reach the hub at ${target.url}: ${(error as Error).message} (is it running? set --url or CONVEYOR_URL)`,
    );
  }
  const text = await response.body.text();
  const parsed = text ? (JSON.parse(text) as T) : (undefined as T);
  if (response.statusCode >= 400) {
    const problem = parsed as { detail?: string; errors?: Array<{ path: string; message: string }> };
    const fields = problem?.errors?.map((e) => `\n  ${e.path}: ${e.message}`).join('') ?? '';
    throw new Error(
      `${method} ${path} failed with ${response.statusCode}: ${problem?.detail ?? text}${fields}`,
    );
  }
  return { status: response.statusCode, body: parsed };
}
