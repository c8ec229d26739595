// A checkpoint directory on disk: its files, each with a SHA-256 in `checkpoint.json`, written into a
// temporary directory beside the target and renamed into place. A crash during a save leaves the
// previous checkpoint (or none) as it was — a crash between the two renames leaves it set aside, and
// the next read or write puts it back; a damaged or truncated file is refused by name on load.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

export const CHECKPOINT_MANIFEST = 'checkpoint.json';
export const CHECKPOINT_FORMAT = 'trainhooks-checkpoint';

interface FileEntry {
  readonly bytes: number;
  readonly sha256: string;
}

interface ManifestEnvelope {
  readonly format: typeof CHECKPOINT_FORMAT;
  readonly files: Record<string, FileEntry>;
  readonly body: unknown;
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/**
 * Writes `files` and a manifest holding `body` and every file's checksum as the directory `dir`,
 * atomically: the new directory is complete before it replaces the old one.
 */
export function writeCheckpointFiles(dir: string, files: ReadonlyMap<string, Uint8Array>, body: unknown): void {
  const target = resolve(dir);
  mkdirSync(dirname(target), { recursive: true });
  recoverSetAside(target);
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const staging = join(dirname(target), `.${basename(target)}.saving-${suffix}`);
  const previous = join(dirname(target), `.${basename(target)}.previous-${suffix}`);
  mkdirSync(staging);
  try {
    const entries: Record<string, FileEntry> = {};
    for (const [name, data] of files) {
      writeFileSync(join(staging, name), data);
      entries[name] = { bytes: data.byteLength, sha256: sha256(data) };
    }
    const envelope: ManifestEnvelope = { format: CHECKPOINT_FORMAT, files: entries, body };
    // The manifest last: a staging directory without one was never a checkpoint.
    writeFileSync(join(staging, CHECKPOINT_MANIFEST), JSON.stringify(envelope, null, 1));
    // Two renames: the old checkpoint stays whole until the new one is in place.
    if (existsSync(target)) renameSync(target, previous);
    renameSync(staging, target);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if (existsSync(previous) && !existsSync(target)) renameSync(previous, target);
    throw error;
  }
  rmSync(previous, { recursive: true, force: true });
}

/** The manifest's body and the files it lists, each checked against its size and checksum. */
export function readCheckpointFiles(dir: string): { body: unknown; files: Map<string, Uint8Array> } {
  recoverSetAside(resolve(dir));
  const manifestPath = join(dir, CHECKPOINT_MANIFEST);
  if (!existsSync(manifestPath)) throw new Error(`trainhooks: ${dir} is not a checkpoint: it has no ${CHECKPOINT_MANIFEST}`);
  let envelope: ManifestEnvelope;
  try {
    envelope = JSON.parse(readFileSync(manifestPath, 'utf8')) as ManifestEnvelope;
  } catch (error) {
    throw new Error(`trainhooks: the checkpoint ${dir} is damaged: ${CHECKPOINT_MANIFEST} is not JSON (${(error as Error).message})`);
  }
  if (envelope?.format !== CHECKPOINT_FORMAT || typeof envelope.files !== 'object') {
    throw new Error(`trainhooks: ${manifestPath} is not a trainhooks checkpoint manifest`);
  }
  const files = new Map<string, Uint8Array>();
  for (const [name, entry] of Object.entries(envelope.files)) {
    const path = join(dir, name);
    if (!existsSync(path)) throw new Error(`trainhooks: the checkpoint ${dir} is damaged: ${name} is missing`);
    const data = new Uint8Array(readFileSync(path));
    if (data.byteLength !== entry.bytes) throw new Error(`trainhooks: the checkpoint ${dir} is damaged: ${name} has ${data.byteLength} bytes, ${entry.bytes} were written`);
    if (sha256(data) !== entry.sha256) throw new Error(`trainhooks: the checkpoint ${dir} is damaged: ${name} does not match its checksum`);
    files.set(name, data);
  }
  return { body: envelope.body, files };
}

/**
 * A save that crashed between its two renames left no checkpoint at `target`, and the previous one
 * set aside as `.NAME.previous-*`: put the newest such checkpoint back. (A `.NAME.saving-*` directory
 * is a save that never finished; it is never read.)
 */
function recoverSetAside(target: string): void {
  if (existsSync(target) || !existsSync(dirname(target))) return;
  const prefix = `.${basename(target)}.previous-`;
  const setAside = readdirSync(dirname(target))
    .filter((name) => name.startsWith(prefix) && existsSync(join(dirname(target), name, CHECKPOINT_MANIFEST)))
    .map((name) => join(dirname(target), name))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (setAside.length > 0) renameSync(setAside[0]!, target);
}
