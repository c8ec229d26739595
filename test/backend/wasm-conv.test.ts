// Our wasm convolution-gradient kernels against stock tfjs-cpu, kernel by kernel (randomised and
// named edge cases) and end to end (gradients of a tfjs-layers conv model).
// Error measure everywhere: max|ours − ref| / max(1, max|ref|) ≤ 1e-4.
import { describe, it, expect, beforeAll, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import { stockKernel, WASM_KERNELS } from '@trainhooks/backend/internal';
import { seededRandom } from '@trainhooks/cli/internal';
import {
  elementCount,
  expectWithinTolerance,
  randomInt,
  randomValues,
  useBackendWithKernels,
  type ConvPadding,
} from './kernel-test-helpers.js';
import { activeKernelPool } from '../../packages/backend/src/wasm-threads/active-kernel-pool.js';
import { FILTER_GRAD_FUNCTIONS } from '../../packages/backend/src/wasm-threads/filter-grad-wat.js';

const CONV_KERNELS = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
] as const;

type Rounding = 'floor' | 'round' | 'ceil' | undefined;

interface ConvCase {
  label: string;
  x: [number, number, number, number]; // NHWC
  kernel: [number, number];
  /** Output channels (conv) or channel multiplier (depthwise). */
  out: number;
  strides: [number, number];
  pad: ConvPadding;
  dimRoundingMode?: Rounding;
  dilations?: [number, number];
  dataFormat?: 'NHWC' | 'NCHW';
}

const toNchw = ([n, h, w, c]: readonly number[]) => [n, c, h, w];

/** Forward geometry of a case (NHWC), or null when the forward conv would have no output. */
function geometry(c: ConvCase, depthwise: boolean): tf.backend_util.Conv2DInfo | null {
  const filter: [number, number, number, number] = [...c.kernel, c.x[3], c.out];
  const info = tf.backend_util.computeConv2DInfo(c.x, filter, c.strides, c.dilations ?? 1, c.pad, c.dimRoundingMode, depthwise);
  return info.outHeight > 0 && info.outWidth > 0 ? info : null;
}

interface KernelRun {
  inputs: Record<string, { shape: number[]; data: Float32Array }>;
  attrs: tf.NamedAttrMap;
}

/** The inputs and attributes each gradient kernel receives for a case, as tfjs' gradient ops build them. */
function kernelRun(kernelName: (typeof CONV_KERNELS)[number], c: ConvCase, random: () => number): KernelRun | null {
  const depthwise = kernelName.startsWith('Depthwise');
  const info = geometry(c, depthwise);
  if (!info) return null;
  const nchw = c.dataFormat === 'NCHW';
  const xShape = nchw ? toNchw(c.x) : [...c.x];
  const dyShape = nchw ? toNchw(info.outShape) : [...info.outShape];
  const filterShape = [c.kernel[0], c.kernel[1], c.x[3], c.out];
  const tensor = (shape: number[]) => ({ shape, data: randomValues(random, elementCount(shape)) });
  const common = depthwise
    ? { strides: c.strides, pad: c.pad, dimRoundingMode: c.dimRoundingMode, dilations: c.dilations ?? [1, 1] }
    : { strides: c.strides, pad: c.pad, dimRoundingMode: c.dimRoundingMode, dataFormat: c.dataFormat ?? 'NHWC' };
  const attrs = (extra: Record<string, unknown>) => ({ ...common, ...extra }) as unknown as tf.NamedAttrMap;
  switch (kernelName) {
    case 'Conv2DBackpropFilter':
    case 'DepthwiseConv2dNativeBackpropFilter':
      return { inputs: { x: tensor(xShape), dy: tensor(dyShape) }, attrs: attrs({ filterShape }) };
    case 'Conv2DBackpropInput':
    case 'DepthwiseConv2dNativeBackpropInput':
      return { inputs: { dy: tensor(dyShape), filter: tensor(filterShape) }, attrs: attrs({ inputShape: xShape }) };
  }
}

/** Runs one kernel on a backend through the engine; returns its values and shape, frees everything. */
async function runOn(backend: string, kernelName: string, run: KernelRun) {
  await tf.setBackend(backend);
  const inputs: tf.NamedTensorMap = {};
  for (const [name, { shape, data }] of Object.entries(run.inputs)) inputs[name] = tf.tensor(data, shape);
  const dataIdsBefore = tf.engine().backend.numDataIds();
  const out = tf.engine().runKernel(kernelName, inputs, run.attrs) as tf.Tensor;
  const result = { shape: out.shape, data: out.dataSync() as Float32Array };
  out.dispose();
  const leaked = tf.engine().backend.numDataIds() - dataIdsBefore;
  tf.dispose(Object.values(inputs));
  return { ...result, leaked };
}

/**
 * tfjs-cpu's depthwise gradient kernels ignore `dilations` (tfjs' gradient never passes any), so for
 * dilated cases the reference is the undilated cpu kernel with the filter expanded to its effective
 * size (zeros between taps): same geometry, same gradient, read at the real taps.
 */
async function dilatedReference(kernelName: string, c: ConvCase, run: KernelRun) {
  const [dh, dw] = c.dilations!;
  const [kh, kw] = c.kernel;
  const [eh, ew] = [(kh - 1) * dh + 1, (kw - 1) * dw + 1];
  const channels = c.x[3] * c.out;
  const attrs = { ...run.attrs, dilations: [1, 1] } as tf.NamedAttrMap;
  if (kernelName === 'DepthwiseConv2dNativeBackpropFilter') {
    const full = await runOn('cpu', kernelName, { inputs: run.inputs, attrs: { ...attrs, filterShape: [eh, ew, c.x[3], c.out] } });
    const data = new Float32Array(kh * kw * channels);
    for (let i = 0; i < kh; i++)
      for (let j = 0; j < kw; j++)
        data.set(full.data.subarray(((i * dh) * ew + j * dw) * channels, ((i * dh) * ew + j * dw + 1) * channels), (i * kw + j) * channels);
    return { shape: [kh, kw, c.x[3], c.out], data };
  }
  const filter = run.inputs.filter;
  const expanded = new Float32Array(eh * ew * channels);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      expanded.set(filter.data.subarray((i * kw + j) * channels, (i * kw + j + 1) * channels), ((i * dh) * ew + j * dw) * channels);
  return runOn('cpu', kernelName, {
    inputs: { ...run.inputs, filter: { shape: [eh, ew, c.x[3], c.out], data: expanded } },
    attrs,
  });
}

async function expectMatchesCpu(kernelName: (typeof CONV_KERNELS)[number], c: ConvCase, random: () => number) {
  const run = kernelRun(kernelName, c, random);
  if (!run) throw new Error(`case ${c.label} has no forward output`);
  const dilated = (c.dilations ?? [1, 1]).some((d) => d > 1);
  const ref = dilated ? await dilatedReference(kernelName, c, run) : await runOn('cpu', kernelName, run);
  const ours = await runOn('wasm', kernelName, run);
  const context = `${kernelName} ${c.label}`;
  expect(ours.shape, context).toEqual(ref.shape);
  expect(ours.leaked, `${context}: intermediates left on the wasm backend`).toBe(0);
  expectWithinTolerance(ours.data, ref.data, context);
}

const describeCase = (c: Omit<ConvCase, 'label'>) =>
  `x ${c.x.join('×')} k ${c.kernel.join('×')} out ${c.out} s ${c.strides.join(',')} pad ${JSON.stringify(c.pad)}` +
  `${c.dimRoundingMode ? ` ${c.dimRoundingMode}` : ''}${c.dilations ? ` d ${c.dilations.join(',')}` : ''}` +
  `${c.dataFormat === 'NCHW' ? ' NCHW' : ''}`;

/** Random small cases that have a forward output; dilations only where tfjs allows them (stride 1). */
function randomCases(seed: number, count: number, depthwise: boolean): ConvCase[] {
  const random = seededRandom(seed);
  const int = (lo: number, hi: number) => randomInt(random, lo, hi);
  const cases: ConvCase[] = [];
  while (cases.length < count) {
    const x: [number, number, number, number] = [int(1, 3), int(1, 10), int(1, 10), int(1, 4)];
    const kernel: [number, number] = [int(1, 4), int(1, 4)];
    const strides: [number, number] = [int(1, 3), int(1, 3)];
    const padKind = int(0, 3);
    let pad: ConvPadding;
    let dimRoundingMode: Rounding;
    if (padKind === 0) pad = 'same';
    else if (padKind === 1) pad = 'valid';
    else if (padKind === 2) {
      pad = int(0, 2);
      dimRoundingMode = (['floor', 'round', 'ceil', undefined] as const)[int(0, 3)];
    } else {
      pad = [
        [0, 0],
        [int(0, 3), int(0, 3)],
        [int(0, 3), int(0, 3)],
        [0, 0],
      ];
    }
    let dilations: [number, number] | undefined;
    if (depthwise && random() < 0.25) {
      strides[0] = strides[1] = 1;
      dilations = [int(1, 2), int(1, 3)];
    }
    const c = { x, kernel, out: int(1, depthwise ? 3 : 4), strides, pad, dimRoundingMode, dilations };
    if (!geometry({ ...c, label: '' }, depthwise)) continue;
    cases.push({ ...c, label: describeCase(c) });
  }
  return cases;
}

const edge = (c: Omit<ConvCase, 'label'>, what: string): ConvCase => ({ ...c, label: `${what}: ${describeCase(c)}` });

const EDGE_CASES: ConvCase[] = [
  edge({ x: [2, 6, 6, 3], kernel: [1, 1], out: 4, strides: [1, 1], pad: 'valid' }, '1×1 kernel'),
  edge({ x: [2, 7, 5, 3], kernel: [1, 1], out: 2, strides: [2, 2], pad: 'same' }, '1×1 kernel, stride 2'),
  edge({ x: [1, 9, 9, 2], kernel: [3, 3], out: 3, strides: [1, 1], pad: 'same' }, 'batch 1'),
  edge({ x: [1, 7, 11, 3], kernel: [3, 3], out: 2, strides: [2, 2], pad: 'same' }, 'batch 1, odd sizes, stride 2'),
  edge({ x: [3, 9, 7, 1], kernel: [3, 3], out: 5, strides: [1, 1], pad: 'valid' }, 'odd sizes, 1 input channel'),
  edge({ x: [2, 10, 9, 2], kernel: [2, 2], out: 3, strides: [3, 3], pad: 'valid' }, 'stride > kernel'),
  edge({ x: [2, 11, 10, 2], kernel: [1, 2], out: 3, strides: [4, 3], pad: 'same' }, 'stride > kernel, same'),
  edge({ x: [2, 8, 9, 3], kernel: [3, 1], out: 2, strides: [1, 1], pad: 'same' }, 'non-square kernel 3×1'),
  edge({ x: [2, 8, 9, 3], kernel: [2, 4], out: 2, strides: [2, 1], pad: 'valid' }, 'non-square kernel and strides'),
  edge({ x: [2, 9, 8, 2], kernel: [3, 3], out: 3, strides: [1, 3], pad: 'same' }, 'non-square strides'),
  edge({ x: [2, 8, 8, 2], kernel: [3, 3], out: 2, strides: [2, 2], pad: 'valid' }, 'valid, stride 2, leftover row'),
  edge({ x: [2, 6, 7, 2], kernel: [3, 2], out: 3, strides: [1, 1], pad: 1 }, 'numeric pad'),
  edge({ x: [2, 9, 8, 2], kernel: [3, 3], out: 2, strides: [2, 2], pad: 2, dimRoundingMode: 'ceil' }, 'numeric pad, ceil'),
  edge({ x: [2, 9, 8, 2], kernel: [2, 3], out: 2, strides: [2, 3], pad: 1, dimRoundingMode: 'floor' }, 'numeric pad, floor'),
  edge(
    { x: [1, 8, 8, 2], kernel: [2, 2], out: 3, strides: [1, 1], pad: [[0, 0], [3, 1], [0, 4], [0, 0]] },
    'explicit pads larger than the kernel',
  ),
  edge(
    { x: [2, 7, 6, 2], kernel: [3, 2], out: 2, strides: [2, 2], pad: [[0, 0], [2, 0], [1, 3], [0, 0]] },
    'explicit asymmetric pads, stride 2',
  ),
  edge(
    { x: [1, 2, 2, 1], kernel: [1, 1], out: 1, strides: [1, 1], pad: [[0, 0], [3, 3], [3, 3], [0, 0]] },
    'outputs that read padding only',
  ),
  edge(
    { x: [1, 1, 3, 1], kernel: [1, 1], out: 1, strides: [3, 3], pad: [[0, 0], [2, 2], [2, 2], [0, 0]] },
    'no window touches the input rows',
  ),
];

const CONV_ONLY_CASES: ConvCase[] = [
  edge({ x: [2, 7, 6, 3], kernel: [3, 2], out: 4, strides: [1, 1], pad: 'same', dataFormat: 'NCHW' }, 'NCHW'),
  edge({ x: [2, 9, 8, 2], kernel: [3, 3], out: 3, strides: [2, 3], pad: 'valid', dataFormat: 'NCHW' }, 'NCHW, strided'),
];

const DEPTHWISE_ONLY_CASES: ConvCase[] = [
  edge({ x: [2, 9, 8, 3], kernel: [3, 3], out: 1, strides: [1, 1], pad: 'same', dilations: [2, 2] }, 'dilation 2'),
  edge({ x: [2, 9, 10, 2], kernel: [2, 3], out: 3, strides: [1, 1], pad: 'valid', dilations: [3, 2] }, 'non-square dilation, multiplier 3'),
  edge({ x: [2, 8, 8, 4], kernel: [3, 3], out: 4, strides: [2, 2], pad: 'same' }, 'channel multiplier 4, stride 2'),
];

/** Cases the kernel pool's filter gradient takes: NHWC, output channels a multiple of 8 (tiles 4 × 8, 1 × 16, 1 × 8). */
const POOL_FILTER_GRAD_CASES: ConvCase[] = [
  edge({ x: [2, 9, 8, 4], kernel: [3, 3], out: 8, strides: [1, 1], pad: 'valid' }, 'valid'),
  edge({ x: [3, 9, 10, 8], kernel: [3, 3], out: 16, strides: [1, 1], pad: 'same' }, 'same'),
  edge({ x: [2, 11, 9, 4], kernel: [3, 2], out: 8, strides: [2, 2], pad: 'same' }, 'stride 2, same, odd sizes'),
  edge({ x: [2, 8, 8, 12], kernel: [1, 1], out: 8, strides: [2, 2], pad: 'valid' }, '1×1 projection, stride 2'),
  edge({ x: [1, 7, 6, 4], kernel: [2, 3], out: 8, strides: [2, 3], pad: 2, dimRoundingMode: 'ceil' }, 'numeric pad, ceil'),
  edge({ x: [2, 10, 9, 4], kernel: [2, 4], out: 8, strides: [3, 1], pad: 'valid' }, 'stride > kernel, leftover rows'),
  edge(
    { x: [1, 8, 8, 4], kernel: [2, 2], out: 8, strides: [1, 1], pad: [[0, 0], [3, 1], [0, 4], [0, 0]] },
    'explicit pads larger than the kernel',
  ),
  edge(
    { x: [1, 1, 3, 4], kernel: [1, 1], out: 8, strides: [3, 3], pad: [[0, 0], [2, 2], [2, 2], [0, 0]] },
    'no window touches the input rows',
  ),
  edge({ x: [2, 10, 10, 1], kernel: [3, 3], out: 32, strides: [1, 1], pad: 'valid' }, 'one input channel (1 × 16 tile)'),
  edge({ x: [2, 9, 8, 3], kernel: [3, 3], out: 16, strides: [2, 2], pad: 'same' }, 'three input channels, stride 2 (1 × 16 tile)'),
  edge({ x: [2, 7, 9, 2], kernel: [2, 3], out: 8, strides: [1, 1], pad: 'same' }, 'two input channels (1 × 8 tile)'),
  edge({ x: [2, 7, 9, 6], kernel: [3, 3], out: 24, strides: [1, 1], pad: 'valid' }, 'six input channels (1 × 8 tile)'),
  // 16·14·14·9·16·32 multiply-adds: over FILTER_GRAD_SPLIT_MIN_MACS, so split by images with threads.
  edge({ x: [17, 14, 14, 16], kernel: [3, 3], out: 32, strides: [1, 1], pad: 'same' }, 'large enough to split, odd batch'),
];

beforeAll(async () => {
  await tf.setBackend('cpu');
  await useBackendWithKernels('wasm', WASM_KERNELS);
});

describe('wasm conv kernels: registration', () => {
  it('registers all four gradient kernels for wasm, replacing only the stock Conv2DBackpropInput', () => {
    for (const name of CONV_KERNELS) {
      const ours = WASM_KERNELS.find((k) => k.kernelName === name && k.backendName === 'wasm');
      expect(ours, name).toBeDefined();
      expect(tf.getKernel(name, 'wasm')?.kernelFunc, name).toBe(ours!.kernelFunc);
    }
    expect(stockKernel('Conv2DBackpropInput', 'wasm')).toBeDefined();
    expect(stockKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
  });
});

describe.each(CONV_KERNELS)('%s on wasm matches tfjs-cpu', (kernelName) => {
  const depthwise = kernelName.startsWith('Depthwise');
  const seed = 1000 + CONV_KERNELS.indexOf(kernelName);
  const extra = depthwise ? DEPTHWISE_ONLY_CASES : CONV_ONLY_CASES;

  it('on 40 random shapes', async () => {
    const random = seededRandom(seed * 7);
    for (const c of randomCases(seed, 40, depthwise)) await expectMatchesCpu(kernelName, c, random);
  });

  it.each([...EDGE_CASES, ...extra].map((c) => [c.label, c] as const))('%s', async (_label, c) => {
    await expectMatchesCpu(kernelName, c, seededRandom(seed * 13));
  });
});

describe('Conv2DBackpropFilter on the kernel pool', () => {
  it.each(POOL_FILTER_GRAD_CASES.map((c) => [c.label, c] as const))('%s: runs in the pool and matches tfjs-cpu', async (_label, c) => {
    const pool = activeKernelPool()!;
    const run = vi.spyOn(pool, 'run');
    try {
      await expectMatchesCpu('Conv2DBackpropFilter', c, seededRandom(77));
      const call = run.mock.calls.find(([name]) => FILTER_GRAD_FUNCTIONS.includes(name));
      expect(call, 'a call of the pool filter gradient').toBeDefined();
      // One part per thread for the large case (split by images), one otherwise.
      expect(call![1].length).toBe(c.label.startsWith('large') ? pool.threads : 1);
    } finally {
      run.mockRestore();
    }
  });

  it('sums per image before adding to dW: a whole batch equals the sum of its micro-batches to within 1e-6', async () => {
    await tf.setBackend('wasm');
    for (const ci of [1, 8]) {
      const random = seededRandom(90 + ci);
      const x = tf.tensor(randomValues(random, 16 * 28 * 28 * ci), [16, 28, 28, ci]);
      const dy = tf.tensor(randomValues(random, 16 * 26 * 26 * 32), [16, 26, 26, 32]);
      const filterGrad = (a: tf.Tensor, b: tf.Tensor) =>
        tf.engine().runKernel('Conv2DBackpropFilter', { x: a, dy: b }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', filterShape: [3, 3, ci, 32] } as unknown as tf.NamedAttrMap) as tf.Tensor;
      const whole = tf.tidy(() => filterGrad(x, dy).dataSync());
      const parts = new Float32Array(whole.length);
      for (let m = 0; m < 4; m++) {
        const part = tf.tidy(() => filterGrad(tf.slice(x, [4 * m], [4]), tf.slice(dy, [4 * m], [4])).dataSync());
        part.forEach((value, i) => (parts[i] += value));
      }
      const largest = Math.max(...Array.from(whole, Math.abs));
      const worst = Math.max(...Array.from(whole, (value, i) => Math.abs(value - parts[i]!)));
      // A running total that took each product one by one measured 3e-6 here (and broke the pipeline's equivalence).
      expect(worst / largest, `${ci} input channels`).toBeLessThan(1e-6);
      tf.dispose([x, dy]);
    }
  });

  it('leaves NCHW to the XNNPACK route', async () => {
    const pool = activeKernelPool()!;
    const run = vi.spyOn(pool, 'run');
    try {
      await expectMatchesCpu('Conv2DBackpropFilter', edge({ x: [2, 9, 8, 4], kernel: [3, 3], out: 8, strides: [1, 1], pad: 'same', dataFormat: 'NCHW' }, 'NCHW'), seededRandom(78));
      expect(run.mock.calls.filter(([name]) => FILTER_GRAD_FUNCTIONS.includes(name))).toEqual([]);
    } finally {
      run.mockRestore();
    }
  });
});

describe('wasm conv kernels: errors', () => {
  it('refuses strides > 1 together with dilations > 1, naming both', async () => {
    await tf.setBackend('wasm');
    const x = tf.ones([1, 6, 6, 2]);
    const dy = tf.ones([1, 3, 3, 2]);
    try {
      expect(() =>
        tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, {
          strides: [2, 2],
          dilations: [2, 2],
          pad: 'same',
          filterShape: [3, 3, 2, 1],
        } as unknown as tf.NamedAttrMap),
      ).toThrow(/strides.*dilations/);
    } finally {
      tf.dispose([x, dy]);
    }
  });
});

describe('end to end: tfjs-layers conv model', () => {
  /** Conv (fused, same), strided non-square conv (valid), strided depthwise (multiplier 2), dense. */
  function createModel(): tfl.Sequential {
    const init = (seed: number) => tfl.initializers.glorotNormal({ seed });
    const model = tfl.sequential();
    model.add(
      tfl.layers.conv2d({
        inputShape: [9, 9, 2],
        filters: 4,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: init(1),
        biasInitializer: 'ones',
      }),
    );
    model.add(tfl.layers.conv2d({ filters: 3, kernelSize: [2, 3], strides: [2, 1], padding: 'valid', kernelInitializer: init(2) }));
    model.add(
      tfl.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, strides: 2, padding: 'same', depthwiseInitializer: init(3) }),
    );
    model.add(tfl.layers.flatten());
    model.add(tfl.layers.dense({ units: 5, kernelInitializer: init(4) }));
    return model;
  }

  async function gradients(backend: string, model: tfl.Sequential, x: tf.Tensor, y: tf.Tensor) {
    await tf.setBackend(backend);
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(
      () => tf.losses.meanSquaredError(y, model.apply(x) as tf.Tensor) as tf.Scalar,
      variables,
    );
    const result = variables.map((v) => ({ name: v.name, data: grads[v.name].dataSync() as Float32Array }));
    tf.dispose([value, ...Object.values(grads)]);
    return result;
  }

  it('gradients on wasm + our kernels equal those on cpu within 1e-4', async () => {
    await tf.setBackend('cpu');
    const model = createModel();
    const random = seededRandom(99);
    const x = tf.tensor(randomValues(random, 3 * 9 * 9 * 2), [3, 9, 9, 2]);
    const y = tf.tensor(randomValues(random, 3 * 5), [3, 5]);
    try {
      const ref = await gradients('cpu', model, x, y);
      const ours = await gradients('wasm', model, x, y);
      expect(ours.map((g) => g.name)).toEqual(ref.map((g) => g.name));
      expect(ref.length).toBe(8); // kernel + bias of conv, conv, depthwise, dense
      for (let i = 0; i < ref.length; i++) {
        expect(Math.max(...ref[i].data.map(Math.abs)), `${ref[i].name} is all zeros`).toBeGreaterThan(0);
        expectWithinTolerance(ours[i].data, ref[i].data, ref[i].name);
      }
    } finally {
      tf.dispose([x, y]);
      model.dispose();
    }
  });
});
