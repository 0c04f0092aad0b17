import { useState } from 'preact/hooks';
import type { TypeDependencies } from '../types';

/** The four layers of the map, left to right. */
const LAYERS = ['Publishers', 'Event types', 'Routes', 'Sinks'] as const;

interface Node {
  readonly id: string;
  readonly layer: number;
  readonly label: string;
  readonly note: string;
}

interface Edge {
  readonly from: string;
  readonly to: string;
}

const COLUMN_WIDTH = 230;
const GAP = 90;
const ROW = 30;
const BOX_HEIGHT = 22;
const TOP = 34;

/** Publishers → types → routes → sinks from the catalog's dependency list (admin's implicit rights left out). */
export function buildGraph(
  items: readonly TypeDependencies[],
  allTypes: boolean,
): { nodes: Node[]; edges: Edge[] } {
  const nodes = new Map<string, Node>();
  const edges = new Map<string, Edge>();
  const add = (node: Node) => nodes.set(node.id, nodes.get(node.id) ?? node);
  const link = (from: string, to: string) => edges.set(`${from}>${to}`, { from, to });
  for (const t of items) {
    const publishers = [
      ...t.publishers.clients
        .filter((c) => c.via === 'scope')
        .map((c) => ({ id: `p:client:${c.name}`, label: c.name, note: 'client' })),
      ...t.publishers.connectors.map((c) => ({
        id: `p:connector:${c.name}`,
        label: c.name,
        note: `${c.kind} source`,
      })),
    ];
    if (!allTypes && publishers.length === 0 && t.consumers.length === 0) continue;
    const typeId = `t:${t.type}`;
    add({ id: typeId, layer: 1, label: t.type, note: `${t.domain} · ${t.criticality}` });
    for (const p of publishers) {
      add({ ...p, layer: 0 });
      link(p.id, typeId);
    }
    for (const c of t.consumers) {
      const routeId = `r:${c.route}`;
      const sinkId = `s:${c.sink}`;
      add({ id: routeId, layer: 2, label: c.route, note: `lane ${c.lane}${c.filter ? ' · filtered' : ''}` });
      add({ id: sinkId, layer: 3, label: c.sink, note: c.endpoint ?? 'sink' });
      link(typeId, routeId);
      link(routeId, sinkId);
    }
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}

/** Orders each layer by the mean position of its neighbours in the layer before, so edges cross less. */
function order(nodes: readonly Node[], edges: readonly Edge[]): Map<string, number> {
  const rows = new Map<string, number>();
  const layer = (n: number) => nodes.filter((x) => x.layer === n);
  const types = layer(1).sort((a, b) => a.label.localeCompare(b.label));
  for (const [i, n] of types.entries()) rows.set(n.id, i);
  const byNeighbours = (n: number, neighbours: (id: string) => string[]) => {
    const mean = (id: string) => {
      const at = neighbours(id)
        .map((x) => rows.get(x))
        .filter((x): x is number => x !== undefined);
      return at.length ? at.reduce((a, b) => a + b, 0) / at.length : Number.POSITIVE_INFINITY;
    };
    const sorted = layer(n)
      .map((x) => ({ x, m: mean(x.id) }))
      .sort((a, b) => a.m - b.m || a.x.label.localeCompare(b.x.label));
    for (const [i, { x }] of sorted.entries()) rows.set(x.id, i);
  };
  byNeighbours(0, (id) => edges.filter((e) => e.from === id).map((e) => e.to));
  byNeighbours(2, (id) => edges.filter((e) => e.to === id).map((e) => e.from));
  byNeighbours(3, (id) => edges.filter((e) => e.to === id).map((e) => e.from));
  return rows;
}

function clip(text: string, max = 28): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The dependency map as a layered SVG graph; clicking a node shows what it connects to. */
export function DependencyGraph(props: { items: readonly TypeDependencies[] }) {
  const [allTypes, setAllTypes] = useState(false);
  const [focus, setFocus] = useState<string | null>(null);
  const { nodes, edges } = buildGraph(props.items, allTypes);
  const rows = order(nodes, edges);
  const tallest = Math.max(1, ...[0, 1, 2, 3].map((l) => nodes.filter((n) => n.layer === l).length));
  const width = LAYERS.length * COLUMN_WIDTH + (LAYERS.length - 1) * GAP;
  const height = TOP + tallest * ROW + 10;
  const pos = (id: string) => {
    const node = nodes.find((n) => n.id === id) as Node;
    const count = nodes.filter((n) => n.layer === node.layer).length;
    // Shorter layers are centred against the tallest one.
    const offset = ((tallest - count) * ROW) / 2;
    return { x: node.layer * (COLUMN_WIDTH + GAP), y: TOP + offset + (rows.get(id) ?? 0) * ROW };
  };
  const near = (e: Edge) => focus !== null && (e.from === focus || e.to === focus);
  return (
    <div>
      <label class="inline small">
        <input type="checkbox" checked={allTypes} onChange={() => setAllTypes(!allTypes)} /> show types nobody
        publishes or consumes yet
      </label>
      <div class="graph-scroll">
        <svg
          class="dependency-graph"
          viewBox={`0 0 ${width} ${height}`}
          width={width}
          height={height}
          role="img"
          aria-label="Dependency map: publishers, event types, routes and sinks"
        >
          {LAYERS.map((name, i) => (
            <text key={name} x={i * (COLUMN_WIDTH + GAP)} y="16" class="layer-title">
              {name}
            </text>
          ))}
          {edges.map((e) => {
            const a = pos(e.from);
            const b = pos(e.to);
            const x1 = a.x + COLUMN_WIDTH;
            const y1 = a.y + BOX_HEIGHT / 2;
            const x2 = b.x;
            const y2 = b.y + BOX_HEIGHT / 2;
            const mid = (x1 + x2) / 2;
            return (
              <path
                key={`${e.from}>${e.to}`}
                d={`M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`}
                class={near(e) ? 'edge edge-focus' : focus ? 'edge edge-dim' : 'edge'}
              />
            );
          })}
          {nodes.map((n) => {
            const p = pos(n.id);
            return (
              // biome-ignore lint/a11y/useSemanticElements: an SVG group cannot be an HTML <button>.
              <g
                key={n.id}
                class={`node node-${n.layer}${focus === n.id ? ' node-focus' : ''}`}
                transform={`translate(${p.x},${p.y})`}
                role="button"
                tabIndex={0}
                aria-pressed={focus === n.id}
                onClick={() => setFocus(focus === n.id ? null : n.id)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' || e.key === ' ') {
                    e.preventDefault();
                    setFocus(focus === n.id ? null : n.id);
                  }
                }}
              >
                <title>{`${n.label} (${n.note})`}</title>
                <rect width={COLUMN_WIDTH} height={BOX_HEIGHT} rx="4" />
                <text x="8" y="15">
                  {clip(n.label)}
                </text>
              </g>
            );
          })}
        </svg>
      </div>
    </div>
  );
}
