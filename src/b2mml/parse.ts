/**
 * Reads B2MML (V0401 and V0600) documents into a plain element tree. The tree is what fast-xml-parser
 * builds with namespace prefixes removed, attributes kept under `@_name`, element text under `#text`
 * when the element also has attributes, and every element that may repeat in the production schemas
 * always held in an array, so mapping code never has to guess between one and many.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { B2mmlError, excerpt } from './b2mml-error.js';

/** The B2MML namespaces this module reads, by release. */
export const B2MML_NAMESPACES = {
  V0401: 'http://www.wbf.org/xml/B2MML-V0401',
  V0600: 'http://www.mesa.org/xml/B2MML-V0600',
} as const;

/** A B2MML release this module reads. */
export type B2mmlVersion = keyof typeof B2MML_NAMESPACES;

/** One node of the element tree: an element with children or attributes, or the text of a simple element. */
export type XmlNode = string | XmlElement;

/**
 * An element: child elements by local name (arrays for {@link REPEATING_ELEMENTS}), attributes under
 * `@_name` (prefix removed, so `xsi:nil` is `@_nil`) and, when there are attributes, text under `#text`.
 */
export interface XmlElement {
  readonly [name: string]: XmlNode | readonly XmlNode[];
}

/** A parsed B2MML document. */
export interface B2mmlDocument {
  /** The release the root element's namespace names. */
  readonly version: B2mmlVersion;
  /** The root element's namespace URI. */
  readonly namespace: string;
  /** Local name of the root element, e.g. `SyncProductionSchedule`. */
  readonly root: string;
  /** The root element's content. */
  readonly element: XmlElement;
}

/**
 * Elements that may occur more than once somewhere in the production schedule and performance schemas
 * (`maxOccurs="unbounded"` in V0401 or V0600). They are arrays in the tree even when a document holds one.
 */
export const REPEATING_ELEMENTS: ReadonlySet<string> = new Set([
  'ActionCriteria',
  'Any',
  'AssemblyActual',
  'AssemblyRequirement',
  'ConsumableActual',
  'ConsumableActualProperty',
  'ConsumableExpectedRequirement',
  'ConsumableExpectedRequirementProperty',
  'Description',
  'EquipmentActual',
  'EquipmentActualProperty',
  'EquipmentClassID',
  'EquipmentID',
  'EquipmentRequirement',
  'EquipmentRequirementProperty',
  'MaterialActual',
  'MaterialActualProperty',
  'MaterialClassID',
  'MaterialConsumedActual',
  'MaterialConsumedActualProperty',
  'MaterialConsumedRequirement',
  'MaterialConsumedRequirementProperty',
  'MaterialDefinitionID',
  'MaterialLotID',
  'MaterialProducedActual',
  'MaterialProducedActualProperty',
  'MaterialProducedRequirement',
  'MaterialProducedRequirementProperty',
  'MaterialRequirement',
  'MaterialRequirementProperty',
  'MaterialSubLotID',
  'Parameter',
  'PersonID',
  'PersonnelActual',
  'PersonnelActualProperty',
  'PersonnelClassID',
  'PersonnelRequirement',
  'PersonnelRequirementProperty',
  'PhysicalAssetActual',
  'PhysicalAssetActualProperty',
  'PhysicalAssetClassID',
  'PhysicalAssetID',
  'PhysicalAssetRequirement',
  'PhysicalAssetRequirementProperty',
  'ProcessSegmentID',
  'ProductProductionRuleID',
  'ProductSegmentID',
  'ProductionData',
  'ProductionParameter',
  'ProductionPerformance',
  'ProductionRequest',
  'ProductionResponse',
  'ProductionSchedule',
  'Quantity',
  'Receiver',
  'SegmentRequirement',
  'SegmentResponse',
  'Value',
]);

const XML_ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/**
 * Decodes the five predefined XML entities and character references in one pass, so `&amp;#65;` stays
 * the text `&#65;`. Any other entity reference can only come from a DTD, which is refused, so it is an error.
 */
function decodeEntities(text: string): string {
  return text.replace(/&([^;&\s]*);/g, (ref, name: string) => {
    const named = XML_ENTITIES[name];
    if (named !== undefined) return named;
    const code = /^#x[0-9a-fA-F]+$/.test(name)
      ? Number.parseInt(name.slice(2), 16)
      : /^#[0-9]+$/.test(name)
        ? Number.parseInt(name.slice(1), 10)
        : undefined;
    if (code === undefined || code > 0x10ffff || code === 0) {
      throw new B2mmlError(
        'malformed-xml',
        `The entity reference ${ref} is not defined; XML only knows &lt; &gt; &amp; &quot; &apos; and ` +
          'character references such as &#233;.',
      );
    }
    return String.fromCodePoint(code);
  });
}

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  isArray: (name, _jpath, _isLeaf, isAttribute) => isAttribute !== true && REPEATING_ELEMENTS.has(name),
  entityDecoder: {
    decode: decodeEntities,
    // DOCTYPEs are refused before parsing, so there are never declared entities to add.
    addInputEntities: (entities) => {
      if (Object.keys(entities).length > 0) {
        throw new B2mmlError('doctype-not-allowed', 'The document declares entities; remove the DOCTYPE.');
      }
    },
    setExternalEntities: () => {},
    reset: () => {},
    setXmlVersion: () => {},
  },
});

/**
 * Parses a B2MML document. Bytes are decoded as the XML declaration says (UTF-8 by default, BOMs
 * honoured); a string is taken as already decoded.
 *
 * @throws B2mmlError `empty-document`, `bad-encoding`, `malformed-xml`, `doctype-not-allowed` or `not-b2mml`.
 */
export function parseB2mml(input: string | Uint8Array): B2mmlDocument {
  const text = typeof input === 'string' ? input.replace(/^\uFEFF/, '') : decodeBytes(input);
  if (text.trim() === '') {
    throw new B2mmlError('empty-document', 'The document is empty. Send the B2MML document itself.');
  }
  refuseDeclarations(text);
  const start = rootStartTag(text);
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    throw new B2mmlError('malformed-xml', `The document is not well-formed XML at line ${line}: ${msg}`, {
      line,
      ...(col !== undefined ? { column: col } : {}),
    });
  }
  let tree: Record<string, unknown>;
  try {
    tree = parser.parse(text) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof B2mmlError) throw error;
    throw new B2mmlError('malformed-xml', `The document cannot be parsed: ${(error as Error).message}`);
  }
  // A root whose name may repeat inside documents (ProductionSchedule) comes back as an array.
  const roots = Object.entries(tree).flatMap(([name, value]) =>
    (Array.isArray(value) ? value : [value]).map((v) => [name, v] as const),
  );
  const [first] = roots;
  if (roots.length !== 1 || first === undefined) {
    throw new B2mmlError(
      'malformed-xml',
      'The document has more than one root element; an XML document has exactly one.',
    );
  }
  const [root, value] = first;
  const namespace = start.namespace;
  const version = (Object.keys(B2MML_NAMESPACES) as B2mmlVersion[]).find(
    (v) => B2MML_NAMESPACES[v] === namespace,
  );
  if (version === undefined) {
    const where = namespace === undefined ? 'in no namespace' : `in the namespace ${namespace}`;
    throw new B2mmlError(
      'not-b2mml',
      `The root element <${start.name}> is ${where}, so this is not a B2MML document. B2MML documents are in ` +
        `${B2MML_NAMESPACES.V0401} (V0401) or ${B2MML_NAMESPACES.V0600} (V0600).`,
    );
  }
  const element: XmlElement =
    typeof value === 'string' ? (value === '' ? {} : { '#text': value }) : (value as XmlElement);
  return { version, namespace: B2MML_NAMESPACES[version], root, element };
}

/** Decodes bytes in the encoding a BOM or the XML declaration gives (UTF-8 when neither does). */
function decodeBytes(bytes: Uint8Array): string {
  let label = 'utf-8';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) label = 'utf-16le';
  else if (bytes[0] === 0xfe && bytes[1] === 0xff) label = 'utf-16be';
  else if (!(bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)) {
    // The declaration is ASCII in every encoding a B2MML sender would use without a BOM.
    const head = new TextDecoder('latin1').decode(bytes.subarray(0, 200));
    const declared = /^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([^"']+)["']/.exec(head)?.[1];
    if (declared !== undefined) label = declared;
  }
  let decoder: InstanceType<typeof TextDecoder>;
  try {
    decoder = new TextDecoder(label, { fatal: true });
  } catch {
    throw new B2mmlError(
      'bad-encoding',
      `The XML declaration names the encoding ${excerpt(label)}, which is unknown.`,
    );
  }
  try {
    // TextDecoder drops the BOM itself.
    return decoder.decode(bytes);
  } catch {
    throw new B2mmlError(
      'bad-encoding',
      `The document is not valid ${decoder.encoding}; send it in the encoding its XML declaration names.`,
    );
  }
}

/** Refuses DOCTYPE and ENTITY declarations anywhere outside comments and CDATA sections. */
function refuseDeclarations(text: string): void {
  const markup = text.replace(/<!--[\s\S]*?-->/g, '').replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '');
  const found = /<!(DOCTYPE|ENTITY)\b/i.exec(markup);
  if (found) {
    throw new B2mmlError(
      'doctype-not-allowed',
      `The document has a <!${found[1]!.toUpperCase()}> declaration. B2MML needs no DTD, and DTDs are refused ` +
        'to rule out entity expansion and external entities; remove the declaration.',
    );
  }
}

/** The root element's qualified name and namespace URI, read from its start tag. */
function rootStartTag(text: string): { name: string; namespace: string | undefined } {
  let at = 0;
  for (;;) {
    while (at < text.length && /\s/.test(text[at]!)) at++;
    if (text.startsWith('<?', at)) {
      const end = text.indexOf('?>', at);
      if (end < 0) break;
      at = end + 2;
    } else if (text.startsWith('<!--', at)) {
      const end = text.indexOf('-->', at);
      if (end < 0) break;
      at = end + 3;
    } else break;
  }
  const tag =
    /^<([A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*\/?>/.exec(
      text.slice(at),
    );
  if (!tag) {
    throw new B2mmlError(
      'malformed-xml',
      `The document does not start with an element (it starts with ${excerpt(text.slice(at))}).`,
    );
  }
  const name = tag[1]!;
  const colon = name.indexOf(':');
  const prefix = colon < 0 ? '' : name.slice(0, colon);
  const wanted = prefix === '' ? 'xmlns' : `xmlns:${prefix}`;
  let namespace: string | undefined;
  for (const attr of (tag[2] ?? '').matchAll(/([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    if (attr[1] === wanted) namespace = decodeEntities(attr[2] ?? attr[3] ?? '').trim();
  }
  return { name, namespace: namespace === '' ? undefined : namespace };
}
