export {
  type CursorKey,
  type CursorValue,
  compareCursor,
  compareKey,
} from './cursor.js';
export type { Paging } from './paging.js';
export { createRestPollSource, RestPollSource, type RestPollSourceOptions } from './source.js';
export { RestPollSchema, type RestPollSourceConfig, restPollSourceSpec } from './spec.js';
