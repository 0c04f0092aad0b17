import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { decodeHttpRequest } from './http-codec.js';

interface Scenario {
  name: string;
  request: string;
  attributes: Record<string, string>;
  data: unknown;
  examples: Array<Record<string, string>>;
}

/** Reads the Gherkin scenarios of the CloudEvents HTTP binding conformance file. */
function scenarios(): Scenario[] {
  const text = readFileSync(
    new URL('../../../test/data/cloudevents/http-protocol-binding.feature', import.meta.url),
    'utf8',
  );
  return text
    .split(/\n\s*Scenario Outline: /)
    .slice(1)
    .map((block) => {
      const docs = [...block.matchAll(/"""\n([\s\S]*?)\n\s*"""/g)].map((m) =>
        (m[1] as string).replace(/^ {8}/gm, ''),
      );
      const table = (section: string) =>
        [...section.matchAll(/^\s*\|(.+)\|\s*$/gm)].map((m) =>
          (m[1] as string).split('|').map((c) => c.trim()),
        );
      const attrRows = table(
        block.split('Then the attributes are:')[1]?.split('And the data')[0] ?? '',
      ).slice(1);
      const exampleRows = table(block.split('Examples:')[1] ?? '');
      const header = exampleRows[0] ?? [];
      return {
        name: block.split('\n')[0] as string,
        request: docs[0] as string,
        attributes: Object.fromEntries(attrRows.map(([k, v]) => [k as string, v as string])),
        data: JSON.parse(docs[1] as string),
        examples: exampleRows
          .slice(1)
          .map((row) => Object.fromEntries(header.map((h, i) => [h, row[i] as string]))),
      };
    });
}

function substitute(text: string, example: Record<string, string>): string {
  return text.replace(/<([A-Za-z]+)>/g, (_m, key: string) => example[key] ?? '');
}

test('the CloudEvents HTTP binding conformance scenarios decode to the expected attributes and data', () => {
  const all = scenarios();
  assert.ok(all.length >= 2);
  let cases = 0;
  for (const scenario of all) {
    for (const example of scenario.examples) {
      const raw = substitute(scenario.request, example);
      const [head, body] = raw.split(/\n\n/, 2) as [string, string];
      const headers: Record<string, string> = {};
      for (const line of head.split('\n').slice(1)) {
        const at = line.indexOf(':');
        headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
      }
      const decoded = decodeHttpRequest(headers, Buffer.from(body));
      // These events carry no plant and time only where given; conformance is about the codec.
      const event = decoded.events[0]?.event;
      const problems = decoded.rejected
        .flatMap((r) => r.errors)
        .filter((e) => e.path !== '/time' && e.path !== '/data');
      assert.deepEqual(problems, [], `${scenario.name} ${JSON.stringify(example)}`);
      if (event === undefined) continue;
      for (const [key, value] of Object.entries(scenario.attributes)) {
        assert.equal(String(event[key]), substitute(value, example), `${scenario.name}: ${key}`);
      }
      assert.deepEqual(event.data, scenario.data);
      cases++;
    }
  }
  assert.ok(cases >= 4, `only ${cases} cases ran`);
});

test('binary mode keeps non-JSON bodies: text as data, bytes as data_base64', () => {
  const base = {
    'ce-specversion': '1.0',
    'ce-id': 'b1',
    'ce-source': '/s',
    'ce-type': 'x.y',
    'ce-time': '2026-01-01T00:00:00Z',
  };
  const text = decodeHttpRequest({ ...base, 'content-type': 'text/plain' }, Buffer.from('hello'));
  assert.equal(text.events[0]?.event.data, 'hello');
  const bytes = decodeHttpRequest(
    { ...base, 'content-type': 'application/octet-stream' },
    Buffer.from([0, 1, 2, 255]),
  );
  assert.equal(bytes.events[0]?.event.data_base64, 'AAEC/w==');
  const encoded = decodeHttpRequest(
    { ...base, 'ce-subject': 'Lot%20%C3%84-1', 'content-type': 'application/json' },
    Buffer.from('{}'),
  );
  assert.equal(encoded.events[0]?.event.subject, 'Lot Ä-1', 'percent-encoded header values are decoded');
});
