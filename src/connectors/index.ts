/**
 * The connector kinds of this build, registered once. Each technology keeps its spec, source and
 * sink in its own folder; this is the one place that lists them.
 */
import { createFileOutSink, fileOutSinkSpec } from './file-out/sink.js';
import { createFilesSource, filesSourceSpec } from './files/index.js';
import { registerSink, registerSource } from './framework/registry.js';
import { httpConnectorSpec } from './http/spec.js';
import { createMqttOutSink, mqttOutSinkSpec } from './mqtt/sink.js';
import { MqttSource } from './mqtt/source.js';
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
  registerSource('files', filesSourceSpec, createFilesSource);
  registerSource('opcua', opcuaSourceSpec, createOpcuaSource);
  registerSource('mqtt', mqttSourceSpec, (config, name) => new MqttSource(config, name));
}
