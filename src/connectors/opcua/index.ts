export {
  createOpcuaSource,
  MAX_BATCH,
  MAX_BUFFERED,
  OpcuaSource,
  type OpcuaSourceOptions,
} from './source.js';
export {
  COUNTER_TYPE,
  type OpcuaNodeConfig,
  OpcuaSchema,
  type OpcuaSourceConfig,
  opcuaSourceSpec,
  STATE_TYPE,
} from './spec.js';
