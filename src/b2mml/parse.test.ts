import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { B2MML_NAMESPACES, parseB2mml, type XmlElement } from './parse.js';
import { COURBON, fixture, throwsB2mml } from './test-helpers.js';

const V0600 = B2MML_NAMESPACES.V0600;

function child(element: XmlElement, ...path: (string | number)[]): unknown {
  let node: unknown = element;
  for (const step of path) node = (node as Record<string | number, unknown>)[step];
  return node;
}

describe('parseB2mml', () => {
  it('reads the Courbon V0401 schedule (UTF-8 BOM) with repeating elements as arrays and attributes kept', () => {
    const doc = parseB2mml(fixture(COURBON.schedule));
    assert.equal(doc.version, 'V0401');
    assert.equal(doc.namespace, 'http://www.wbf.org/xml/B2MML-V0401');
    assert.equal(doc.root, 'SyncProductionSchedule');
    assert.equal(doc.element['@_releaseID'], '');
    const requests = child(doc.element, 'DataArea', 'ProductionSchedule', 0, 'ProductionRequest');
    assert.ok(
      Array.isArray(requests) && requests.length === 1,
      'ProductionRequest is an array even when alone',
    );
    const request = (requests as XmlElement[])[0]!;
    assert.equal(request.ID, '258456', 'ids stay strings');
    const segment = child(request, 'SegmentRequirement', 0) as XmlElement;
    assert.equal(segment.ID, '0010', 'leading zeros survive: values are never parsed as numbers');
    const produced = child(segment, 'MaterialRequirement', 0) as XmlElement;
    assert.deepEqual(produced.Description, [{ '#text': 'Final 1215', '@_languageID': 'F' }]);
    assert.deepEqual(produced.Quantity, [
      { QuantityString: '1.000', DataType: 'decimal', UnitOfMeasure: 'KG' },
    ]);
    const weighing = child(segment, 'SegmentRequirement', 0) as XmlElement;
    assert.equal((weighing.MaterialRequirement as unknown[]).length, 4);
  });

  it('reads the same document from a string with its BOM', () => {
    const bytes = parseB2mml(fixture(COURBON.performance));
    const text = parseB2mml(fixture(COURBON.performance).toString('utf8'));
    assert.deepEqual(text, bytes);
    const actual = child(
      bytes.element,
      'DataArea',
      'ProductionPerformance',
      0,
      'ProductionResponse',
      0,
      'SegmentResponse',
      0,
      'MaterialActual',
      0,
    );
    assert.equal((actual as XmlElement).MaterialLotID?.toString(), 'CRBN0001_LOT01');
    assert.equal(((actual as XmlElement).MaterialActualProperty as unknown[]).length, 3);
  });

  it('reads V0600 with a namespace prefix, removing the prefixes', () => {
    const doc = parseB2mml(
      `<b2mml:ProductionSchedule xmlns:b2mml="${V0600}"><b2mml:ProductionRequest><b2mml:ID>A-1</b2mml:ID>` +
        '</b2mml:ProductionRequest></b2mml:ProductionSchedule>',
    );
    assert.equal(doc.version, 'V0600');
    assert.equal(doc.root, 'ProductionSchedule');
    assert.deepEqual(doc.element, { ProductionRequest: [{ ID: 'A-1' }] });
  });

  it('decodes the predefined entities and character references, once', () => {
    const doc = parseB2mml(
      `<ProductionSchedule xmlns="${V0600}"><ID>a&lt;b&amp;c &#x41;&#66; &amp;#65;</ID></ProductionSchedule>`,
    );
    assert.equal(doc.element.ID, 'a<b&c AB &#65;');
  });

  it('decodes bytes in the encoding the declaration names, and UTF-16 with a BOM', () => {
    const latin1 = Buffer.from(
      `<?xml version="1.0" encoding="ISO-8859-1"?><ProductionSchedule xmlns="${V0600}"><ID>Pièce</ID></ProductionSchedule>`,
      'latin1',
    );
    assert.equal(parseB2mml(latin1).element.ID, 'Pièce');
    const utf16 = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from(`<ProductionSchedule xmlns="${V0600}"><ID>Ω-7</ID></ProductionSchedule>`, 'utf16le'),
    ]);
    assert.equal(parseB2mml(utf16).element.ID, 'Ω-7');
  });

  describe('refuses bad input with a specific code', () => {
    it('empty-document for an empty or blank document', () => {
      throwsB2mml(() => parseB2mml(''), 'empty-document');
      throwsB2mml(() => parseB2mml(' \n\t '), 'empty-document');
      throwsB2mml(() => parseB2mml(new Uint8Array()), 'empty-document');
      throwsB2mml(() => parseB2mml('\uFEFF'), 'empty-document');
    });

    it('malformed-xml for mismatched tags, with the line', () => {
      const error = throwsB2mml(
        () => parseB2mml(`<ProductionSchedule xmlns="${V0600}">\n<ID>1</Id>\n</ProductionSchedule>`),
        'malformed-xml',
      );
      assert.equal(error.line, 2);
      assert.match(error.message, /line 2/);
    });

    it('malformed-xml for text that is not XML, a truncated document and two root elements', () => {
      throwsB2mml(() => parseB2mml('ID,Quantity\n1,2'), 'malformed-xml');
      throwsB2mml(() => parseB2mml(`<ProductionSchedule xmlns="${V0600}"><ID>1</ID>`), 'malformed-xml');
      throwsB2mml(
        () => parseB2mml(`<ProductionSchedule xmlns="${V0600}"/><ProductionSchedule xmlns="${V0600}"/>`),
        'malformed-xml',
      );
    });

    it('malformed-xml for an entity reference no DTD defines', () => {
      const error = throwsB2mml(
        () => parseB2mml(`<ProductionSchedule xmlns="${V0600}"><ID>&secret;</ID></ProductionSchedule>`),
        'malformed-xml',
      );
      assert.match(error.message, /&secret;/);
    });

    it('doctype-not-allowed for internal entities, external entities (XXE) and a bare DOCTYPE', () => {
      const bomb =
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>' +
        `<ProductionSchedule xmlns="${V0600}"><ID>&lol2;</ID></ProductionSchedule>`;
      throwsB2mml(() => parseB2mml(bomb), 'doctype-not-allowed');
      const xxe =
        '<!DOCTYPE ProductionSchedule [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' +
        `<ProductionSchedule xmlns="${V0600}"><ID>&xxe;</ID></ProductionSchedule>`;
      const error = throwsB2mml(() => parseB2mml(Buffer.from(xxe)), 'doctype-not-allowed');
      assert.doesNotMatch(error.message, /root:/, 'the file is never read');
      throwsB2mml(
        () => parseB2mml(`<!DOCTYPE ProductionSchedule><ProductionSchedule xmlns="${V0600}"/>`),
        'doctype-not-allowed',
      );
    });

    it('not doctype-not-allowed when the word only appears in a comment or CDATA', () => {
      const doc = parseB2mml(
        `<!-- <!DOCTYPE x> --><ProductionSchedule xmlns="${V0600}"><ID><![CDATA[<!ENTITY y>]]></ID></ProductionSchedule>`,
      );
      assert.equal(doc.element.ID, '<!ENTITY y>');
    });

    it('not-b2mml for a foreign root, a root in no namespace and a root in another namespace', () => {
      throwsB2mml(() => parseB2mml('<html><body>hello</body></html>'), 'not-b2mml');
      const bare = throwsB2mml(() => parseB2mml('<SyncProductionSchedule releaseID="1"/>'), 'not-b2mml');
      assert.match(bare.message, /no namespace/);
      assert.match(bare.message, /B2MML-V0600/);
      const other = throwsB2mml(
        () => parseB2mml('<ProductionSchedule xmlns="http://www.mesa.org/xml/B2MML"/>'),
        'not-b2mml',
      );
      assert.match(other.message, /http:\/\/www\.mesa\.org\/xml\/B2MML\b/);
      // Only the root's own namespace counts, not a declaration for some other prefix.
      throwsB2mml(() => parseB2mml(`<x:Doc xmlns:x="urn:other" xmlns="${V0600}"/>`), 'not-b2mml');
    });

    it('bad-encoding for bytes that are not in the declared encoding, or an unknown encoding', () => {
      const invalidUtf8 = Buffer.concat([
        Buffer.from(`<ProductionSchedule xmlns="${V0600}"><ID>`),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('</ID></ProductionSchedule>'),
      ]);
      throwsB2mml(() => parseB2mml(invalidUtf8), 'bad-encoding');
      throwsB2mml(
        () => parseB2mml(Buffer.from(`<?xml version="1.0" encoding="EBCDIC-XYZ"?><a xmlns="${V0600}"/>`)),
        'bad-encoding',
      );
    });
  });
});
