import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { SourceMessage } from '../../src/connectors/framework/types.js';
import { OpcuaSource } from '../../src/connectors/opcua/source.js';
import { COUNTER_TYPE } from '../../src/connectors/opcua/spec.js';
import { SimulatedPlc } from '../../src/sim/plc.js';
import { RecordingContext } from '../contracts/connector-contract.js';
import { OpcuaResumeBreaker } from '../helpers/opcua-proxy.js';
import { compileOpcuaSource } from '../helpers/opcua-source-config.js';

/**
 * A server that restarts and then hangs up on every attempt to reactivate the session it no longer
 * knows: the OPC UA stack's own reconnection reopens the channel over and over and never gets the
 * session back. The source gives the stack `reconnect.resumeTimeout` from the first reopened
 * channel, then drops the client and opens a new session and subscription itself.
 */
const PRESS = 'Press7';
const RESUME_TIMEOUT_MS = 2_000;
/** Room for the stack's first reopened channel, the back-off, a new session and its first publish, on a busy machine. */
const SLACK_MS = 8_000;
const plc = new SimulatedPlc({ machines: [PRESS] });
let proxy: OpcuaResumeBreaker;
let dataDir = '';

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'conveyor-opcua-resume-'));
  await plc.start();
  const { hostname, port } = new URL(plc.endpointUrl.replace(/^opc\.tcp:/, 'http:'));
  proxy = new OpcuaResumeBreaker({ host: hostname, port: Number(port) });
  await proxy.start();
});

after(async () => {
  await proxy?.close();
  await plc.close();
  await rm(dataDir, { recursive: true, force: true });
});

const payloadOf = (m: SourceMessage) => m.payload as { nodeId: string; value: unknown };
const valuesOf = (ctx: RecordingContext, nodeId: string) =>
  ctx.delivered.filter((m) => payloadOf(m).nodeId === nodeId).map((m) => payloadOf(m).value);
const lastStatus = (ctx: RecordingContext) => ctx.statuses.at(-1)?.type;

async function bump(): Promise<number> {
  const value = plc.addGood(PRESS);
  await plc.sampled(PRESS, 'GoodCount');
  return value;
}

test('a restarted server that will not resume the session: a new session within resumeTimeout, each change once', async () => {
  const goodId = plc.nodeId(PRESS, 'GoodCount');
  const config = compileOpcuaSource(
    { endpoint: proxy.endpointUrl, connector: 'plc-resume', stateDir: dataDir },
    {
      reconnect: { initialDelay: '100ms', maxDelay: '500ms', resumeTimeout: `${RESUME_TIMEOUT_MS}ms` },
      nodes: [
        {
          nodeId: goodId,
          type: COUNTER_TYPE,
          equipmentId: 'PRESS-07',
          samplingInterval: '50ms',
          queueSize: 100,
        },
      ],
    },
  );
  assert.equal(config.reconnect.resumeTimeoutMs, RESUME_TIMEOUT_MS);
  const ctx = new RecordingContext();
  const source = new OpcuaSource(config, 'plc-resume');
  await source.start(ctx);
  try {
    await ctx.until(() => lastStatus(ctx) === 'up', 'status up');
    const first = await bump();
    await ctx.until(() => valuesOf(ctx, goodId).includes(first), 'a change before the restart');

    proxy.forgetSessions = true;
    const fromStatus = ctx.statuses.length;
    await plc.restart();
    // From the moment the server is back: how long its own restart takes is not the source's doing.
    const restartedAt = Date.now();
    await ctx.until(() => lastStatus(ctx) === 'down', 'status down');
    // A change while the session is gone: the new subscription gets it as the current value.
    const during = await bump();
    await ctx.until(
      () => valuesOf(ctx, goodId).includes(during),
      'the change of the outage, from a new session',
      RESUME_TIMEOUT_MS + SLACK_MS,
    );
    const recoveredInMs = Date.now() - restartedAt;
    const cut = proxy.cutReactivations;
    assert.ok(cut >= 1, 'the stack tried to reactivate the old session and was cut');
    await ctx.until(() => lastStatus(ctx) === 'up', 'status up after the new session');
    const meanwhile = ctx.statuses.slice(fromStatus, -1);
    assert.ok(meanwhile.length > 0, 'health changed during the outage');
    for (const status of meanwhile)
      assert.ok(
        status.type === 'down' && status.reason.includes(proxy.endpointUrl),
        `down naming the endpoint until recovered, saw ${JSON.stringify(status)}`,
      );
    assert.ok(
      meanwhile.some((s) => s.type === 'down' && /resume/.test(s.reason)),
      `a reason says the session was not resumed: ${meanwhile.map((s) => ('reason' in s ? s.reason : s.type)).join(' | ')}`,
    );
    assert.ok(
      recoveredInMs < RESUME_TIMEOUT_MS + SLACK_MS,
      `recovered ${recoveredInMs} ms after the restart`,
    );

    // One session, one subscription, one item: the dropped client left nothing behind.
    assert.equal(plc.sessionCount, 1, 'one session on the server');
    assert.equal(plc.subscriptionCount, 1, 'one subscription on the server');
    assert.equal(plc.monitoredItems(goodId).length, 1, 'one monitored item');

    const produced = [await bump(), await bump(), await bump()];
    await ctx.until(() => produced.every((v) => valuesOf(ctx, goodId).includes(v)), 'the changes after');
    await plc.settled();
    const counts = valuesOf(ctx, goodId);
    for (const value of [first, during, ...produced])
      assert.equal(counts.filter((v) => v === value).length, 1, `count ${value} delivered once`);
    assert.equal(ctx.distinct().size, ctx.delivered.length, 'no message delivered twice');
    assert.ok(
      [...ctx.acked.values()].every((n) => n === 1),
      'each acked once',
    );
    assert.equal(proxy.cutReactivations, cut, 'the dropped client stopped trying to resume its session');
    assert.equal(plc.sessionCount, 1, 'still one session');
    assert.equal(plc.subscriptionCount, 1, 'still one subscription');
  } finally {
    await source.stop();
  }
  const deadline = Date.now() + 10_000;
  while (plc.sessionCount > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(plc.sessionCount, 0, 'the session closed by stop');
});
