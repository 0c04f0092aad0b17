/**
 * A view over one element of a parsed B2MML tree that remembers which child elements the mapper
 * used. After mapping, {@link ElementReader.unmapped} lists every element nobody read, so a document
 * can never lose content silently: each piece is either mapped or named in a warning.
 */
import type { XmlElement, XmlNode } from './parse.js';

/** An element nobody mapped, or an element with children nobody mapped. */
export interface UnmappedContent {
  /** XPath-like location, e.g. `ProductionSchedule[1]/ProductionRequest[1]/SegmentRequirement[2]`. */
  readonly path: string;
  /** Local names of the child elements not mapped; empty when the whole element was not mapped. */
  readonly children: readonly string[];
  /** A short identification of the element (its ID, process segment or material), when it has one. */
  readonly hint?: string;
}

function isElement(node: XmlNode | readonly XmlNode[] | undefined): node is XmlElement {
  return typeof node === 'object' && node !== null && !Array.isArray(node);
}

function listOf(node: XmlNode | readonly XmlNode[] | undefined): readonly XmlNode[] {
  if (node === undefined) return [];
  return Array.isArray(node) ? (node as readonly XmlNode[]) : [node as XmlNode];
}

/** The text of a simple element: `undefined` when empty or `xsi:nil`. */
function textOf(node: XmlNode): string | undefined {
  if (typeof node === 'string') return node === '' ? undefined : node;
  if (node['@_nil'] === 'true') return undefined;
  const text = node['#text'];
  return typeof text === 'string' && text !== '' ? text : undefined;
}

/** Child names that are content: not attributes and not the element's own text. */
function childNames(element: XmlElement): string[] {
  return Object.keys(element).filter((k) => !k.startsWith('@_') && k !== '#text');
}

/** Reads one element and tracks what was read. */
export class ElementReader {
  readonly #element: XmlElement;
  readonly #read = new Set<string>();
  /** Child readers by name, created once so repeated reads share (and report) the same readers. */
  readonly #children = new Map<string, ElementReader[]>();
  #settled = false;

  /**
   * @param node - The element (a bare string is a simple element with only text).
   * @param path - Its location, used in warnings.
   */
  constructor(
    node: XmlNode,
    readonly path: string,
  ) {
    this.#element = typeof node === 'string' ? (node === '' ? {} : { '#text': node }) : node;
  }

  /** Child elements named `name`, in document order; marks them read. */
  all(name: string): ElementReader[] {
    this.#read.add(name);
    let children = this.#children.get(name);
    if (children === undefined) {
      children = listOf(this.#element[name]).map(
        (node, i) => new ElementReader(node, `${this.path}/${name}[${i + 1}]`),
      );
      this.#children.set(name, children);
    }
    return children;
  }

  /** The first child element named `name`; marks every child of that name read. */
  one(name: string): ElementReader | undefined {
    return this.all(name)[0];
  }

  /** Texts of the child elements named `name` (empty ones left out); marks them read. */
  texts(name: string): string[] {
    this.#read.add(name);
    return this.peekTexts(name);
  }

  /** Text of the first child element named `name`; marks every child of that name read. */
  text(name: string): string | undefined {
    return this.texts(name)[0];
  }

  /** Texts of the child elements named `name`, without marking them read. */
  peekTexts(name: string): string[] {
    return listOf(this.#element[name])
      .map(textOf)
      .filter((t): t is string => t !== undefined);
  }

  /** Text at a path of first children (`peekText('Value', 'ValueString')`), without marking anything read. */
  peekText(...path: string[]): string | undefined {
    let node: XmlNode | undefined = this.#element;
    for (const name of path) {
      if (node === undefined || !isElement(node)) return undefined;
      node = listOf(node[name])[0];
    }
    return node === undefined ? undefined : textOf(node);
  }

  /** This element's own text. */
  get value(): string | undefined {
    return textOf(this.#element);
  }

  /** An attribute's value (namespace prefix removed). */
  attribute(name: string): string | undefined {
    const value = this.#element[`@_${name}`];
    return typeof value === 'string' ? value : undefined;
  }

  /** Whether a child element named `name` is present (does not mark it read). */
  has(name: string): boolean {
    return listOf(this.#element[name]).length > 0;
  }

  /** Marks children read on purpose without mapping them (structure with no business meaning). */
  ignore(...names: string[]): void {
    for (const name of names) this.#read.add(name);
  }

  /** Declares this element and everything below it accounted for (the mapper has warned about it). */
  settle(): void {
    this.#settled = true;
  }

  /** Short identification for messages: ID, process segment or material of the element. */
  get hint(): string | undefined {
    const id = this.peekText('ID');
    if (id !== undefined) {
      const shown = this.peekText('Value', 'ValueString');
      return shown !== undefined ? `${id}=${shown}` : id;
    }
    return this.peekTexts('ProcessSegmentID')[0] ?? this.peekTexts('MaterialDefinitionID')[0];
  }

  /** `path (hint)`, the way warnings name an element. */
  get label(): string {
    const hint = this.hint;
    return hint === undefined ? this.path : `${this.path} (${hint})`;
  }

  /** Every element below this one that was neither read nor settled, depth first. */
  unmapped(): UnmappedContent[] {
    if (this.#settled) return [];
    const names = childNames(this.#element);
    const unread = names.filter((n) => !this.#read.has(n));
    const out: UnmappedContent[] = [];
    const hint = this.hint;
    if (unread.length > 0) {
      // An element none of whose content was read is reported whole, not child by child.
      const whole = names.length > 0 && unread.length === names.length;
      out.push({ path: this.path, children: whole ? [] : unread, ...(hint !== undefined ? { hint } : {}) });
    }
    for (const children of this.#children.values()) {
      for (const child of children) out.push(...child.unmapped());
    }
    return out;
  }
}

/** The sentence a warning uses for unmapped content. */
export function describeUnmapped(item: UnmappedContent): string {
  const where = item.hint === undefined ? item.path : `${item.path} (${item.hint})`;
  return item.children.length === 0
    ? `${where}: not mapped to any production event`
    : `${where}: ${item.children.join(', ')} not mapped to any production event`;
}
