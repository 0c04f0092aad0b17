/**
 * One reader per format: each turns a file into drafts of source messages, lazily, so the caller's
 * pace (awaiting the hub batch by batch) is the pace at which the file is read. A file that cannot be
 * read as its format at all ends the drafts with a {@link FileFailure}.
 */
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { CsvError, parse } from 'csv-parse';
import { B2mmlError, b2mmlToCanonical, parseB2mml } from '../../b2mml/index.js';
import { EdiError, parseAsn } from '../../edi/index.js';
import type { Logger } from '../../observability/logger.js';
import type { MappedEvent } from '../framework/types.js';
import { readHeader, rowDataBuilder, rowObject } from './csv-rows.js';
import type { FilesSourceConfig } from './spec.js';

/** Bytes of a file kept as `raw` of a message standing for the whole file. */
export const RAW_HEAD_BYTES = 64 * 1024;
/** Formats read whole (EDI, XML, a JSON document) are refused beyond this size. */
export const MAX_DOCUMENT_BYTES = 64 * 1024 * 1024;

/** A source message before it has an identity and an acknowledgement. */
export interface Draft {
  /** Position in the file (row, line, notice); the message id is `<file key>#<ref>`. */
  readonly ref: string;
  readonly origin: string;
  readonly payload: unknown;
  readonly raw: string | Uint8Array;
  readonly events?: readonly MappedEvent[];
  readonly error?: string;
}

/** Where in the file a failure was found, when the parser could tell. */
export interface FailurePosition {
  readonly line?: number;
  readonly column?: number;
  /** EDI segment tag, e.g. `ST`. */
  readonly segment?: string;
  readonly segmentIndex?: number;
}

/** A file that cannot be read as its format: it goes to `failedDir`. */
export class FileFailure extends Error {
  override readonly name = 'FileFailure';
  constructor(
    readonly code: string,
    message: string,
    readonly position: FailurePosition = {},
  ) {
    super(message);
  }
}

/** The file being read. */
export interface FileRef {
  readonly name: string;
  readonly path: string;
  readonly size: number;
}

export interface ReaderContext {
  readonly config: FilesSourceConfig;
  readonly logger: Logger;
}

/** The first bytes of a file, for messages that stand for all of it. */
export async function readHead(path: string): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(RAW_HEAD_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, RAW_HEAD_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function readWhole(file: FileRef): Promise<Buffer> {
  if (file.size > MAX_DOCUMENT_BYTES)
    throw new FileFailure(
      'file-too-large',
      `${file.size} bytes is more than the ${MAX_DOCUMENT_BYTES} a document may have; split it`,
    );
  return readFile(file.path);
}

const head = (body: Buffer) => body.subarray(0, RAW_HEAD_BYTES);

/** The drafts of a file of the configured format. */
export function readDrafts(file: FileRef, context: ReaderContext): AsyncGenerator<Draft> {
  if (file.size === 0)
    return (async function* () {
      yield* [];
      throw new FileFailure('empty-file', 'the file is empty');
    })();
  switch (context.config.format) {
    case 'csv':
      return csvDrafts(file, context);
    case 'json':
      return jsonDrafts(file, context);
    case 'x12':
    case 'edifact':
      return asnDrafts(file, context, context.config.format);
    case 'b2mml':
      return b2mmlDrafts(file, context);
  }
}

async function* csvDrafts(file: FileRef, { config }: ReaderContext): AsyncGenerator<Draft> {
  const input = createReadStream(file.path);
  const parser = parse({
    bom: true,
    info: true,
    raw: true,
    relax_column_count: true,
    skip_empty_lines: true,
    delimiter: config.csv.delimiter,
    encoding: config.csv.encoding,
    // Files edited on different systems mix line endings.
    record_delimiter: ['\r\n', '\n', '\r'],
  });
  input.on('error', (error) => parser.destroy(error));
  input.pipe(parser);
  const build = config.hasMap ? null : rowDataBuilder(config.type, config.plant);
  let header: ReturnType<typeof readHeader> | undefined;
  let row = 0;
  try {
    for await (const item of parser as AsyncIterable<{
      record: string[];
      raw: string;
      info: { lines: number };
    }>) {
      const { record, info } = item;
      if (header === undefined) {
        try {
          header = readHeader(record);
        } catch (error) {
          throw new FileFailure('bad-header', (error as Error).message, { line: info.lines });
        }
        continue;
      }
      row++;
      const origin = `${file.path}:${info.lines}`;
      const raw = item.raw.replace(/^[\r\n]+|[\r\n]+$/g, '');
      const payload = rowObject(header, record);
      if (record.length !== header.names.length) {
        yield {
          ref: String(row),
          origin,
          payload,
          raw,
          events: [],
          error: `line ${info.lines} has ${record.length} fields; the header row names ${header.names.length}`,
        };
        continue;
      }
      if (build === null) {
        yield { ref: String(row), origin, payload, raw };
        continue;
      }
      const data = build(header, record);
      const plant = payload.plant?.trim() || config.plant;
      yield {
        ref: String(row),
        origin,
        payload,
        raw,
        events: [{ type: config.type!, data, ...(plant ? { plant } : {}) }],
      };
    }
  } catch (error) {
    if (error instanceof CsvError) {
      const line = (error as CsvError & { lines?: number }).lines;
      throw new FileFailure(
        'malformed-csv',
        `not readable as CSV${line !== undefined ? ` at line ${line}` : ''}: ${error.message} (${error.code})`,
        line !== undefined ? { line } : {},
      );
    }
    throw error;
  } finally {
    input.destroy();
    parser.destroy();
  }
  if (header === undefined) throw new FileFailure('bad-header', 'the file has no header row');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A JSON value as a draft: the built-in mapping makes it an event of `type`, or takes it as an event. */
function valueDraft(
  value: unknown,
  ref: string,
  origin: string,
  raw: string,
  config: FilesSourceConfig,
): Draft {
  const base = { ref, origin, payload: value, raw };
  if (config.hasMap) return base;
  if (config.type !== null) {
    if (!isPlainObject(value))
      return {
        ...base,
        events: [],
        error: `a ${typeof value} cannot be the data of ${config.type}; send objects`,
      };
    const plant = typeof value.plant === 'string' ? value.plant : config.plant;
    const data = value.plant === undefined && plant !== null ? { ...value, plant } : value;
    return { ...base, events: [{ type: config.type, data, ...(plant ? { plant } : {}) }] };
  }
  if (isPlainObject(value) && typeof value.type === 'string' && isPlainObject(value.data)) {
    const { type, data, subject, plant, time } = value;
    const event: MappedEvent = {
      type,
      data,
      ...(typeof subject === 'string' ? { subject } : {}),
      ...(typeof plant === 'string' ? { plant } : {}),
      ...(typeof time === 'string' ? { time } : {}),
    };
    return { ...base, events: [event] };
  }
  return {
    ...base,
    events: [],
    error: 'without type or map on the connector, each JSON value must be an event {type, data}',
  };
}

/** One draft per value; an array is its elements (`<ref>.<n>`), whether it is a line or the document. */
function* valueDrafts(
  value: unknown,
  ref: string,
  origin: string,
  raw: string,
  config: FilesSourceConfig,
): Generator<Draft> {
  if (!Array.isArray(value)) {
    yield valueDraft(value, ref, origin, raw, config);
    return;
  }
  for (const [i, element] of value.entries())
    yield valueDraft(element, `${ref}.${i + 1}`, `${origin}[${i}]`, JSON.stringify(element), config);
}

/** The line and column of a JSON.parse error position, when the message gives one. */
function jsonPosition(text: string, error: Error): FailurePosition {
  const at = /position (\d+)/.exec(error.message);
  if (!at) return {};
  const before = text.slice(0, Number(at[1]));
  const line = before.split('\n').length;
  return { line, column: before.length - before.lastIndexOf('\n') };
}

/**
 * JSON lines when the first non-blank line is a JSON value by itself (a bad later line is one bad
 * message); otherwise one JSON document, read whole.
 */
async function* jsonDrafts(file: FileRef, { config }: ReaderContext): AsyncGenerator<Draft> {
  const input = createReadStream(file.path, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  let document = false;
  let first = true;
  try {
    for await (const line of lines) {
      lineNo++;
      const text = lineNo === 1 ? line.replace(/^\uFEFF/, '') : line;
      if (text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        if (first) {
          document = true;
          break;
        }
        yield {
          ref: String(lineNo),
          origin: `${file.path}:${lineNo}`,
          payload: null,
          raw: text,
          events: [],
          error: `line ${lineNo} is not JSON: ${(error as Error).message}`,
        };
        continue;
      }
      first = false;
      yield* valueDrafts(value, String(lineNo), `${file.path}:${lineNo}`, text, config);
    }
  } finally {
    lines.close();
    input.destroy();
  }
  if (!document) return;
  const text = (await readWhole(file)).toString('utf8').replace(/^\uFEFF/, '');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const position = jsonPosition(text, error as Error);
    throw new FileFailure(
      'malformed-json',
      `neither JSON lines nor one JSON document: ${(error as Error).message}`,
      position,
    );
  }
  yield* valueDrafts(value, '1', file.path, text.slice(0, RAW_HEAD_BYTES), config);
}

function ediFailure(error: EdiError): FileFailure {
  return new FileFailure(error.code, error.message, {
    ...(error.line !== undefined ? { line: error.line } : {}),
    ...(error.tag !== undefined ? { segment: error.tag } : {}),
    ...(error.segmentIndex !== undefined ? { segmentIndex: error.segmentIndex } : {}),
  });
}

/** One draft per ship notice; `events` is its supplier.asn.received. */
async function* asnDrafts(
  file: FileRef,
  { config, logger }: ReaderContext,
  format: 'x12' | 'edifact',
): AsyncGenerator<Draft> {
  const body = await readWhole(file);
  let result: ReturnType<typeof parseAsn>;
  try {
    result = parseAsn(body, format, config.plant !== null ? { plant: config.plant } : {});
  } catch (error) {
    if (error instanceof EdiError) throw ediFailure(error);
    throw error;
  }
  if (result.warnings.length > 0) logger.debug({ file: file.path, warnings: result.warnings }, 'EDI notes');
  for (const [i, asn] of result.asns.entries()) {
    if (asn.warnings.length > 0)
      logger.debug({ file: file.path, asnId: asn.data.asnId, warnings: asn.warnings }, 'ASN mapping notes');
    yield {
      ref: String(i + 1),
      origin: `${file.path}#${asn.source.message}`,
      payload: {
        data: asn.data,
        envelope: result.envelopes.find((e) => e.controlNumber === asn.source.interchange) ?? result.envelope,
        source: asn.source,
        warnings: asn.warnings,
      },
      raw: head(body),
      ...(config.hasMap ? {} : { events: [{ type: 'supplier.asn.received', data: { ...asn.data } }] }),
    };
  }
}

function b2mmlFailure(error: B2mmlError): FileFailure {
  return new FileFailure(error.code, error.message, {
    ...(error.line !== undefined ? { line: error.line } : {}),
    ...(error.column !== undefined ? { column: error.column } : {}),
  });
}

/**
 * One draft for the document, with every production event it describes: they are stored together.
 * With a `map`, the parsed document is the payload and any B2MML document is accepted.
 */
async function* b2mmlDrafts(file: FileRef, { config, logger }: ReaderContext): AsyncGenerator<Draft> {
  const body = await readWhole(file);
  let draft: Draft;
  try {
    const document = parseB2mml(body);
    const base = { ref: '1', origin: file.path, payload: document, raw: head(body) };
    if (config.hasMap) draft = base;
    else {
      const mapping = b2mmlToCanonical(document, config.plant !== null ? { plant: config.plant } : {});
      if (mapping.warnings.length > 0)
        logger.debug({ file: file.path, warnings: mapping.warnings }, 'B2MML mapping notes');
      draft =
        mapping.events.length > 0
          ? {
              ...base,
              events: mapping.events.map((e) => ({ type: e.type, data: { ...e.data }, subject: e.subject })),
            }
          : {
              ...base,
              events: [],
              error: `the ${document.root} describes no production events: ${mapping.warnings.join(' ') || 'it is empty'}`,
            };
    }
  } catch (error) {
    if (error instanceof B2mmlError) throw b2mmlFailure(error);
    throw error;
  }
  yield draft;
}
