/**
 * What the simulated PLC checks of a NodeSet2 file around the server loading it: the models it
 * defines and requires, and that it is whole. The stack's loader sorts the files itself, but names
 * no file when a required model is missing, and loads a cut-off file as far as it goes without a
 * word; these checks say which file and why.
 */
import { readFile } from 'node:fs/promises';

/** The OPC UA base namespace (ns=0), defined by Opc.Ua.NodeSet2.xml. */
export const BASE_MODEL_URI = 'http://opcfoundation.org/UA/';

export interface NodesetFile {
  readonly path: string;
  /** The models the file defines (`<Model ModelUri>`), usually one. */
  readonly models: readonly string[];
  /** The other models they require, with the version asked for. */
  readonly requires: ReadonlyArray<{ readonly uri: string; readonly version: string | null }>;
}

function attribute(tag: string, name: string): string | null {
  const match = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return match ? unescapeXml(match[1] ?? '') : null;
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/** Reads the models of a NodeSet2 file; throws naming the file when it is none, or not whole. */
export async function readNodeset(path: string): Promise<NodesetFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`nodeset ${path}: cannot read it (${(error as Error).message})`);
  }
  if (!/<UANodeSet\b/.test(text)) throw new Error(`nodeset ${path}: not a NodeSet2 file (no <UANodeSet>)`);
  if (!/<\/UANodeSet>\s*$/.test(text))
    throw new Error(`nodeset ${path}: cut off (it does not end with </UANodeSet>)`);
  const modelsBlock = /<Models>([\s\S]*?)<\/Models>/.exec(text)?.[1] ?? '';
  const models: string[] = [];
  const requires: Array<{ uri: string; version: string | null }> = [];
  for (const [tag] of modelsBlock.matchAll(/<(?:Model|RequiredModel)\b[^>]*>/g)) {
    const uri = attribute(tag, 'ModelUri');
    if (uri === null) continue;
    if (tag.startsWith('<Model')) models.push(uri);
    else requires.push({ uri, version: attribute(tag, 'Version') });
  }
  if (models.length === 0)
    throw new Error(`nodeset ${path}: declares no model (no <Models><Model ModelUri>)`);
  return { path, models, requires: requires.filter((r) => !models.includes(r.uri)) };
}

/** Throws naming the first file that requires a model neither `given` nor the files provide. */
export function checkRequiredModels(files: readonly NodesetFile[], given: readonly string[]): void {
  const provided = new Set([...given, ...files.flatMap((f) => f.models)]);
  for (const file of files)
    for (const required of file.requires)
      if (!provided.has(required.uri))
        throw new Error(
          `nodeset ${file.path} requires the model ${required.uri}` +
            `${required.version ? ` (version ${required.version})` : ''}, which none of the nodesets given provides`,
        );
}

/** Throws naming the first file whose models the loaded address space has no namespace for. */
export function checkLoaded(
  files: readonly NodesetFile[],
  addressSpace: { getNamespaceIndex(namespaceUri: string): number },
): void {
  for (const file of files)
    for (const model of file.models)
      if (addressSpace.getNamespaceIndex(model) < 0)
        throw new Error(`nodeset ${file.path} did not load: the server has no namespace ${model}`);
}
