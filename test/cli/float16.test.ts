// float16 weights: the encoder core-hooks shares with act-cache (round to nearest even, as tfjs' decoder expects) and model files saved with it.
import '@tensorflow/tfjs-backend-cpu';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeHalf, toHalf } from '@trainhooks/core-hooks/internal';
import { loadModelFile, modelFileInputShape, saveModelFiles } from '@trainhooks/cli/internal';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

/** An independent float16 decoder (IEEE 754 binary16). */
function halfValue(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

const hex = (bits: number) => `0x${bits.toString(16).padStart(4, '0')}`;

describe('toHalf', () => {
  it.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [0, 0x0000],
    [-0, 0x8000],
    [0.1, 0x2e66],
    [1 / 3, 0x3555],
    [65504, 0x7bff], // the largest finite half
    [-65504, 0xfbff],
    [65519, 0x7bff], // below the midpoint to 65536: stays finite
    [65520, 0x7c00], // the midpoint, 0x7bff is odd: rounds up, into Infinity
    [70000, 0x7c00],
    [-70000, 0xfc00],
    [1e30, 0x7c00],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [2 ** -14, 0x0400], // the smallest normal
    [1023 * 2 ** -24, 0x03ff], // the largest subnormal
    [1023.5 * 2 ** -24, 0x0400], // a tie between 0x03ff and 0x0400: to even, into the normals
    [2 ** -24, 0x0001], // the smallest subnormal
    [-(2 ** -24), 0x8001],
    [5 * 2 ** -24, 0x0005],
    [2 ** -25, 0x0000], // a tie between 0 and 2^-24: to even (0)
    [-(2 ** -25), 0x8000],
    [1.5 * 2 ** -25, 0x0001], // above the midpoint
    [3 * 2 ** -25, 0x0002], // a tie between 1 and 2 (× 2^-24): to even
    [5 * 2 ** -25, 0x0002], // a tie between 2 and 3: to even
    [2 ** -26, 0x0000],
    [1e-10, 0x0000],
    [1 + 2 ** -11, 0x3c00], // a tie between 0x3c00 and 0x3c01: to even
    [1 + 3 * 2 ** -11, 0x3c02], // a tie between 0x3c01 and 0x3c02: to even
    [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above the tie
    [1 + 2 ** -11 - 2 ** -20, 0x3c00], // just below it
    [2049, 0x6800], // a tie between 2048 and 2050: to even
    [2051, 0x6802], // a tie between 2050 and 2052: to even
    [2 - 2 ** -12, 0x4000], // rounds up across the exponent: the mantissa's carry makes 2
  ])('%d → %s', (value, bits) => {
    expect(hex(toHalf(value))).toBe(hex(bits));
  });

  it('keeps NaN a NaN (exponent all ones, mantissa not zero), of either sign', () => {
    for (const nan of [NaN, -NaN, new Float32Array(new Uint32Array([0x7f800001]).buffer)[0]!]) {
      const bits = toHalf(nan);
      expect(bits & 0x7c00).toBe(0x7c00);
      expect(bits & 0x03ff).not.toBe(0);
      expect(Number.isNaN(halfValue(bits))).toBe(true);
    }
  });

  it('gives the nearest half for every value (ties to even), checked against its neighbours', () => {
    const values = new Float32Array(20_000);
    let state = 12345;
    const next = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < values.length; i++) values[i] = (next() - 0.5) * 2 ** (Math.floor(next() * 44) - 26);
    const halves = encodeHalf(values);
    expect(halves).toBeInstanceOf(Uint16Array);
    expect(halves).toHaveLength(values.length);
    values.forEach((value, i) => {
      const bits = halves[i]!;
      expect(bits).toBe(toHalf(value));
      if ((bits & 0x7fff) === 0x7c00) {
        // Infinity only from the midpoint between 65504 and 65536 up.
        expect(Math.abs(value)).toBeGreaterThanOrEqual(65520);
        return;
      }
      expect(Math.abs(value)).toBeLessThan(65520);
      const error = Math.abs(halfValue(bits) - value);
      // No other half of the same sign is nearer (bits ± 1 are the neighbours along the number line).
      for (const neighbour of [bits - 1, bits + 1]) {
        if ((neighbour & 0x7fff) >= 0x7c00 || (neighbour & 0x8000) !== (bits & 0x8000)) continue;
        const other = Math.abs(halfValue(neighbour) - value);
        expect(error <= other).toBe(true);
        if (error === other) expect(bits & 1).toBe(0);
      }
    });
  });

  it("decodes through tfjs' own float16 weight decoder to the same values", async () => {
    const values = new Float32Array([1, -2, 65504, 70000, 0.1, 2 ** -24, 3 * 2 ** -25, -0.333, 1e-5, 123.456]);
    const [decoded] = Object.values(
      tf.io.decodeWeights(encodeHalf(values).buffer as ArrayBuffer, [{ name: 'w', shape: [values.length], dtype: 'float32', quantization: { dtype: 'float16' } }]),
    );
    const got = await decoded!.data();
    expect([...got]).toEqual([...encodeHalf(values)].map(halfValue));
    decoded!.dispose();
  });
});

/** A small functional model with a conv, BatchNorm (non-trainable weights) and dense layers. */
function functionalModel(): tfl.LayersModel {
  const input = tfl.input({ shape: [28, 28, 1] });
  let x = tfl.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.batchNormalization().apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.flatten().apply(x) as tfl.SymbolicTensor;
  const output = tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output });
}

function sequentialModel(): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [784], units: 16, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }), biasInitializer: tfl.initializers.randomNormal({ seed: 4, stddev: 0.5 }) }),
      tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 5 }) }),
    ],
  });
}

describe('saveModelFiles / loadModelFile', () => {
  it('round-trips float16 weights within half-precision error, in half the bytes', async () => {
    for (const model of [sequentialModel(), functionalModel()]) {
      const root = mkdtempSync(join(tmpdir(), 'trainhooks-f16-'));
      // Non-default moving statistics, so the non-trainable weights are checked too.
      const weights = model.getWeights().map((w, i) => tf.tidy(() => tf.add(w, tf.randomNormal(w.shape, 0, 0.3, 'float32', 10 + i))));
      model.setWeights(weights);
      const full = await saveModelFiles(model, join(root, 'f32'));
      const half = await saveModelFiles(model, join(root, 'f16'), { weightDtype: 'float16' });
      const floats = weights.reduce((sum, w) => sum + w.size, 0);
      expect(full).toBe(floats * 4);
      expect(half).toBe(floats * 2);
      expect(statSync(join(root, 'f32', 'weights.bin')).size).toBe(full);
      expect(statSync(join(root, 'f16', 'weights.bin')).size).toBe(half);

      const manifest = JSON.parse(readFileSync(join(root, 'f16', 'model.json'), 'utf8')) as { weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }> };
      expect(manifest.weightsManifest[0]!.paths).toEqual(['weights.bin']);
      for (const spec of manifest.weightsManifest[0]!.weights) expect(spec.quantization).toEqual({ dtype: 'float16' });

      const exact = await loadModelFile(join(root, 'f32', 'model.json'));
      const loaded = await loadModelFile(join(root, 'f16', 'model.json'));
      expect(loaded.layers.map((l) => l.getClassName())).toEqual(model.layers.map((l) => l.getClassName()));
      const [original, fromFull, fromHalf] = [model, exact, loaded].map((m) => m.getWeights().map((w) => w.dataSync() as Float32Array));
      expect(fromHalf).toHaveLength(original!.length);
      original!.forEach((values, i) => {
        expect(Buffer.from(fromFull![i]!.buffer).equals(Buffer.from(values.buffer))).toBe(true);
        // Exactly the nearest halves, so within half an ulp: 2^-11 relative (2^-25 absolute among the subnormals).
        expect([...fromHalf![i]!]).toEqual([...encodeHalf(values)].map(halfValue));
        values.forEach((value, j) => expect(Math.abs(fromHalf![i]![j]! - value)).toBeLessThanOrEqual(Math.max(Math.abs(value) * 2 ** -11, 2 ** -25)));
      });
      // And the model computes (nearly) the same function.
      const x = tf.randomUniform([2, ...(model.inputs[0]!.shape.slice(1) as number[])], 0, 1, 'float32', 7);
      const [a, b] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
      expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!).toBeLessThan(1e-2);
      tf.dispose([x, a, b, ...weights]);
      [model, exact, loaded].forEach((m) => m.dispose());
    }
  });
});

describe('modelFileInputShape', () => {
  it('reads the declared input shape of a Sequential and of a functional model', async () => {
    const root = mkdtempSync(join(tmpdir(), 'trainhooks-shape-'));
    await saveModelFiles(sequentialModel(), join(root, 'sequential'));
    await saveModelFiles(functionalModel(), join(root, 'functional'));
    expect(modelFileInputShape(join(root, 'sequential', 'model.json'))).toEqual([null, 784]);
    expect(modelFileInputShape(join(root, 'functional', 'model.json'))).toEqual([null, 28, 28, 1]);
  });
});
