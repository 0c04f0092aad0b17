/**
 * `kind: files`: a drop folder read as a source. Files matching `pattern` become messages once they
 * have stopped changing, and are moved to `processedDir` (or `failedDir`) when the hub is done with them.
 */

import { isAbsolute, resolve } from 'node:path';
import { type Static, Type as T } from '@sinclair/typebox';
import { compileDuration, Duration, SourceCommonFields } from '../framework/common.js';
import type { ConnectorSpec } from '../framework/types.js';

/** The formats a drop folder can hold. */
export const FILE_FORMATS = ['csv', 'b2mml', 'x12', 'edifact', 'json'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

/** Encodings a CSV file may be written in (Node's names). */
export const CSV_ENCODINGS = ['utf8', 'utf-8', 'utf16le', 'latin1', 'ascii'] as const;
export type CsvEncoding = (typeof CSV_ENCODINGS)[number];

const EVENT_TYPE_PATTERN = '^[a-z][a-z0-9-]*(\\.[a-z][a-z0-9-]*)+$';

export const FilesSourceSchema = T.Object(
  {
    ...SourceCommonFields,
    kind: T.Literal('files'),
    dir: T.String({
      minLength: 1,
      description: 'The drop folder (relative paths are resolved against the data directory).',
    }),
    pattern: T.String({
      minLength: 1,
      description: 'Glob on file names: *, ? and [...] (for example *.csv or ASN_*.edi).',
      'x-hint': 'a file-name glob such as *.csv',
    }),
    format: T.Union(
      FILE_FORMATS.map((f) => T.Literal(f)),
      { description: 'What the files hold.', 'x-hint': `one of ${FILE_FORMATS.join(', ')}` },
    ),
    type: T.Optional(
      T.String({
        pattern: EVENT_TYPE_PATTERN,
        description: 'csv and json: the canonical event type each row or value becomes.',
        'x-hint': 'an event type such as telemetry.machine.counter',
      }),
    ),
    pollInterval: T.Optional(Duration('How often the folder is scanned. @default 1s')),
    stableFor: T.Optional(
      Duration(
        'How long size and modification time must stay unchanged before a file is read. @default 500ms',
      ),
    ),
    processedDir: T.Optional(
      T.String({ minLength: 1, description: 'Where finished files go. @default <dir>/processed' }),
    ),
    failedDir: T.Optional(
      T.String({
        minLength: 1,
        description: 'Where unreadable files go, with <name>.error.json beside them. @default <dir>/failed',
      }),
    ),
    batchSize: T.Optional(
      T.Integer({
        minimum: 1,
        maximum: 1000,
        description: 'Rows handed to the hub at once; the next batch is read when it is done. @default 500',
      }),
    ),
    csv: T.Optional(
      T.Object(
        {
          delimiter: T.Optional(
            T.String({ minLength: 1, maxLength: 4, description: 'Field delimiter. @default ,' }),
          ),
          encoding: T.Optional(
            T.Union(
              CSV_ENCODINGS.map((e) => T.Literal(e)),
              { description: 'Text encoding of the files. @default utf8' },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export type FilesSourceRaw = Static<typeof FilesSourceSchema>;

/** A compiled `kind: files` source. */
export interface FilesSourceConfig {
  /** Absolute path of the drop folder. */
  readonly dir: string;
  readonly pattern: string;
  /** `pattern` as a RegExp on base names. */
  readonly match: RegExp;
  readonly format: FileFormat;
  /** The event type of csv rows and json values; null for formats with their own types. */
  readonly type: string | null;
  readonly plant: string | null;
  /** A `map` is configured: the runtime maps payloads, the built-in mapping is skipped. */
  readonly hasMap: boolean;
  readonly pollIntervalMs: number;
  readonly stableForMs: number;
  readonly processedDir: string;
  readonly failedDir: string;
  readonly batchSize: number;
  readonly csv: { readonly delimiter: string; readonly encoding: BufferEncoding };
}

/**
 * A glob on a base name as a RegExp: `*` any run of characters, `?` one character, `[abc]`, `[a-z]`
 * and `[!a-z]` (or `[^a-z]`) a class; everything else literal. Throws on a pattern it cannot read.
 */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close === -1) throw new Error(`"[" at position ${i + 1} has no closing "]"`);
      let body = glob.slice(i + 1, close);
      const negate = body[0] === '!' || body[0] === '^';
      if (negate) body = body.slice(1);
      if (body === '') throw new Error(`the class at position ${i + 1} is empty`);
      // Inside a class only "\", "]" and "^" are special once "-" ranges are kept.
      const escaped = body.replace(/[\\\]^]/g, (m) => `\\${m}`);
      source += `[${negate ? '^' : ''}${escaped}]`;
      i = close;
    } else source += c.replace(/[.+^${}()|\\\]]/g, (m) => `\\${m}`);
  }
  try {
    return new RegExp(`^${source}$`, 's');
  } catch (error) {
    throw new Error(`not a valid glob: ${(error as Error).message}`);
  }
}

const within = (parent: string, child: string) => child === parent || child.startsWith(`${parent}/`);

export const filesSourceSpec: ConnectorSpec<FilesSourceConfig> = {
  kind: 'files',
  summary:
    'Drop folder in: CSV rows, JSON values, B2MML production documents, X12 856 and EDIFACT DESADV ship notices.',
  stability: 'beta',
  schema: FilesSourceSchema,
  compile(raw, at, problems, baseDir) {
    const r = raw as unknown as FilesSourceRaw;
    const dir = isAbsolute(r.dir) ? resolve(r.dir) : resolve(baseDir, r.dir);
    const under = (value: string | undefined, fallback: string) =>
      value === undefined ? resolve(dir, fallback) : isAbsolute(value) ? resolve(value) : resolve(dir, value);
    const processedDir = under(r.processedDir, 'processed');
    const failedDir = under(r.failedDir, 'failed');
    const hasMap = typeof r.map === 'string';

    let match = /$^/;
    if (r.pattern.includes('/') || r.pattern.includes('\\'))
      problems.push({
        path: `${at}.pattern`,
        message: 'the pattern matches file names only; put the folder in dir',
      });
    else {
      try {
        match = globToRegExp(r.pattern);
      } catch (error) {
        problems.push({ path: `${at}.pattern`, message: (error as Error).message });
      }
    }

    const type = r.type ?? null;
    if (r.format === 'csv' && type === null && !hasMap)
      problems.push({
        path: `${at}.type`,
        message: 'format csv needs the event type each row becomes (or a map that builds the events)',
      });
    if ((r.format === 'x12' || r.format === 'edifact' || r.format === 'b2mml') && type !== null)
      problems.push({
        path: `${at}.type`,
        message: `format ${r.format} decides its event types itself; remove type`,
      });
    if (r.csv !== undefined && r.format !== 'csv')
      problems.push({ path: `${at}.csv`, message: `csv options apply to format csv, not ${r.format}` });
    const delimiter = r.csv?.delimiter ?? ',';
    if (/["\r\n]/.test(delimiter))
      problems.push({
        path: `${at}.csv.delimiter`,
        message: 'a delimiter cannot hold a quote or a line break',
      });

    for (const [field, path] of [
      ['processedDir', processedDir],
      ['failedDir', failedDir],
    ] as const) {
      if (path === dir || within(path, dir))
        problems.push({
          path: `${at}.${field}`,
          message: `must not be the drop folder ${dir} itself (or hold it): finished files would be read again`,
        });
    }
    if (processedDir === failedDir)
      problems.push({ path: `${at}.failedDir`, message: 'must differ from processedDir' });

    const pollIntervalMs = compileDuration(r.pollInterval, 1_000, `${at}.pollInterval`, problems);
    if (pollIntervalMs < 10) problems.push({ path: `${at}.pollInterval`, message: 'must be at least 10ms' });
    const encoding = r.csv?.encoding ?? 'utf8';
    return {
      dir,
      pattern: r.pattern,
      match,
      format: r.format,
      type,
      plant: r.plant ?? null,
      hasMap,
      pollIntervalMs,
      stableForMs: compileDuration(r.stableFor, 500, `${at}.stableFor`, problems),
      processedDir,
      failedDir,
      batchSize: r.batchSize ?? 500,
      csv: { delimiter, encoding: encoding === 'utf-8' ? 'utf8' : encoding },
    };
  },
};
