import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiProblem } from './api';

export interface Loaded<T> {
  readonly data: T | null;
  readonly error: ApiProblem | null;
  readonly loading: boolean;
  reload(): void;
}

function asProblem(error: unknown): ApiProblem {
  return error instanceof ApiProblem
    ? error
    : new ApiProblem(0, 'client', String((error as Error)?.message ?? error));
}

/**
 * Loads with `load` whenever `deps` change (and on `reload`), dropping answers that arrive after a
 * newer request started. With `everyMs`, loads again at that interval while the page is shown.
 */
export function useLoad<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: readonly unknown[],
  everyMs?: number,
): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: ApiProblem | null; loading: boolean }>({
    data: null,
    error: null,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  // `deps` are the caller's inputs to `load`.
  useEffect(() => {
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    load(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setState({ data, error: null, loading: false });
      },
      (error: unknown) => {
        if (!controller.signal.aborted)
          setState((s) => ({ data: s.data, error: asProblem(error), loading: false }));
      },
    );
    return () => controller.abort();
  }, [...deps, tick]);
  useEffect(() => {
    if (!everyMs) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') reload();
    }, everyMs);
    return () => clearInterval(timer);
  }, [everyMs, reload]);
  return { ...state, reload };
}

/** A list page by page: `after` cursors so "Previous" can go back. */
export function useCursor(): {
  after: string | null;
  next(cursor: string): void;
  previous(): void;
  reset(): void;
  page: number;
} {
  const [stack, setStack] = useState<string[]>([]);
  return {
    after: stack.at(-1) ?? null,
    page: stack.length + 1,
    next: (cursor) => setStack((s) => [...s, cursor]),
    previous: () => setStack((s) => s.slice(0, -1)),
    reset: () => setStack([]),
  };
}

/** The value, after it has stopped changing for `ms`. */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}
