/**
 * Child process for crash tests: opens the configured event log and appends events as fast as
 * it can from several concurrent producers, printing `ACK <id>` for each acknowledged event,
 * until it is killed. Usage: node log-append-child.js '<config json>' '<data dir>'
 */
import { loadConfigFromObject } from '../../src/config/index.js';
import { openEventLog } from '../../src/log/factory.js';
import { makeEvent } from './events.js';

const [rawConfig, dataDir] = process.argv.slice(2);
const config = loadConfigFromObject(JSON.parse(rawConfig ?? '{}') as Record<string, unknown>, { dataDir });
const log = await openEventLog(config);
process.stdout.write('READY\n');

async function producer(key: string): Promise<void> {
  for (let n = 0; ; n++) {
    const batch = Array.from({ length: 1 + (n % 5) }, (_, i) =>
      makeEvent({ subject: key, id: `${process.pid}-${key}-${n}-${i}`, partitionkey: key }),
    );
    await log.append(batch);
    process.stdout.write(batch.map((e) => `ACK ${e.id}\n`).join(''));
  }
}

await Promise.all(Array.from({ length: 8 }, (_, i) => producer(`key-${i}`)));
