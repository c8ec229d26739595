import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { readTensorInto, tensorFromBuffer } from '@trainhooks/core-hooks/internal';

describe.each(['cpu', 'wasm'])('tensor buffers on %s', (backend) => {
  it('reads values into a buffer at an offset, leaving the rest alone', async () => {
    await tf.setBackend(backend);
    const tensor = tf.tensor2d([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const target = new Float32Array(10).fill(-1);
    readTensorInto(tensor, target, 3);
    expect([...target]).toEqual([-1, -1, -1, 1, 2, 3, 4, 5, 6, -1]);
    tensor.dispose();
  });

  it('reads what a kernel wrote, after allocations that may have moved the heap', async () => {
    await tf.setBackend(backend);
    const tensor = tf.tidy(() => tf.mul(tf.range(0, 1000, 1, 'float32'), 0.5));
    const large = tf.zeros([1 << 22]); // may grow the wasm memory between the kernel and the read
    const target = new Float32Array(1000);
    readTensorInto(tensor, target);
    expect(target[999]).toBe(499.5);
    expect(target[1]).toBe(0.5);
    tf.dispose([tensor, large]);
  });

  it('a tensor made from a buffer keeps its values when the buffer is reused', async () => {
    await tf.setBackend(backend);
    const buffer = new Float32Array([1, 2, 3, 4, 5, 6]);
    const tensor = tensorFromBuffer(buffer.subarray(2, 6), [2, 2]);
    buffer.fill(0);
    expect(tensor.shape).toEqual([2, 2]);
    expect(await tensor.data()).toEqual(new Float32Array([3, 4, 5, 6]));
    tensor.dispose();
  });

  it('refuses what does not fit or is not float32', async () => {
    await tf.setBackend(backend);
    const tensor = tf.ones([4]);
    const ints = tf.ones([4], 'int32');
    expect(() => readTensorInto(tensor, new Float32Array(5), 2)).toThrow(/4 values do not fit at offset 2 of a buffer of 5/);
    expect(() => readTensorInto(ints, new Float32Array(4))).toThrow(/float32 tensor is needed, not int32/);
    tf.dispose([tensor, ints]);
  });
});

afterAll(() => tf.disposeVariables());
