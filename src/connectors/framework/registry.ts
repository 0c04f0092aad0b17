import type { TSchema } from '@sinclair/typebox';
import type { SinkFactory } from '../../delivery/sink.js';
import type { ConnectorSpec, SourceFactory, Stability } from './types.js';

/** A registered connector kind: its spec and what it can be. */
export interface RegisteredKind {
  readonly kind: string;
  readonly summary: string;
  readonly stability: Stability;
  readonly schema: TSchema;
  readonly roles: ReadonlyArray<'source' | 'sink'>;
  readonly source?: { spec: ConnectorSpec<unknown>; factory: SourceFactory<unknown> };
  /** Absent for `http`, which the delivery engine builds itself. */
  readonly sink?: { spec: ConnectorSpec<unknown>; factory: SinkFactory<unknown> };
}

const kinds = new Map<string, RegisteredKind>();

/** Registers a source kind; its spec validates configs and describes it in the CLI and docs. */
export function registerSource<Config>(
  kind: string,
  spec: ConnectorSpec<Config>,
  factory: SourceFactory<Config>,
): void {
  if (spec.kind !== kind) throw new Error(`spec of ${spec.kind} registered as ${kind}`);
  const existing = kinds.get(kind);
  kinds.set(kind, {
    kind,
    summary: spec.summary,
    stability: spec.stability,
    schema: spec.schema,
    roles: [...new Set([...(existing?.roles ?? []), 'source' as const])],
    source: { spec: spec as ConnectorSpec<unknown>, factory: factory as SourceFactory<unknown> },
  });
}

/** Registers a sink kind (deliveries go to it through routes); `factory` is absent only for http. */
export function registerSink<Config>(
  kind: string,
  spec: Omit<ConnectorSpec<Config>, 'compile'> & Partial<Pick<ConnectorSpec<Config>, 'compile'>>,
  factory?: SinkFactory<Config>,
): void {
  const existing = kinds.get(kind);
  kinds.set(kind, {
    ...(existing ?? { kind, summary: spec.summary, stability: spec.stability, schema: spec.schema }),
    roles: [...new Set([...(existing?.roles ?? []), 'sink' as const])],
    ...(factory && spec.compile
      ? { sink: { spec: spec as ConnectorSpec<unknown>, factory: factory as SinkFactory<unknown> } }
      : {}),
  });
}

export function connectorKind(kind: string): RegisteredKind | undefined {
  return kinds.get(kind);
}

export function connectorKinds(): RegisteredKind[] {
  return [...kinds.values()].sort((a, b) => a.kind.localeCompare(b.kind));
}
