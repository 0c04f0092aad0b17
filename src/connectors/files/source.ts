/**
 * The drop-folder source. A scan of `dir` every `pollInterval` is the truth (no watcher events are
 * trusted): matching files whose size and modification time have not changed for `stableFor` are read
 * in name order, one at a time, batch by batch, and moved to `processedDir` once the hub has acked every
 * message of the file. A file that cannot be read as its format goes to `failedDir` with a
 * `<name>.error.json` beside it, after the hub has taken one message that stands for it.
 *
 * Message ids are `<file name>:<size>:<mtime ms>#<position>`: a file read again after a crash or a
 * nack produces the same ids, so the hub stores its events once.
 */
import { copyFile, mkdir, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { nowIso } from '../framework/common.js';
import type {
  ConnectorHealth,
  SourceConnector,
  SourceContext,
  SourceFactory,
  SourceMessage,
} from '../framework/types.js';
import { type Draft, FileFailure, type FileRef, readDrafts, readHead } from './readers.js';
import type { FilesSourceConfig } from './spec.js';

export interface FileDropSourceOptions {
  /** The clock that decides when a file is stable (tests move it by hand). */
  readonly now?: () => number;
  /** How long `stop` waits for a delivery the hub does not finish before giving up on it. @default 10 s */
  readonly stopGraceMs?: number;
}

/** A file seen by a scan, and since when it has looked the same. */
interface Seen {
  readonly size: number;
  readonly mtimeMs: number;
  readonly since: number;
}

interface ScannedFile extends FileRef {
  /** `<name>:<size>:<mtime ms>`: the file's identity in message ids. */
  readonly key: string;
}

/** A file the hub is done with that could not be moved yet. */
interface Finished {
  readonly to: 'processed' | 'failed';
  readonly failure?: FileFailure;
}

type Outcome =
  | { readonly kind: 'done' }
  | { readonly kind: 'failed'; readonly failure: FileFailure }
  | { readonly kind: 'again' }
  | { readonly kind: 'stopped' };

const IO_ERRORS = new Set([
  'ENOENT',
  'EACCES',
  'EPERM',
  'EIO',
  'EMFILE',
  'ENFILE',
  'EISDIR',
  'ENOTDIR',
  'EBUSY',
]);

const errnoOf = (error: unknown) => (error as NodeJS.ErrnoException | null)?.code;

export class FileDropSource implements SourceConnector {
  private context: SourceContext | null = null;
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private passing: Promise<void> = Promise.resolve();
  private readonly seen = new Map<string, Seen>();
  /** Files (by key) the hub nacked: read again from `index` after `retryAt`. */
  private readonly resume = new Map<string, { index: number; retryAt: number }>();
  private readonly unmoved = new Map<string, Finished>();
  /** Why the folder cannot be read; null while it can. */
  private folderProblem: string | null = null;
  /** The last file failure or move failure; cleared by the next file that goes through. */
  private trouble: string | null = null;
  private lastHealth = '';
  private completedScans = 0;
  private delivering = false;
  private abandon: () => void = () => undefined;
  private readonly abandoned: Promise<'abandoned'>;
  private readonly now: () => number;
  private readonly stopGraceMs: number;

  constructor(
    private readonly config: FilesSourceConfig,
    readonly name = 'files',
    options: FileDropSourceOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.stopGraceMs = options.stopGraceMs ?? 10_000;
    this.abandoned = new Promise((resolve) => {
      this.abandon = () => resolve('abandoned');
    });
  }

  async start(context: SourceContext): Promise<void> {
    if (this.context !== null) throw new Error(`source ${this.name} was already started`);
    this.context = context;
    this.report({ type: 'connecting', at: nowIso(this.now) });
    void this.runPass().then(() => this.schedule());
  }

  async stop(): Promise<void> {
    if (this.stopping) return this.passing;
    this.stopping = true;
    clearTimeout(this.timer);
    let grace: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      grace = setTimeout(() => {
        this.abandon();
        resolve();
      }, this.stopGraceMs);
    });
    try {
      await Promise.race([this.passing, late]);
    } finally {
      clearTimeout(grace);
    }
  }

  /**
   * Scans now instead of at the next tick; resolves when that scan and the files it took are done.
   * A source that is not running does nothing.
   */
  scanNow(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return this.runPass();
  }

  /** Started, and neither stopped nor aborted by the hub. */
  get running(): boolean {
    return this.context !== null && !this.halted;
  }

  /** Scans completed so far. */
  get scans(): number {
    return this.completedScans;
  }

  /** A batch is with the hub: nothing more is read until it answers. */
  get waitingOnHub(): boolean {
    return this.delivering;
  }

  private get halted(): boolean {
    return this.stopping || this.context?.signal.aborted === true;
  }

  private schedule(): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.runPass().then(() => this.schedule());
    }, this.config.pollIntervalMs);
  }

  /** Passes never overlap: each starts when the previous one is done. */
  private runPass(): Promise<void> {
    this.passing = this.passing
      .then(() => (this.halted ? undefined : this.pass()))
      .finally(() => {
        this.completedScans++;
      })
      .catch((error: unknown) =>
        this.context?.logger.error({ err: error, dir: this.config.dir }, 'scan failed'),
      );
    return this.passing;
  }

  private report(health: ConnectorHealth): void {
    const signature = `${health.type}:${'reason' in health ? health.reason : ''}`;
    if (signature === this.lastHealth || this.context === null) return;
    this.lastHealth = signature;
    this.context.health(health);
  }

  private reportState(): void {
    const at = nowIso(this.now);
    if (this.folderProblem !== null)
      this.report({ type: 'down', at, reason: this.folderProblem, retryInMs: this.config.pollIntervalMs });
    else if (this.trouble !== null) this.report({ type: 'degraded', at, reason: this.trouble });
    else this.report({ type: 'up', at });
  }

  private async pass(): Promise<void> {
    const { dir, match } = this.config;
    let names: string[];
    try {
      const entries = await readdir(dir, { withFileTypes: true });
      // Dot files and *.tmp are still being written (the rename convention); folders are not drops.
      names = entries
        .filter((e) => !e.isDirectory() && !e.name.startsWith('.') && !e.name.endsWith('.tmp'))
        .map((e) => e.name)
        .filter((name) => match.test(name))
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      this.folderProblem = null;
    } catch (error) {
      const code = errnoOf(error) ?? 'error';
      this.folderProblem =
        code === 'ENOENT' ? `drop folder ${dir} does not exist` : `cannot read drop folder ${dir} (${code})`;
      this.seen.clear();
      this.reportState();
      return;
    }
    this.reportState();
    const present = new Set(names);
    for (const name of this.seen.keys()) if (!present.has(name)) this.seen.delete(name);

    for (const name of names) {
      if (this.halted) return;
      const file = await this.stableFile(name);
      if (file === null) continue;
      const finished = this.unmoved.get(file.key);
      const resume = this.resume.get(file.key);
      if (finished !== undefined) await this.finish(file, finished);
      else if (resume === undefined || resume.retryAt <= this.now())
        await this.processFile(file, resume?.index ?? 0);
      this.reportState();
    }
  }

  /** The file when it has looked the same for `stableFor`; null while it is still changing. */
  private async stableFile(name: string): Promise<ScannedFile | null> {
    const path = join(this.config.dir, name);
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch {
      this.seen.delete(name);
      return null;
    }
    if (!info.isFile()) return null;
    const now = this.now();
    const previous = this.seen.get(name);
    if (previous === undefined || previous.size !== info.size || previous.mtimeMs !== info.mtimeMs) {
      this.seen.set(name, { size: info.size, mtimeMs: info.mtimeMs, since: now });
      if (this.config.stableForMs > 0) return null;
    } else if (now - previous.since < this.config.stableForMs) return null;
    return { name, path, size: info.size, key: `${name}:${info.size}:${Math.trunc(info.mtimeMs)}` };
  }

  private async processFile(file: ScannedFile, start: number): Promise<void> {
    const logger = this.context!.logger;
    const outcome = await this.drive(file, start);
    if (outcome.kind === 'again' || outcome.kind === 'stopped') return;
    this.resume.delete(file.key);
    const finished: Finished =
      outcome.kind === 'done' ? { to: 'processed' } : { to: 'failed', failure: outcome.failure };
    if (outcome.kind === 'failed') {
      this.trouble = `${file.name} could not be read as ${this.config.format}: ${outcome.failure.message}`;
      logger.warn({ file: file.path, code: outcome.failure.code, err: outcome.failure }, 'file failed');
    }
    await this.finish(file, finished);
  }

  /** Reads the file into batches and hands each to the hub, waiting for it before reading on. */
  private async drive(file: ScannedFile, start: number): Promise<Outcome> {
    const { batchSize } = this.config;
    const drafts = readDrafts(file, { config: this.config, logger: this.context!.logger });
    let index = 0;
    let batch: Draft[] = [];
    let failure: FileFailure | null = null;
    try {
      for await (const draft of drafts) {
        if (index++ < start) continue;
        batch.push(draft);
        if (batch.length >= batchSize) {
          const sent = await this.send(file, batch, index - batch.length);
          batch = [];
          if (sent !== null) return sent;
          if (this.halted) return { kind: 'stopped' };
        }
      }
    } catch (error) {
      if (!(error instanceof FileFailure)) {
        const code = errnoOf(error);
        if (code === undefined || !IO_ERRORS.has(code)) throw error;
        // The file went away or cannot be opened now: not the file's fault, the next scan looks again.
        this.context!.logger.warn({ file: file.path, code }, 'file could not be read; it is retried');
        return { kind: 'again' };
      }
      failure = error;
      if (index++ >= start) batch.push(await this.failureDraft(file, failure));
    }
    if (batch.length > 0) {
      const sent = await this.send(file, batch, index - batch.length);
      if (sent !== null) return sent;
    }
    return failure === null ? { kind: 'done' } : { kind: 'failed', failure };
  }

  private async failureDraft(file: ScannedFile, failure: FileFailure): Promise<Draft> {
    let raw: Uint8Array = new Uint8Array();
    try {
      raw = await readHead(file.path);
    } catch {
      // Nothing left to keep: the message still says what went wrong.
    }
    return {
      ref: 'file',
      origin: failure.position.line !== undefined ? `${file.path}:${failure.position.line}` : file.path,
      payload: null,
      raw,
      events: [],
      error: `${file.name} is not readable as ${this.config.format} (${failure.code}): ${failure.message}`,
    };
  }

  /**
   * Delivers one batch. Null when every message was acked; otherwise what the file's reading should
   * do: read again later from the first message not acked (nack), or give up (stopping).
   */
  private async send(file: ScannedFile, batch: readonly Draft[], first: number): Promise<Outcome | null> {
    const states = new Array<'pending' | 'acked' | 'nacked'>(batch.length).fill('pending');
    let retryInMs = 0;
    const messages: SourceMessage[] = batch.map((draft, i) => ({
      id: `${file.key}#${draft.ref}`,
      origin: draft.origin,
      payload: draft.payload,
      raw: draft.raw,
      ...(draft.events !== undefined ? { events: draft.events } : {}),
      ...(draft.error !== undefined ? { error: draft.error } : {}),
      ack: () => {
        if (states[i] === 'pending') states[i] = 'acked';
      },
      nack: (ms: number) => {
        if (states[i] === 'pending') states[i] = 'nacked';
        retryInMs = Math.max(retryInMs, ms);
      },
    }));
    this.delivering = true;
    let settled: 'delivered' | 'abandoned';
    try {
      settled = await Promise.race([
        this.context!.deliver(messages).then(() => 'delivered' as const),
        this.abandoned,
      ]);
    } finally {
      this.delivering = false;
    }
    if (settled === 'abandoned') return { kind: 'stopped' };
    const acked = states.findIndex((s) => s !== 'acked');
    if (acked === -1) return null;
    this.resume.set(file.key, {
      index: first + acked,
      retryAt: this.now() + (retryInMs > 0 ? retryInMs : this.config.pollIntervalMs),
    });
    return { kind: 'again' };
  }

  /** Moves a finished file away (writing the failure beside it); remembers it when that fails. */
  private async finish(file: ScannedFile, finished: Finished): Promise<void> {
    const targetDir = finished.to === 'processed' ? this.config.processedDir : this.config.failedDir;
    try {
      await mkdir(targetDir, { recursive: true });
      const target = await freeName(targetDir, file.name);
      if (finished.failure !== undefined) await this.writeSidecar(file, target, finished.failure);
      await move(file.path, target);
      this.unmoved.delete(file.key);
      if (finished.to === 'processed') this.trouble = null;
    } catch (error) {
      const code = errnoOf(error) ?? 'error';
      if (code === 'ENOENT' && !(await exists(file.path))) {
        // Someone else moved it; the hub has its messages either way.
        this.unmoved.delete(file.key);
        return;
      }
      this.unmoved.set(file.key, finished);
      this.trouble = `${file.name} cannot be moved to ${targetDir} (${code})`;
      this.context!.logger.error({ file: file.path, targetDir, err: error }, 'file cannot be moved');
    }
  }

  private async writeSidecar(file: ScannedFile, target: string, failure: FileFailure): Promise<void> {
    const sidecar = `${target}.error.json`;
    const body = {
      file: file.path,
      movedTo: target,
      format: this.config.format,
      error: failure.message,
      code: failure.code,
      ...failure.position,
      at: new Date().toISOString(),
    };
    // Written under a temporary name and renamed, so a reader never sees half of it.
    await writeFile(`${sidecar}.tmp`, `${JSON.stringify(body, null, 2)}\n`);
    await rename(`${sidecar}.tmp`, sidecar);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** `dir/name`, or `dir/<stem>.<n><ext>` when a file of that name was archived before. */
async function freeName(dir: string, name: string): Promise<string> {
  const ext = extname(name);
  const stem = basename(name, ext);
  for (let n = 0; n < 10_000; n++) {
    const candidate = join(dir, n === 0 ? name : `${stem}.${n}${ext}`);
    if (!(await exists(candidate)) && !(await exists(`${candidate}.error.json`))) return candidate;
  }
  return join(dir, `${stem}.${Date.now()}${ext}`);
}

/** Renames; across file systems (EXDEV) copies under a temporary name, renames, then unlinks. */
async function move(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if (errnoOf(error) !== 'EXDEV') throw error;
    await copyFile(from, `${to}.tmp`);
    await rename(`${to}.tmp`, to);
    await unlink(from);
  }
}

/** The factory the connector registry calls. */
export const createFilesSource: SourceFactory<FilesSourceConfig> = (config, name) =>
  new FileDropSource(config, name);
