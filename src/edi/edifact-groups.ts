/**
 * Segment groups of an EDIFACT message, read against the message's segment table: each group
 * starts at its trigger segment (its first entry) and ends at the first segment that does not fit
 * further into it, exactly as the UN/EDIFACT syntax rules define.
 */
import type { EdifactSegment } from './edifact.js';

/** A segment of a segment table: tag and maximum repeat. */
export interface SegmentEntry {
  readonly tag: string;
  readonly max: number;
}

/** A segment group of a segment table; its first entry is the trigger segment. */
export interface GroupEntry {
  readonly group: string;
  readonly max: number;
  readonly entries: readonly [SegmentEntry, ...StructureEntry[]];
}

export type StructureEntry = SegmentEntry | GroupEntry;

/** One occurrence of a segment group (or the message itself, `group: ''`), with its content in order. */
export interface GroupNode {
  readonly group: string;
  readonly children: Array<EdifactSegment | GroupNode>;
}

/** A table entry for a segment. */
export function segment(tag: string, max: number): SegmentEntry {
  return { tag, max };
}

/** A table entry for a segment group. */
export function group(
  name: string,
  max: number,
  trigger: SegmentEntry,
  ...rest: StructureEntry[]
): GroupEntry {
  return { group: name, max, entries: [trigger, ...rest] };
}

export function isGroupNode(child: EdifactSegment | GroupNode): child is GroupNode {
  return 'group' in child;
}

function entryTag(entry: StructureEntry): string {
  return 'tag' in entry ? entry.tag : entry.entries[0].tag;
}

function allTags(entries: readonly StructureEntry[], into = new Set<string>()): Set<string> {
  for (const e of entries) {
    if ('tag' in e) into.add(e.tag);
    else allTags(e.entries, into);
  }
  return into;
}

interface Progress {
  /** Index of the table entry matched last; entries before it cannot follow any more. */
  entry: number;
  readonly counts: number[];
}

/**
 * Arranges `segments` (UNH..UNT) into groups per `table`. Segments the table does not know, or that
 * stand where the table does not allow them, are passed to `skip` and left out.
 */
export function groupSegments(
  segments: readonly EdifactSegment[],
  table: readonly StructureEntry[],
  skip: (segment: EdifactSegment, reason: 'unknown' | 'out-of-place') => void,
): GroupNode {
  const known = allTags(table);
  const root: GroupNode = { group: '', children: [] };
  const progress: Progress = { entry: 0, counts: table.map(() => 0) };
  let pos = 0;
  while (pos < segments.length) {
    pos = fill(table, segments, pos, root, progress, known, skip);
    const stray = segments[pos];
    if (stray) {
      skip(stray, 'out-of-place');
      pos++;
    }
  }
  return root;
}

function fill(
  entries: readonly StructureEntry[],
  segments: readonly EdifactSegment[],
  start: number,
  node: GroupNode,
  progress: Progress,
  known: ReadonlySet<string>,
  skip: (segment: EdifactSegment, reason: 'unknown' | 'out-of-place') => void,
): number {
  let pos = start;
  while (pos < segments.length) {
    const seg = segments[pos]!;
    if (!known.has(seg.tag)) {
      skip(seg, 'unknown');
      pos++;
      continue;
    }
    let matched = false;
    for (let j = progress.entry; j < entries.length; j++) {
      const entry = entries[j]!;
      // A segment's maximum decides where it belongs (a second RFF of SG1 starts a new SG1); a group that
      // repeats more often than its table allows is still unambiguous, so its content is kept.
      if (entryTag(entry) !== seg.tag || ('tag' in entry && progress.counts[j]! >= entry.max)) continue;
      progress.counts[j]!++;
      progress.entry = j;
      matched = true;
      if ('tag' in entry) {
        node.children.push(seg);
        pos++;
      } else {
        const child: GroupNode = { group: entry.group, children: [seg] };
        node.children.push(child);
        const inner: Progress = { entry: 0, counts: entry.entries.map((_, k) => (k === 0 ? 1 : 0)) };
        pos = fill(entry.entries, segments, pos + 1, child, inner, known, skip);
      }
      break;
    }
    if (!matched) return pos;
  }
  return pos;
}

/** The segments directly in `node` with tag `tag`. */
export function segmentsOf(node: GroupNode, tag: string): EdifactSegment[] {
  return node.children.filter((c): c is EdifactSegment => !isGroupNode(c) && c.tag === tag);
}

/** The occurrences of group `name` directly in `node`. */
export function groupsOf(node: GroupNode, name: string): GroupNode[] {
  return node.children.filter((c): c is GroupNode => isGroupNode(c) && c.group === name);
}

/** The occurrences of group `name` anywhere below `node`, in document order. */
export function findGroups(node: GroupNode, name: string): GroupNode[] {
  const found: GroupNode[] = [];
  for (const child of node.children) {
    if (!isGroupNode(child)) continue;
    if (child.group === name) found.push(child);
    found.push(...findGroups(child, name));
  }
  return found;
}

/** Every segment below `node` with tag `tag`, in document order. */
export function findSegments(node: GroupNode, tag: string): EdifactSegment[] {
  return node.children.flatMap((c) => (isGroupNode(c) ? findSegments(c, tag) : c.tag === tag ? [c] : []));
}
