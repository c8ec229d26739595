import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-layers registers tfjs-core's gradients (a stage worker always loads it).
import '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { backwardOfRecorded, discardForward, recordForward } from '@trainhooks/plugin-pipeline';

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
});
