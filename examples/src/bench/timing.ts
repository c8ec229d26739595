import * as tf from '@tensorflow/tfjs-core';
import { median } from './stats.js';

/** Median wall time (ms) of `repeats` runs of `run` after `warmup` runs; tensors it returns are freed. */
export async function timeMedian(run: () => tf.TensorContainer | Promise<tf.TensorContainer>, repeats = 5, warmup = 1) {
  const times: number[] = [];
  for (let i = 0; i < warmup + repeats; i++) {
    const start = performance.now();
    const result = await run();
    // Reading back forces completion on async backends; cpu and wasm are synchronous anyway.
    for (const t of collectTensors(result)) await t.data();
    const elapsed = performance.now() - start;
    tf.dispose(result);
    if (i >= warmup) times.push(elapsed);
  }
  return median(times);
}

function collectTensors(container: tf.TensorContainer): tf.Tensor[] {
  if (container instanceof tf.Tensor) return [container];
  if (Array.isArray(container)) return container.flatMap((c) => collectTensors(c as tf.TensorContainer));
  if (container && typeof container === 'object' && !ArrayBuffer.isView(container)) {
    return Object.values(container).flatMap((c) => collectTensors(c as tf.TensorContainer));
  }
  return [];
}
