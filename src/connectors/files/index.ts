/** The drop-folder source (`kind: files`): register with `registerSource('files', filesSourceSpec, createFilesSource)`. */
export { type CsvHeader, readHeader, rowDataBuilder, rowObject } from './csv-rows.js';
export { type Draft, FileFailure, MAX_DOCUMENT_BYTES, RAW_HEAD_BYTES } from './readers.js';
export { createFilesSource, FileDropSource, type FileDropSourceOptions } from './source.js';
export {
  CSV_ENCODINGS,
  FILE_FORMATS,
  type FileFormat,
  type FilesSourceConfig,
  FilesSourceSchema,
  filesSourceSpec,
  globToRegExp,
} from './spec.js';
