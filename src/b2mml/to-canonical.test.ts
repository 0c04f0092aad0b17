import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertCanonical,
  COURBON,
  fixture,
  throwsB2mml,
  v0600,
  validateWithXsd,
  XSD,
} from './test-helpers.js';
import { b2mmlToCanonical, type ProductionEvent } from './to-canonical.js';

/** Occurrences of an element's start tag in raw XML, counted without the mapper. */
function countElements(xml: string, name: string): number {
  return xml.match(new RegExp(`<(?:\\w+:)?${name}[\\s>/]`, 'g'))?.length ?? 0;
}

/** Each `<name>…</name>` block of raw XML (for elements that do not nest in themselves). */
function blocks(xml: string, name: string): string[] {
  return [...xml.matchAll(new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, 'g'))].map((m) => m[1]!);
}

function field(block: string, name: string): string | undefined {
  return new RegExp(`<${name}(?:\\s[^>]*)?>([^<]*)</${name}>`).exec(block)?.[1];
}

/** Distinct element paths that warnings start with, for elements named `name`. */
function warnedPaths(warnings: readonly string[], name: string): Set<string> {
  const paths = new Set<string>();
  for (const w of warnings) {
    const path = /^(\S+)/.exec(w)?.[1]?.replace(/:$/, '');
    if (path !== undefined && new RegExp(`/${name}\\[\\d+\\]$`).test(path)) paths.add(path);
  }
  return paths;
}

function ofType<T extends ProductionEvent['type']>(events: readonly ProductionEvent[], type: T) {
  return events.filter((e): e is Extract<ProductionEvent, { type: T }> => e.type === type);
}

describe('b2mmlToCanonical on the Courbon examples (V0401)', () => {
  it('the schedule is valid V0401; the performance lacks only its required releaseID and is read anyway', () => {
    assert.deepEqual(validateWithXsd(fixture(COURBON.schedule), XSD.v0401Schedule), {
      valid: true,
      errors: '',
    });
    const performance = validateWithXsd(fixture(COURBON.performance), XSD.v0401Performance);
    assert.equal(performance.valid, false);
    assert.match(performance.errors, /The attribute 'releaseID' is required but missing/);
    assert.equal(performance.errors.split('\n').length, 1, performance.errors);
    assert.equal(b2mmlToCanonical(fixture(COURBON.performance), { plant: 'P1' }).events.length, 1);
  });

  describe('SyncProductionSchedule', () => {
    const xml = fixture(COURBON.schedule).toString('utf8');
    const result = b2mmlToCanonical(fixture(COURBON.schedule), { plant: 'P1' });
    const materials = blocks(xml, 'MaterialRequirement').map((block) => ({
      use: field(block, 'MaterialUse'),
      material: field(block, 'MaterialDefinitionID'),
      quantity: field(block, 'QuantityString'),
      uom: field(block, 'UnitOfMeasure'),
    }));

    it('releases one valid order per ProductionRequest', () => {
      assert.equal(countElements(xml, 'ProductionRequest'), 1);
      assert.equal(result.events.length, countElements(xml, 'ProductionRequest'));
      assertCanonical(result.events);
      assert.equal(result.events[0]?.subject, '258456');
    });

    it('maps the order field by field', () => {
      const [order] = ofType(result.events, 'production.order.released');
      assert.deepEqual(order?.data, {
        orderId: '258456',
        plant: 'P1',
        material: 'SO1215',
        quantity: { value: 1, uom: 'KG' },
        // The file has no EndTime: the order is due as released, at the document's CreationDateTime.
        dueDate: '2009-12-10T17:14:16.0Z',
        bom: [
          { material: 'CRBN0001', quantity: { value: 5, uom: 'KG' } },
          { material: 'CRBN0002', quantity: { value: 50, uom: 'KG' } },
          { material: 'CRBN0001', quantity: { value: 811, uom: 'KG' } },
          { material: 'CRBN0003', quantity: { value: 100, uom: 'KG' } },
        ],
      });
      assert.ok(
        result.warnings.some((w) =>
          /ProductionRequest\[1\] \(258456\): neither .* has an EndTime; the due date is the document's CreationDateTime/.test(
            w,
          ),
        ),
      );
      assert.deepEqual(result.header, {
        version: 'V0401',
        transaction: 'SyncProductionSchedule',
        noun: 'ProductionSchedule',
        verb: 'Sync',
        sender: 'DEV130',
        creationDateTime: '2009-12-10T17:14:16.0Z',
      });
    });

    it('accounts for every material requirement: produced, BOM line or warned about', () => {
      assert.equal(materials.length, 7);
      const [order] = ofType(result.events, 'production.order.released');
      const produced = materials.filter((m) => m.use === 'Produced');
      const consumed = materials.filter((m) => m.use === 'Consumed');
      const other = materials.filter((m) => m.use !== 'Produced' && m.use !== 'Consumed');
      assert.deepEqual(
        produced.map((m) => m.material),
        [order?.data.material],
      );
      assert.deepEqual(
        order?.data.bom,
        consumed.map((m) => ({ material: m.material, quantity: { value: Number(m.quantity), uom: m.uom } })),
      );
      const dropped = result.warnings.filter((w) =>
        /MaterialRequirement\[\d+\] \([^)]*\): not mapped: /.test(w),
      );
      assert.equal(dropped.length, other.length);
      assert.equal(
        produced.length + consumed.length + other.length,
        countElements(xml, 'MaterialRequirement'),
      );
    });

    it('accounts for every segment requirement: a routing step or named in a warning', () => {
      const [order] = ofType(result.events, 'production.order.released');
      const routed = order?.data.routing?.length ?? 0;
      const warned = warnedPaths(result.warnings, 'SegmentRequirement');
      assert.equal(routed + warned.size, countElements(xml, 'SegmentRequirement'));
      // No segment names a work center, so the routing is left for enrichment from reference data.
      assert.equal(order?.data.routing, undefined);
      assert.ok(result.warnings.some((w) => /SegmentRequirement\[1\] \(0010\): .*no work center/.test(w)));
    });

    it('names what it does not map: properties, locations, parameters and descriptions', () => {
      const unmapped = result.warnings.filter((w) => w.includes('not mapped to any production event'));
      assert.ok(unmapped.some((w) => /\(Weighing\): ProductionParameter not mapped/.test(w)));
      assert.ok(unmapped.some((w) => /\(SO1215\): Description not mapped/.test(w)));
      assert.equal(
        unmapped.filter((w) => /Location, MaterialRequirementProperty not mapped/.test(w)).length,
        4,
      );
    });

    it('maps nothing without a plant, and says so', () => {
      const withoutPlant = b2mmlToCanonical(fixture(COURBON.schedule));
      assert.deepEqual(withoutPlant.events, []);
      assert.ok(
        withoutPlant.warnings.some((w) => /ProductionRequest\[1\] \(258456\): not mapped: no plant/.test(w)),
      );
    });
  });

  describe('SyncProductionPerformance', () => {
    const xml = fixture(COURBON.performance).toString('utf8');
    const result = b2mmlToCanonical(fixture(COURBON.performance), { plant: 'P1' });
    const actuals = blocks(xml, 'MaterialActual');

    it('maps the weighing result field by field', () => {
      assertCanonical(result.events);
      assert.deepEqual(result.events, [
        {
          type: 'production.material.consumed',
          subject: '53107',
          data: {
            orderId: '53107',
            plant: 'P1',
            material: 'CRBN0001',
            quantity: { value: 0.41, uom: 'KG' },
            consumedAt: '2012-11-29T11:58:25.3149559+01:00',
            lot: 'CRBN0001_LOT01',
          },
        },
      ]);
    });

    it('accounts for every response, segment response and material actual', () => {
      assert.equal(countElements(xml, 'ProductionResponse'), 1);
      assert.equal(new Set(result.events.map((e) => e.data.orderId)).size, 1);
      const consumed = actuals.filter((a) => field(a, 'MaterialUse') === 'Consumed');
      assert.equal(consumed.length, actuals.length);
      assert.equal(ofType(result.events, 'production.material.consumed').length, consumed.length);
      const produced = actuals.filter((a) => field(a, 'MaterialUse') === 'Produced');
      assert.equal(produced.length, 0);
      // The weighing has no end time or state: it is not a completed operation, and the warning says so.
      assert.equal(ofType(result.events, 'production.operation.completed').length, 0);
      assert.equal(
        warnedPaths(result.warnings, 'SegmentResponse').size,
        countElements(xml, 'SegmentResponse'),
      );
      assert.ok(
        result.warnings.some((w) =>
          /\(Weighing\): no production\.operation\.completed: .*not completed/.test(w),
        ),
      );
      // Nor is the order complete (no EndTime or ResponseState), so there is no order completion.
      assert.equal(ofType(result.events, 'production.order.completed').length, 0);
    });

    it('names the sublot and the properties it does not map, and the consumption time it assumed', () => {
      assert.ok(
        result.warnings.some((w) =>
          /MaterialActual\[1\] \(CRBN0001\): MaterialSubLotID, MaterialActualProperty not mapped/.test(w),
        ),
      );
      assert.ok(result.warnings.some((w) => /dated with the document's CreationDateTime/.test(w)));
    });
  });

  it('refuses a material definition as unsupported-document', () => {
    const error = throwsB2mml(
      () => b2mmlToCanonical(fixture(COURBON.materialDefinition)),
      'unsupported-document',
    );
    assert.match(error.message, /SyncMaterialDefinition/);
  });
});

const FLAT_PERFORMANCE = v0600(
  'SyncProductionPerformance',
  `<ProductionPerformance>
    <ProductionResponse>
      <ID>R-1</ID>
      <ProductionRequestID>4711</ProductionRequestID>
      <HierarchyScope>
        <EquipmentID>ACME</EquipmentID><EquipmentElementLevel>Enterprise</EquipmentElementLevel>
        <HierarchyScope><EquipmentID>P7</EquipmentID><EquipmentElementLevel>Site</EquipmentElementLevel></HierarchyScope>
      </HierarchyScope>
      <SegmentResponse>
        <ProcessSegmentID>0010</ProcessSegmentID>
        <ActualEndTime>2024-06-12T10:00:00+02:00</ActualEndTime>
        <EquipmentActual><EquipmentID>WC-1</EquipmentID></EquipmentActual>
        <MaterialActual>
          <MaterialDefinitionID>FG</MaterialDefinitionID><MaterialUse>Produced</MaterialUse>
          <Quantity><QuantityString>60</QuantityString><UnitOfMeasure>ea</UnitOfMeasure></Quantity>
        </MaterialActual>
        <MaterialActual>
          <MaterialDefinitionID>FG</MaterialDefinitionID><MaterialUse OtherValue="Reject">Other</MaterialUse>
          <Quantity><QuantityString>2</QuantityString><UnitOfMeasure>EA</UnitOfMeasure></Quantity>
          <MaterialActualProperty><ID>ReasonCode</ID><Value><ValueString>SCR-BURR</ValueString></Value></MaterialActualProperty>
        </MaterialActual>
        <MaterialActual>
          <MaterialDefinitionID>RAW</MaterialDefinitionID><MaterialLotID>L1</MaterialLotID><MaterialUse>Consumed</MaterialUse>
          <Quantity><QuantityString>12.5</QuantityString><UnitOfMeasure>KG</UnitOfMeasure></Quantity>
        </MaterialActual>
        <SegmentState>Completed</SegmentState>
      </SegmentResponse>
      <SegmentResponse>
        <ProcessSegmentID>0020</ProcessSegmentID>
        <HierarchyScope><EquipmentID>WC-2</EquipmentID><EquipmentElementLevel>WorkCenter</EquipmentElementLevel></HierarchyScope>
        <ActualEndTime>2024-06-12T15:00:00+02:00</ActualEndTime>
        <MaterialProducedActual><Quantity><QuantityString>40</QuantityString><UnitOfMeasure>EA</UnitOfMeasure></Quantity></MaterialProducedActual>
        <MaterialProducedActual>
          <Quantity><QuantityString>1</QuantityString><UnitOfMeasure>EA</UnitOfMeasure></Quantity>
          <MaterialProducedActualProperty><ID>Scrap</ID><Value><ValueString>1</ValueString></Value></MaterialProducedActualProperty>
        </MaterialProducedActual>
      </SegmentResponse>
      <ResponseState>Completed</ResponseState>
    </ProductionResponse>
  </ProductionPerformance>`,
);

describe('b2mmlToCanonical on V0600 production performance', () => {
  it('the hand-written test document is valid V0600', () => {
    assert.deepEqual(validateWithXsd(FLAT_PERFORMANCE, XSD.v0600Performance), { valid: true, errors: '' });
  });

  it('maps operations, consumption, scrap with a reason, and the order totals of its top-level segments', () => {
    const result = b2mmlToCanonical(FLAT_PERFORMANCE);
    assertCanonical(result.events);
    assert.deepEqual(result.warnings, []);
    const common = { orderId: '4711', plant: 'P7' };
    assert.deepEqual(
      result.events.map((e) => [e.type, e.data]),
      [
        [
          'production.material.consumed',
          {
            ...common,
            material: 'RAW',
            quantity: { value: 12.5, uom: 'KG' },
            consumedAt: '2024-06-12T10:00:00+02:00',
            lot: 'L1',
          },
        ],
        [
          'production.scrap.reported',
          { ...common, material: 'FG', quantity: { value: 2, uom: 'EA' }, reasonCode: 'SCR-BURR' },
        ],
        [
          'production.operation.completed',
          {
            ...common,
            operation: '0010',
            workCenter: 'WC-1',
            quantityGood: { value: 60, uom: 'EA' },
            completedAt: '2024-06-12T10:00:00+02:00',
          },
        ],
        [
          'production.operation.completed',
          {
            ...common,
            operation: '0020',
            workCenter: 'WC-2',
            quantityGood: { value: 40, uom: 'EA' },
            completedAt: '2024-06-12T15:00:00+02:00',
          },
        ],
        [
          'production.order.completed',
          // Good: 60 + 40. Scrap: 2 (MaterialUse Other/Reject) + 1 (Scrap property). Completed: the latest end.
          {
            ...common,
            quantityGood: { value: 100, uom: 'EA' },
            quantityScrap: { value: 3, uom: 'EA' },
            completedAt: '2024-06-12T15:00:00+02:00',
          },
        ],
      ],
    );
    assert.ok(result.events.every((e) => e.subject === '4711'));
  });

  it('does not complete an order whose response is still running, and says which quantities were left', () => {
    const running = FLAT_PERFORMANCE.replace('<ResponseState>Completed', '<ResponseState>Running');
    const result = b2mmlToCanonical(running);
    assert.equal(ofType(result.events, 'production.order.completed').length, 0);
    // The second segment's scrap has no reason and no completed order to count towards.
    assert.ok(
      result.warnings.some((w) =>
        /MaterialProducedActual\[2\]: not mapped: scrap that names no reason/.test(w),
      ),
    );
  });

  it('reports an operation it cannot complete (no work center) instead of emitting invalid data', () => {
    const noWorkCenter = FLAT_PERFORMANCE.replace(
      '<EquipmentActual><EquipmentID>WC-1</EquipmentID></EquipmentActual>',
      '',
    );
    const result = b2mmlToCanonical(noWorkCenter);
    assert.deepEqual(
      ofType(result.events, 'production.operation.completed').map((e) => e.data.operation),
      ['0020'],
    );
    assert.ok(
      result.warnings.some((w) =>
        /SegmentResponse\[1\] \(0010\): no production\.operation\.completed: it names no work center/.test(w),
      ),
    );
  });

  it('refuses mixed units in an order total, with a warning', () => {
    const mixed = FLAT_PERFORMANCE.replace(
      '<QuantityString>40</QuantityString><UnitOfMeasure>EA',
      '<QuantityString>40</QuantityString><UnitOfMeasure>KG',
    );
    const result = b2mmlToCanonical(mixed);
    assert.equal(ofType(result.events, 'production.order.completed').length, 0);
    assert.ok(
      result.warnings.some((w) =>
        /no production\.order\.completed .*good quantities are in different units \(EA, KG\)/.test(w),
      ),
    );
  });

  it('reads times without an offset as UTC and warns, or applies the utcOffset given', () => {
    const zoneless = FLAT_PERFORMANCE.replaceAll('+02:00</ActualEndTime>', '</ActualEndTime>');
    const utc = b2mmlToCanonical(zoneless);
    assert.equal(
      ofType(utc.events, 'production.order.completed')[0]?.data.completedAt,
      '2024-06-12T15:00:00Z',
    );
    assert.ok(utc.warnings.some((w) => /time\(s\) have no UTC offset .*read as Z\. Pass utcOffset/.test(w)));
    const local = b2mmlToCanonical(zoneless, { utcOffset: '+02:00' });
    assert.equal(
      ofType(local.events, 'production.order.completed')[0]?.data.completedAt,
      '2024-06-12T15:00:00+02:00',
    );
    assertCanonical(local.events);
  });

  it('reads a bare ProductionPerformance (no transaction around it)', () => {
    const bare = /<ProductionPerformance>[\s\S]*<\/ProductionPerformance>/
      .exec(FLAT_PERFORMANCE)![0]
      .replace(
        '<ProductionPerformance>',
        '<ProductionPerformance xmlns="http://www.mesa.org/xml/B2MML-V0600">',
      );
    const result = b2mmlToCanonical(bare);
    assert.equal(result.header.verb, undefined);
    assert.deepEqual(result.events, b2mmlToCanonical(FLAT_PERFORMANCE).events);
  });
});

function schedule(requests: string): string {
  return v0600('SyncProductionSchedule', `<ProductionSchedule>${requests}</ProductionSchedule>`);
}

const PRODUCED = `<MaterialProducedRequirement><MaterialDefinitionID>FG</MaterialDefinitionID>
  <Quantity><QuantityString>10</QuantityString><UnitOfMeasure>EA</UnitOfMeasure></Quantity></MaterialProducedRequirement>`;

describe('b2mmlToCanonical on V0600 production schedules', () => {
  it('takes the plant from the Site of a Location hierarchy, over the default plant', () => {
    const xml = schedule(`<ProductionRequest><ID>9</ID>
      <Location><EquipmentID>ACME</EquipmentID><EquipmentElementLevel>Enterprise</EquipmentElementLevel>
        <Location><EquipmentID>P2</EquipmentID><EquipmentElementLevel>Site</EquipmentElementLevel></Location></Location>
      <EndTime>2024-06-14T00:00:00</EndTime><SegmentRequirement>${PRODUCED}</SegmentRequirement></ProductionRequest>`);
    assert.equal(validateWithXsd(xml, XSD.v0600Schedule).valid, true);
    const result = b2mmlToCanonical(xml, { plant: 'P1' });
    assert.deepEqual(result.warnings, []);
    assert.deepEqual(result.events[0]?.data, {
      orderId: '9',
      plant: 'P2',
      material: 'FG',
      quantity: { value: 10, uom: 'EA' },
      dueDate: '2024-06-14',
    });
  });

  it('maps a routing when every step names its work center, and leaves it all out when one does not', () => {
    const step = (op: string, wc: string) => `<SegmentRequirement><ID>${op}</ID>${wc}</SegmentRequirement>`;
    const request = (steps: string) =>
      schedule(`<ProductionRequest><ID>9</ID><EndTime>2024-06-14T16:00:00+02:00</EndTime>
        <SegmentRequirement>${PRODUCED}</SegmentRequirement>${steps}</ProductionRequest>`);
    const full = b2mmlToCanonical(
      request(
        step('0010', '<EquipmentRequirement><EquipmentID>WC-1</EquipmentID></EquipmentRequirement>') +
          step(
            '0020',
            '<HierarchyScope><EquipmentID>WC-2</EquipmentID><EquipmentElementLevel>WorkCenter</EquipmentElementLevel></HierarchyScope>',
          ),
      ),
      { plant: 'P1' },
    );
    const [order] = ofType(full.events, 'production.order.released');
    assert.deepEqual(order?.data.routing, [
      { operation: '0010', workCenter: 'WC-1' },
      { operation: '0020', workCenter: 'WC-2' },
    ]);
    assert.equal(order?.data.dueDate, '2024-06-14T16:00:00+02:00');
    const partial = b2mmlToCanonical(
      request(
        step('0010', '<EquipmentRequirement><EquipmentID>WC-1</EquipmentID></EquipmentRequirement>') +
          step('0020', ''),
      ),
      { plant: 'P1' },
    );
    assert.equal(ofType(partial.events, 'production.order.released')[0]?.data.routing, undefined);
    assert.equal(warnedPaths(partial.warnings, 'SegmentRequirement').size, 2);
  });

  it('takes the operation from ProcessSegmentID and names every element it leaves out', () => {
    const xml =
      schedule(`<ProductionRequest><ID>9</ID><EndTime>2024-06-14T00:00:00</EndTime><Priority>2</Priority>
      <SegmentRequirement>${PRODUCED}</SegmentRequirement>
      <SegmentRequirement><ID>0010</ID><ProcessSegmentID>PRESS</ProcessSegmentID>
        <PersonnelRequirement><PersonnelClassID>Operator</PersonnelClassID></PersonnelRequirement>
        <EquipmentRequirement><EquipmentID>WC-1</EquipmentID></EquipmentRequirement></SegmentRequirement>
      </ProductionRequest>`);
    assert.equal(validateWithXsd(xml, XSD.v0600Schedule).valid, true);
    const result = b2mmlToCanonical(xml, { plant: 'P1' });
    const [order] = ofType(result.events, 'production.order.released');
    assert.deepEqual(order?.data.routing, [{ operation: 'PRESS', workCenter: 'WC-1' }]);
    assert.deepEqual(result.warnings.map((w) => w.replace(/^.*\/ProductionRequest\[1\]/, '…')).sort(), [
      '… (9): Priority not mapped to any production event',
      '…/SegmentRequirement[2] (0010): ID 0010 not mapped: the operation is its ProcessSegmentID PRESS',
      '…/SegmentRequirement[2] (0010): PersonnelRequirement not mapped to any production event',
    ]);
  });

  it('skips forecasts and requests without an ID, with warnings', () => {
    const result = b2mmlToCanonical(
      schedule(`<ProductionRequest><SegmentRequirement>${PRODUCED}</SegmentRequirement></ProductionRequest>
        <ProductionRequest><ID>F-1</ID><EndTime>2024-06-14T00:00:00</EndTime><SegmentRequirement>${PRODUCED}</SegmentRequirement>
        <RequestState>Forecast</RequestState></ProductionRequest>`),
      { plant: 'P1' },
    );
    assert.deepEqual(result.events, []);
    assert.equal(result.warnings.length, 2);
    assert.match(result.warnings[0]!, /ProductionRequest\[1\]: not mapped: the request has no ID/);
    assert.match(result.warnings[1]!, /ProductionRequest\[2\] \(F-1\): not mapped: RequestState Forecast/);
  });

  it('reports an order that would not be valid canonical data instead of emitting it', () => {
    const result = b2mmlToCanonical(
      schedule(`<ProductionRequest><ID>9</ID><HierarchyScope><EquipmentID>Plant 1</EquipmentID>
        <EquipmentElementLevel>Site</EquipmentElementLevel></HierarchyScope><EndTime>2024-06-14T00:00:00</EndTime>
        <SegmentRequirement>${PRODUCED}</SegmentRequirement></ProductionRequest>`),
    );
    assert.deepEqual(result.events, []);
    assert.match(
      result.warnings[0]!,
      /\(9\): not mapped: the production\.order\.released .*\/data\/plant must match/,
    );
  });

  it('reports a BOM line whose quantity cannot be read', () => {
    const result = b2mmlToCanonical(
      schedule(`<ProductionRequest><ID>9</ID><EndTime>2024-06-14T00:00:00</EndTime><SegmentRequirement>${PRODUCED}
        <MaterialConsumedRequirement><MaterialDefinitionID>C</MaterialDefinitionID>
        <Quantity><QuantityString>lots</QuantityString><UnitOfMeasure>KG</UnitOfMeasure></Quantity></MaterialConsumedRequirement>
        </SegmentRequirement></ProductionRequest>`),
      { plant: 'P1' },
    );
    assert.equal(ofType(result.events, 'production.order.released')[0]?.data.bom, undefined);
    assert.match(
      result.warnings.join('\n'),
      /MaterialConsumedRequirement\[1\] \(C\): not mapped: not a BOM line because .*"lots" is not a decimal/,
    );
  });
});

describe('b2mmlToCanonical refuses documents it cannot map', () => {
  it('unsupported-verb for Cancel, Get and Show transactions', () => {
    throwsB2mml(
      () => b2mmlToCanonical(v0600('CancelProductionSchedule', '<ProductionSchedule/>', 'Cancel')),
      'unsupported-verb',
    );
    throwsB2mml(
      () => b2mmlToCanonical(v0600('GetProductionPerformance', '<ProductionPerformance/>', 'Get')),
      'unsupported-verb',
    );
    throwsB2mml(
      () => b2mmlToCanonical(v0600('ShowProductionPerformance', '<ProductionPerformance/>', 'Show')),
      'unsupported-verb',
    );
  });

  it('unsupported-verb for a Sync whose action is Delete', () => {
    const xml = v0600('SyncProductionSchedule', '<ProductionSchedule/>').replace(
      '<Sync/>',
      '<Sync><ActionCriteria><ActionExpression actionCode="Delete">/ProductionSchedule</ActionExpression></ActionCriteria></Sync>',
    );
    throwsB2mml(() => b2mmlToCanonical(xml), 'unsupported-verb');
  });

  it('missing-data-area for a transaction without its noun', () => {
    throwsB2mml(() => b2mmlToCanonical(v0600('SyncProductionSchedule', '')), 'missing-data-area');
    throwsB2mml(
      () =>
        b2mmlToCanonical(
          '<SyncProductionPerformance xmlns="http://www.mesa.org/xml/B2MML-V0600" releaseID="V0600"/>',
        ),
      'missing-data-area',
    );
  });

  it('passes on the parser errors', () => {
    throwsB2mml(() => b2mmlToCanonical(''), 'empty-document');
    throwsB2mml(() => b2mmlToCanonical('<SyncProductionSchedule>'), 'malformed-xml');
    throwsB2mml(() => b2mmlToCanonical('<!DOCTYPE x [<!ENTITY a "b">]><x/>'), 'doctype-not-allowed');
    throwsB2mml(() => b2mmlToCanonical('<SyncProductionSchedule releaseID="x"/>'), 'not-b2mml');
  });

  it('RangeError for options that are not a plant code or a UTC offset', () => {
    const xml = fixture(COURBON.schedule);
    assert.throws(() => b2mmlToCanonical(xml, { plant: 'Plant 1' }), RangeError);
    assert.throws(() => b2mmlToCanonical(xml, { utcOffset: 'CET' }), RangeError);
  });
});
