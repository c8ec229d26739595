// A checkpoint's contents: the trainer's state (and, for a model of raw variables, the variables) as one
// encoded state — its JSON in the manifest, its typed arrays in state.bin — beside the model files.
import { readCheckpointFiles, writeCheckpointFiles } from './checkpoint-files.js';
import { concatenateBytes } from './concatenate-bytes.js';
import { decodeState, encodeState } from './state-codec.js';
import type { TrainerState } from './trainer.js';

export const CHECKPOINT_VERSION = 1;
const STATE_FILE = 'state.bin';

export interface CheckpointContents {
  readonly state: TrainerState;
  /** A model of raw variables: its variables, in unit order (a LayersModel's weights are model files). */
  readonly variables: ReadonlyArray<{ name: string; shape: number[]; values: Float32Array | Int32Array }> | null;
}

interface CheckpointBody {
  readonly version: number;
  readonly contents: unknown;
  /** Where each sidecar lies in state.bin. */
  readonly sidecars: ReadonlyArray<{ offset: number; bytes: number }>;
}

export function writeCheckpoint(dir: string, contents: CheckpointContents, modelFiles: ReadonlyMap<string, Uint8Array>): void {
  const encoded = encodeState(contents, 'the trainer state');
  const sidecars: Array<{ offset: number; bytes: number }> = [];
  let offset = 0;
  for (const sidecar of encoded.sidecars) {
    sidecars.push({ offset, bytes: sidecar.byteLength });
    offset += sidecar.byteLength;
  }
  const blob = concatenateBytes(encoded.sidecars);
  const body: CheckpointBody = { version: CHECKPOINT_VERSION, contents: encoded.json, sidecars };
  writeCheckpointFiles(dir, new Map([...modelFiles, [STATE_FILE, blob]]), body);
}

export function readCheckpoint(dir: string): { contents: CheckpointContents; modelFiles: Map<string, Uint8Array> } {
  const { body, files } = readCheckpointFiles(dir);
  const checkpoint = body as CheckpointBody;
  if (checkpoint?.version !== CHECKPOINT_VERSION) {
    throw new Error(`trainhooks: the checkpoint ${dir} has format version ${String(checkpoint?.version)}; this trainhooks reads version ${CHECKPOINT_VERSION}`);
  }
  const blob = files.get(STATE_FILE) ?? new Uint8Array(0);
  files.delete(STATE_FILE);
  const sidecars = checkpoint.sidecars.map(({ offset, bytes }) => blob.subarray(offset, offset + bytes));
  const contents = decodeState({ json: checkpoint.contents, sidecars }, 'the trainer state') as CheckpointContents;
  return { contents, modelFiles: files };
}
