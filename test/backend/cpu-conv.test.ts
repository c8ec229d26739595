// Our cpu Conv2DBackpropFilter (im2col + the cpu matmul) against stock tfjs-cpu's, kernel to kernel:
// randomised seeded cases plus named edge cases, both layouts, every padding kind, and the batch chunks.
// Error measure: max|ours − ref| / max(1, max|ref|) ≤ 1e-4.
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { stockKernel, CPU_KERNELS } from '@trainhooks/backend/internal';
import { seededRandom } from '@trainhooks/cli/internal';
import { CPU_BACKPROP_FILTER_OPTIONS } from '../../packages/backend/src/cpu/conv2d-backprop-filter.js';
import {
  elementCount,
  expectWithinTolerance,
  randomInt,
  randomValues,
  useBackendWithKernels,
  type ConvPadding,
} from './kernel-test-helpers.js';

const RANDOM_CASES = 40;

interface FilterCase {
  label: string;
  x: [number, number, number, number]; // NHWC
  kernel: [number, number];
  outChannels: number;
  strides: [number, number];
  pad: ConvPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dataFormat?: 'NHWC' | 'NCHW';
}

const cpu = () => tf.findBackend('cpu')!;

/** Runs one Conv2DBackpropFilter kernel (ours or stock) on the cpu backend and reads its result. */
function runKernel(kernel: tf.KernelConfig, c: FilterCase, seed: number): { shape: number[]; data: Float32Array } | null {
  const filterShape: [number, number, number, number] = [...c.kernel, c.x[3], c.outChannels];
  const info = tf.backend_util.computeConv2DInfo(c.x, filterShape, c.strides, 1, c.pad, c.dimRoundingMode, false);
  if (info.outHeight <= 0 || info.outWidth <= 0) return null;
  const random = seededRandom(seed);
  const nchw = c.dataFormat === 'NCHW';
  const [n, h, w, ci] = c.x;
  const dyShape = [n, info.outHeight, info.outWidth, c.outChannels];
  const x = tf.tensor(randomValues(random, elementCount(c.x)), nchw ? [n, ci, h, w] : c.x);
  const dy = tf.tensor(randomValues(random, elementCount(dyShape)), nchw ? [n, c.outChannels, info.outHeight, info.outWidth] : dyShape);
  const attrs = { strides: c.strides, pad: c.pad, dataFormat: c.dataFormat ?? 'NHWC', dimRoundingMode: c.dimRoundingMode, filterShape };
  const out = kernel.kernelFunc({ inputs: { x, dy }, backend: cpu(), attrs: attrs as unknown as tf.NamedAttrMap }) as tf.TensorInfo;
  const data = cpu().readSync(out.dataId) as Float32Array;
  cpu().disposeData(out.dataId);
  tf.dispose([x, dy]);
  return { shape: out.shape, data };
}

function expectMatchesStock(c: FilterCase, seed: number): void {
  const ours = runKernel(tf.getKernel('Conv2DBackpropFilter', 'cpu')!, c, seed);
  const ref = runKernel(stockKernel('Conv2DBackpropFilter', 'cpu')!, c, seed);
  const label = `${c.label}: ${JSON.stringify(c)}`;
  expect(ref, label).not.toBeNull();
  expect(ours!.shape, label).toEqual(ref!.shape);
  expectWithinTolerance(ours!.data, ref!.data, label);
}

function randomPad(random: () => number): Pick<FilterCase, 'pad' | 'dimRoundingMode'> {
  switch (randomInt(random, 0, 3)) {
    case 0:
      return { pad: 'same' };
    case 1:
      return { pad: 'valid' };
    case 2: {
      const side = () => randomInt(random, 0, 2);
      return { pad: [[0, 0], [side(), side()], [side(), side()], [0, 0]] };
    }
    default:
      return { pad: randomInt(random, 0, 2), dimRoundingMode: (['floor', 'round', 'ceil'] as const)[randomInt(random, 0, 2)] };
  }
}

function randomCase(random: () => number, i: number): FilterCase {
  for (;;) {
    const kernel: [number, number] = [randomInt(random, 1, 5), randomInt(random, 1, 5)];
    const c: FilterCase = {
      label: `random ${i}`,
      x: [randomInt(random, 1, 4), randomInt(random, kernel[0], 14), randomInt(random, kernel[1], 14), randomInt(random, 1, 6)],
      kernel,
      outChannels: randomInt(random, 1, 6),
      strides: [randomInt(random, 1, 4), randomInt(random, 1, 4)],
      ...randomPad(random),
      dataFormat: random() < 0.25 ? 'NCHW' : 'NHWC',
    };
    const filterShape: [number, number, number, number] = [...kernel, c.x[3], c.outChannels];
    const info = tf.backend_util.computeConv2DInfo(c.x, filterShape, c.strides, 1, c.pad, c.dimRoundingMode, false);
    if (info.outHeight > 0 && info.outWidth > 0) return c;
  }
}

const EDGE_CASES: FilterCase[] = [
  { label: '1×1 kernel', x: [2, 7, 9, 5], kernel: [1, 1], outChannels: 4, strides: [1, 1], pad: 'valid' },
  { label: '1×1 kernel, stride 2', x: [2, 8, 7, 3], kernel: [1, 1], outChannels: 6, strides: [2, 2], pad: 'same' },
  { label: 'batch 1', x: [1, 10, 10, 4], kernel: [3, 3], outChannels: 5, strides: [1, 1], pad: 'same' },
  { label: 'odd sizes', x: [3, 11, 13, 7], kernel: [3, 3], outChannels: 5, strides: [1, 1], pad: 'valid' },
  { label: 'stride > kernel', x: [2, 13, 13, 3], kernel: [2, 2], outChannels: 4, strides: [3, 3], pad: 'valid' },
  { label: 'stride > kernel, same', x: [2, 13, 12, 3], kernel: [1, 2], outChannels: 2, strides: [4, 3], pad: 'same' },
  { label: 'non-square kernel', x: [2, 9, 12, 3], kernel: [2, 5], outChannels: 4, strides: [1, 1], pad: 'same' },
  { label: 'non-square strides', x: [2, 12, 12, 3], kernel: [3, 3], outChannels: 4, strides: [1, 3], pad: 'valid' },
  { label: 'non-square everything', x: [3, 10, 15, 2], kernel: [4, 2], outChannels: 3, strides: [3, 2], pad: 'same' },
  { label: 'kernel = input', x: [2, 5, 6, 3], kernel: [5, 6], outChannels: 4, strides: [1, 1], pad: 'valid' },
  { label: 'same, kernel > input', x: [2, 3, 3, 2], kernel: [5, 5], outChannels: 3, strides: [1, 1], pad: 'same' },
  {
    label: 'explicit asymmetric pads',
    x: [2, 8, 9, 3],
    kernel: [3, 3],
    outChannels: 4,
    strides: [2, 1],
    pad: [[0, 0], [2, 0], [0, 3], [0, 0]],
  },
  {
    label: 'numeric pad with rounding',
    x: [2, 9, 8, 2],
    kernel: [3, 2],
    outChannels: 3,
    strides: [2, 3],
    pad: 1,
    dimRoundingMode: 'ceil',
  },
  { label: 'NCHW', x: [2, 7, 8, 3], kernel: [3, 2], outChannels: 4, strides: [2, 1], pad: 'same', dataFormat: 'NCHW' },
  { label: 'single channel in and out', x: [4, 12, 12, 1], kernel: [3, 3], outChannels: 1, strides: [1, 1], pad: 'same' },
  { label: 'mnist conv2 shape, small batch', x: [2, 26, 26, 8], kernel: [3, 3], outChannels: 8, strides: [1, 1], pad: 'valid' },
];

beforeAll(async () => {
  await useBackendWithKernels('cpu', CPU_KERNELS);
  expect(tf.getKernel('Conv2DBackpropFilter', 'cpu')).not.toBe(stockKernel('Conv2DBackpropFilter', 'cpu'));
});

describe('cpu Conv2DBackpropFilter', () => {
  it('matches stock tfjs-cpu on named edge cases', () => {
    for (const [i, c] of EDGE_CASES.entries()) expectMatchesStock(c, 100 + i);
  });

  it(`matches stock tfjs-cpu on ${RANDOM_CASES} randomised seeded cases (all pads, strides, both layouts)`, () => {
    const random = seededRandom(41);
    for (let i = 0; i < RANDOM_CASES; i++) expectMatchesStock(randomCase(random, i), 1000 + i);
  });

  it('adds up batch chunks when the patch matrix would be too large', () => {
    const saved = CPU_BACKPROP_FILTER_OPTIONS.maxPatchElements;
    try {
      // 3×3×4 patch rows × 8×8 positions = 2304 elements an image: 1000 allows 1 image a chunk.
      CPU_BACKPROP_FILTER_OPTIONS.maxPatchElements = 1000;
      const c: FilterCase = { label: '', x: [5, 8, 8, 4], kernel: [3, 3], outChannels: 3, strides: [1, 1], pad: 'same' };
      expectMatchesStock({ ...c, label: 'one image a chunk' }, 7);
      // 5000 allows 2 images a chunk: chunks of 2, 2, 1.
      CPU_BACKPROP_FILTER_OPTIONS.maxPatchElements = 5000;
      expectMatchesStock({ ...c, label: 'two images a chunk' }, 8);
    } finally {
      CPU_BACKPROP_FILTER_OPTIONS.maxPatchElements = saved;
    }
  });

  it('is what tf.grad of a conv2d computes, and frees its intermediates', () => {
    const random = seededRandom(9);
    const x = tf.tensor(randomValues(random, 2 * 9 * 9 * 3), [2, 9, 9, 3]) as tf.Tensor4D;
    const filter = tf.tensor(randomValues(random, 3 * 3 * 3 * 4), [3, 3, 3, 4]) as tf.Tensor4D;
    const before = cpu().numDataIds();
    const dw = tf.grad((f: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x, f as tf.Tensor4D, 2, 'same'))))(filter);
    expect(cpu().numDataIds()).toBe(before + 1);
    const y = tf.conv2d(x, filter, 2, 'same');
    const ref = stockKernel('Conv2DBackpropFilter', 'cpu')!.kernelFunc({
      inputs: { x, dy: tf.mul(y, 2) },
      backend: cpu(),
      attrs: { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 4] },
    }) as tf.TensorInfo;
    expectWithinTolerance(dw.dataSync(), cpu().readSync(ref.dataId) as Float32Array);
    cpu().disposeData(ref.dataId);
    tf.dispose([x, filter, dw, y]);
  });
});
