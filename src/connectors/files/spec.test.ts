import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { describeAjvError } from '../../config/load.js';
import { filesSourceSpec, globToRegExp } from './spec.js';

const AT = 'connectors.drop';

/** Schema problems as the connector manager reports them (Ajv, then key paths). */
function schemaProblems(raw: Record<string, unknown>): string[] {
  const validate = new Ajv({ allErrors: true, strict: false, verbose: true }).compile(filesSourceSpec.schema);
  if (validate(raw)) return [];
  return (validate.errors ?? []).map((e) => {
    const p = describeAjvError(e);
    return p.path ? `${AT}.${p.path}` : AT;
  });
}

function compileProblems(raw: Record<string, unknown>, baseDir = '/data') {
  const problems: Array<{ path: string; message: string }> = [];
  const config = filesSourceSpec.compile({ kind: 'files', ...raw }, AT, problems, baseDir);
  return { config, problems };
}

describe('files spec: schema', () => {
  const good = { kind: 'files', dir: 'inbox', pattern: '*.csv', format: 'csv', type: 'a.b' };

  it('accepts a minimal csv drop folder', () => {
    assert.deepEqual(schemaProblems(good), []);
  });

  it('names each bad field by its path', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...good, format: 'xlsx' }, `${AT}.format`],
      [{ ...good, pollInterval: 'often' }, `${AT}.pollInterval`],
      [{ ...good, stableFor: '5 seconds' }, `${AT}.stableFor`],
      [{ ...good, type: 'Not A Type' }, `${AT}.type`],
      [{ ...good, plant: 'has space' }, `${AT}.plant`],
      [{ ...good, csv: { delimiter: '' } }, `${AT}.csv.delimiter`],
      [{ ...good, csv: { encoding: 'ebcdic' } }, `${AT}.csv.encoding`],
      [{ ...good, csv: { quote: "'" } }, `${AT}.csv.quote`],
      [{ ...good, batchSize: 5000 }, `${AT}.batchSize`],
      [{ ...good, watch: true }, `${AT}.watch`],
      [{ ...good, dir: '' }, `${AT}.dir`],
    ];
    for (const [raw, path] of cases)
      assert.ok(schemaProblems(raw).includes(path), `${path}: ${schemaProblems(raw)}`);
    const { dir: _, ...noDir } = good;
    assert.ok(schemaProblems(noDir).includes(`${AT}.dir`));
  });
});

describe('files spec: compile', () => {
  it('resolves dir against the base directory and fills the defaults', () => {
    const { config, problems } = compileProblems({
      dir: 'inbox',
      pattern: '*.csv',
      format: 'csv',
      type: 'a.b',
    });
    assert.deepEqual(problems, []);
    assert.equal(config.dir, '/data/inbox');
    assert.equal(config.processedDir, '/data/inbox/processed');
    assert.equal(config.failedDir, '/data/inbox/failed');
    assert.equal(config.pollIntervalMs, 1000);
    assert.equal(config.stableForMs, 500);
    assert.equal(config.batchSize, 500);
    assert.deepEqual(config.csv, { delimiter: ',', encoding: 'utf8' });
    assert.equal(config.hasMap, false);
    assert.equal(config.plant, null);
  });

  it('keeps absolute paths and resolves processedDir and failedDir against dir', () => {
    const { config, problems } = compileProblems({
      dir: '/srv/drop',
      pattern: '*.edi',
      format: 'x12',
      processedDir: 'done',
      failedDir: '/srv/rejected',
      pollInterval: '250ms',
      stableFor: '2s',
      plant: 'P1',
      csv: undefined,
    });
    assert.deepEqual(problems, []);
    assert.equal(config.dir, '/srv/drop');
    assert.equal(config.processedDir, join('/srv/drop', 'done'));
    assert.equal(config.failedDir, '/srv/rejected');
    assert.equal(config.pollIntervalMs, 250);
    assert.equal(config.stableForMs, 2000);
    assert.equal(config.plant, 'P1');
  });

  it('names each problem by its path', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ format: 'csv' }, `${AT}.type`],
      [{ format: 'x12', type: 'supplier.asn.received' }, `${AT}.type`],
      [{ format: 'b2mml', type: 'production.order.released' }, `${AT}.type`],
      [{ format: 'json', csv: { delimiter: ';' } }, `${AT}.csv`],
      [{ format: 'csv', type: 'a.b', csv: { delimiter: '"' } }, `${AT}.csv.delimiter`],
      [{ format: 'json', pattern: 'sub/*.json' }, `${AT}.pattern`],
      [{ format: 'json', pattern: '[a-z.json' }, `${AT}.pattern`],
      [{ format: 'json', processedDir: '.' }, `${AT}.processedDir`],
      [{ format: 'json', failedDir: '..' }, `${AT}.failedDir`],
      [{ format: 'json', processedDir: 'x', failedDir: 'x' }, `${AT}.failedDir`],
      [{ format: 'json', pollInterval: '1ms' }, `${AT}.pollInterval`],
    ];
    for (const [raw, path] of cases) {
      const { problems } = compileProblems({ dir: 'inbox', pattern: '*.txt', ...raw });
      assert.deepEqual(
        problems.map((p) => p.path),
        [path],
        JSON.stringify(raw),
      );
      assert.ok(problems[0]!.message.length > 10);
    }
  });

  it('lets a map stand in for the csv type', () => {
    const { config, problems } = compileProblems({
      dir: 'inbox',
      pattern: '*.csv',
      format: 'csv',
      map: '{"type": "a.b", "data": $}',
      csv: { delimiter: ';', encoding: 'latin1' },
    });
    assert.deepEqual(problems, []);
    assert.equal(config.hasMap, true);
    assert.equal(config.type, null);
    assert.deepEqual(config.csv, { delimiter: ';', encoding: 'latin1' });
  });
});

describe('globToRegExp', () => {
  const matches = (glob: string, name: string) => globToRegExp(glob).test(name);

  it('* is any run of characters, ? exactly one', () => {
    assert.ok(matches('*.edi', 'asn-1.edi'));
    assert.ok(matches('*.edi', '.edi'));
    assert.ok(!matches('*.edi', 'asn.edi.tmp'));
    assert.ok(!matches('*.edi', 'asn.EDI'));
    assert.ok(matches('ASN_??.txt', 'ASN_01.txt'));
    assert.ok(!matches('ASN_??.txt', 'ASN_1.txt'));
    assert.ok(matches('*', 'anything at all'));
  });

  it('[...] is a class, with ranges and ! or ^ negation', () => {
    assert.ok(matches('lot[0-9].csv', 'lot7.csv'));
    assert.ok(!matches('lot[0-9].csv', 'lotx.csv'));
    assert.ok(matches('lot[!0-9].csv', 'lotx.csv'));
    assert.ok(matches('lot[^0-9].csv', 'lotx.csv'));
    assert.ok(!matches('lot[!0-9].csv', 'lot7.csv'));
    assert.ok(matches('[]x].csv', '].csv'));
    assert.ok(matches('[ab^]', '^'));
  });

  it('everything else is literal', () => {
    assert.ok(matches('a.b+(c)|{d}$^.csv', 'a.b+(c)|{d}$^.csv'));
    assert.ok(!matches('a.csv', 'abcsv'));
    assert.ok(matches('a\\b', 'a\\b'));
  });

  it('refuses a class it cannot read', () => {
    assert.throws(() => globToRegExp('[abc'), /no closing/);
    assert.throws(() => globToRegExp('x[!]'), /empty|no closing/);
  });
});
