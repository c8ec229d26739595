// Per unit: forward and backward time at the micro-batch shape, and the bytes of its output; plus the
// rate at which tensors are copied out of and into the backend. Runs in a stage worker, on the backend
// the stages train with (our kernels included), with that worker's weights.
import * as tf from '@tensorflow/tfjs-core';
import { median, type Unit } from '@trainhooks/core-hooks/internal';
import { backwardOfRecorded, recordForward } from './deferred-tape.js';
import type { UnitProfile } from './stage-protocol.js';

function timeMs(run: () => void): number {
  const start = performance.now();
  run();
  return performance.now() - start;
}

export function profileUnits(units: readonly Unit[], inputShape: number[], repeats: number): UnitProfile {
  const forwardMs: number[] = [];
  const backwardMs: number[] = [];
  const outputBytes: number[] = [];
  let input = tf.randomUniform(inputShape);
  for (const unit of units) {
    const forwards: number[] = [];
    const totals: number[] = [];
    // One untimed round first: kernels compile and buffers grow on first use.
    for (let round = 0; round <= repeats; round++) {
      const forward = timeMs(() => {
        const output = tf.tidy(() => unit.apply(input, { training: true }));
        output.dataSync();
        output.dispose();
      });
      const total = timeMs(() => {
        const recorded = recordForward(() => unit.apply(input, { training: true }));
        const outputGradient = tf.onesLike(recorded.output);
        const gradients = backwardOfRecorded(recorded, [...unit.variables, input], outputGradient);
        for (const gradient of gradients) gradient?.dataSync();
        tf.dispose([recorded.output, outputGradient, ...gradients.filter((g): g is tf.Tensor => g !== null)]);
      });
      if (round > 0) {
        forwards.push(forward);
        totals.push(total);
      }
    }
    forwardMs.push(median(forwards));
    backwardMs.push(Math.max(0, median(totals) - median(forwards)));
    const output = tf.tidy(() => unit.apply(input, { training: false }));
    outputBytes.push(output.size * 4);
    input.dispose();
    input = output;
  }
  input.dispose();
  return { forwardMs, backwardMs, outputBytes, copyBytesPerMs: copyRate(repeats) };
}

/** Bytes per ms of a tensor's round trip through a buffer: dataSync on one side, tf.tensor on the other. */
function copyRate(repeats: number): number {
  const bytes = 4 << 20;
  const tensor = tf.randomUniform([bytes / 4]);
  const times: number[] = [];
  for (let round = 0; round <= repeats; round++) {
    const ms = timeMs(() => {
      const values = tensor.dataSync().slice();
      tf.tensor(values).dispose();
    });
    if (round > 0) times.push(ms);
  }
  tensor.dispose();
  return bytes / Math.max(median(times), 1e-3);
}
