import type { SourceConnector, SourceContext, SourceFactory } from './types.js';

/**
 * A source factory whose implementation (and the protocol stack it imports) is loaded when the
 * first source of the kind starts, not when the hub loads: a hub without such a source never
 * pays its memory. The kind's spec stays eager, so config errors are still reported at startup.
 */
export function lazySource<Config>(load: () => Promise<SourceFactory<Config>>): SourceFactory<Config> {
  let loading: Promise<SourceFactory<Config>> | null = null;
  return (config, name) => {
    let stopped = false;
    let created: Promise<SourceConnector | null> | null = null;
    return {
      async start(context: SourceContext): Promise<void> {
        loading ??= load();
        // A failed import is tried again by the next start, not remembered.
        loading.catch(() => {
          loading = null;
        });
        created = loading.then((factory) => (stopped ? null : factory(config, name)));
        const source = await created;
        await source?.start(context);
      },
      async stop(): Promise<void> {
        stopped = true;
        const source = await created?.catch(() => null);
        await source?.stop();
      },
    };
  };
}
