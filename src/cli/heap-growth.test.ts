import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { limitHeapGrowth } from './heap-growth.js';

test('the heap growth an operator gave node on its command line is kept, in either spelling', () => {
  assert.equal(limitHeapGrowth(['--heap-growing-percent=200']), false);
  assert.equal(limitHeapGrowth(['--max-old-space-size=512', '--heap_growing_percent=10']), false);
});

test('without one, the hub limits its heap growth, and node takes the flag', () => {
  // In a child: the flag is process-wide, and V8 refuses an unknown one with a warning on stderr.
  const child = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { limitHeapGrowth } from ${JSON.stringify(new URL('./heap-growth.js', import.meta.url).href)};
       process.stdout.write(String(limitHeapGrowth(['--enable-source-maps'])));`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout, 'true');
  assert.equal(child.stderr, '');
});
