import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-layers registers tfjs-core's gradients (a stage worker always loads it).
import '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { backwardOfRecorded, discardForward, recordForward, WeightGradientDeferral } from '@trainhooks/plugin-pipeline/internal';

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('a forward recorded now, its backward run later', () => {
  it('gives the gradients tf.grads gives, for variables and the input, with other work in between', () => {
    const w1 = tf.variable(tf.randomNormal([6, 5], 0, 1, 'float32', 1), true, 'tape_w1');
    const w2 = tf.variable(tf.randomNormal([5, 3], 0, 1, 'float32', 2), true, 'tape_w2');
    const x = tf.randomNormal([4, 6], 0, 1, 'float32', 3);
    const dy = tf.randomNormal([4, 3], 0, 1, 'float32', 4);
    const forward = (input: tf.Tensor) => tf.sigmoid(tf.matMul(tf.relu(tf.matMul(input, w1)), w2));
    const expected = tf.grads((input: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => tf.sigmoid(tf.matMul(tf.relu(tf.matMul(input, a)), b)))([x, w1, w2], dy);

    const before = tf.memory().numTensors;
    const first = recordForward(() => forward(x));
    const second = recordForward(() => forward(tf.mul(x, 2)));
    // Another micro-batch's work between a forward and its backward.
    discardForward(second);
    second.output.dispose();
    const [dx, dw1, dw2] = backwardOfRecorded(first, [x, w1, w2], dy);
    first.output.dispose();
    expect(maxDiff(dx!, expected[0]!)).toBeLessThan(1e-6);
    expect(maxDiff(dw1!, expected[1]!)).toBeLessThan(1e-6);
    expect(maxDiff(dw2!, expected[2]!)).toBeLessThan(1e-6);
    tf.dispose([dx!, dw1!, dw2!]);
    // Nothing of the two recordings is left: saved tensors freed, intermediates freed.
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([w1, w2, x, dy, ...expected]);
  });

  it('returns null for a source that does not reach the output; a failing forward leaves no tape', () => {
    const used = tf.variable(tf.ones([2, 2]), true, 'tape_used');
    const unused = tf.variable(tf.ones([2, 2]), true, 'tape_unused');
    const recorded = recordForward(() => tf.matMul(tf.ones([1, 2]), used));
    const dy = tf.ones([1, 2]);
    const [dUsed, dUnused] = backwardOfRecorded(recorded, [used, unused], dy);
    expect(dUsed).not.toBeNull();
    expect(dUnused).toBeNull();
    const before = tf.memory().numTensors;
    expect(() => recordForward(() => { tf.matMul(tf.ones([1, 2]), used); throw new Error('boom'); })).toThrow('boom');
    expect(tf.memory().numTensors).toBe(before);
    // And the engine records normally afterwards.
    const { grads } = tf.variableGrads(() => tf.sum(tf.matMul(tf.ones([1, 2]), used)) as tf.Scalar, [used]);
    expect(Object.keys(grads)).toEqual(['tape_used']);
    tf.dispose([dUsed!, dy, recorded.output, used, unused, ...Object.values(grads)]);
  });

  it('defers the weight gradients of plain matMuls to one product over all micro-batches, leaving the rest alone', () => {
    const w1 = tf.variable(tf.randomNormal([6, 5], 0, 1, 'float32', 5), true, 'defer_w1');
    // Used as matMul(h, w2, false, true): a transposed weight is not deferred, its gradient comes back at once.
    const w2 = tf.variable(tf.randomNormal([3, 5], 0, 1, 'float32', 6), true, 'defer_w2');
    const forward = (input: tf.Tensor) => tf.matMul(tf.relu(tf.matMul(input, w1)), w2, false, true);
    const inputs = [tf.randomNormal([4, 6], 0, 1, 'float32', 7), tf.randomNormal([2, 6], 0, 1, 'float32', 8)];
    const dys = [tf.randomNormal([4, 3], 0, 1, 'float32', 9), tf.randomNormal([2, 3], 0, 1, 'float32', 10)];
    const perMicroBatch = inputs.map((x, m) => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.matMul(tf.relu(tf.matMul(x, a)), b, false, true))([w1, w2], dys[m]));
    const expectedW1 = tf.add(perMicroBatch[0]![0]!, perMicroBatch[1]![0]!);

    const before = tf.memory().numTensors;
    const deferral = new WeightGradientDeferral(new Set([w1.id, w2.id]));
    const recorded = inputs.map((x) => recordForward(() => forward(x)));
    const immediate = recorded.map((forwardOf, m) => {
      const gradients = backwardOfRecorded(forwardOf, [inputs[m]!, w1, w2], dys[m]!, deferral);
      forwardOf.output.dispose();
      return gradients;
    });
    for (const [dx, dw1, dw2] of immediate) {
      expect(dx).not.toBeNull();
      expect(dw1).toBeNull();
      expect(dw2).not.toBeNull();
    }
    const late = deferral.compute();
    expect([...late.keys()]).toEqual([w1.id]);
    expect(maxDiff(late.get(w1.id)!, expectedW1)).toBeLessThan(1e-5);
    expect(maxDiff(immediate[1]![2]!, perMicroBatch[1]![1]!)).toBeLessThan(1e-6);
    tf.dispose([...immediate.flat().filter((t): t is tf.Tensor => t !== null), ...late.values()]);
    // What the deferral kept is freed once computed.
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([w1, w2, ...inputs, ...dys, expectedW1, ...perMicroBatch.flat()]);
  });
});
