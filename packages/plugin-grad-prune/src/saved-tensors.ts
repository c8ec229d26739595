import * as tf from '@tensorflow/tfjs-core';

/** Saved form of a list of float32 tensors (a group's weights at one point, the probe): plain data. */
export interface SavedSnapshot {
  readonly shapes: number[][];
  readonly values: Float32Array[];
}

/** Copies the tensors' values out (the tensors stay as they are). */
export async function saveTensors(tensors: readonly tf.Tensor[]): Promise<SavedSnapshot> {
  return { shapes: tensors.map((t) => [...t.shape]), values: await Promise.all(tensors.map(async (t) => (await t.data()).slice() as Float32Array)) };
}

/** New kept tensors holding the saved values. */
export function loadTensors(saved: SavedSnapshot): tf.Tensor[] {
  return saved.values.map((values, i) => tf.keep(tf.tensor(values, saved.shapes[i]!, 'float32')));
}
