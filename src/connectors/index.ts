/**
 * The connector kinds of this build, registered once. Each technology keeps its spec, source and
 * sink in its own folder; this is the one place that lists them.
 */
import { createFileOutSink, fileOutSinkSpec } from './file-out/sink.js';
import { filesSourceSpec } from './files/spec.js';
import { lazySource } from './framework/lazy-source.js';
import { registerSink, registerSource } from './framework/registry.js';
import { httpConnectorSpec } from './http/spec.js';
import { createMqttOutSink, mqttOutSinkSpec } from './mqtt/sink.js';
import { mqttSourceSpec } from './mqtt/spec.js';
import { createOpcuaSource, opcuaSourceSpec } from './opcua/index.js';
import { createOpcuaOutSink, opcuaOutSinkSpec } from './opcua/sink.js';
import { createRestPollSource, restPollSourceSpec } from './rest-poll/index.js';

let registered = false;

export function registerBuiltInConnectors(): void {
  if (registered) return;
  registered = true;
  registerSink('http', httpConnectorSpec);
  registerSink('file-out', fileOutSinkSpec, createFileOutSink);
  registerSink('mqtt-out', mqttOutSinkSpec, createMqttOutSink);
  registerSink('opcua-out', opcuaOutSinkSpec, createOpcuaOutSink);
  registerSource('rest-poll', restPollSourceSpec, createRestPollSource);
  // Sources whose stacks are sizeable (CSV/XML readers; MQTT with the Sparkplug protobufs) load on first start.
  registerSource(
    'files',
    filesSourceSpec,
    lazySource(async () => (await import('./files/source.js')).createFilesSource),
  );
  registerSource('opcua', opcuaSourceSpec, createOpcuaSource);
  registerSource(
    'mqtt',
    mqttSourceSpec,
    lazySource(async () => {
      const { MqttSource } = await import('./mqtt/source.js');
      return (config, name) => new MqttSource(config, name);
    }),
  );
}
