export {
  type CursorValue,
  compareCursor,
  createRestPollSource,
  RestPollSource,
  type RestPollSourceOptions,
} from './source.js';
export { RestPollSchema, type RestPollSourceConfig, restPollSourceSpec } from './spec.js';
